"""A NetSuite REST Web Services client: token-based auth, retries, a concurrency limiter, plain errors.

This module knows HTTP and NetSuite's REST contract (SPEC section 3) and nothing of Django: it takes a
frozen ``NetSuiteConfig`` and an optional limiter object, and raises the exceptions of ``errors``.

Why retries are written here and not left to urllib3's ``Retry``: every attempt must be signed again
(OAuth 1.0 nonces are single-use, so urllib3 resending the same signed request would be refused as a
replay), and the concurrency slot must be given back while waiting, so another request can use it.

A request holds its concurrency slot until NetSuite has finished it, not until the client stops waiting:
NetSuite goes on with a request whose client gave up, and it still counts against the account's limit. So each
request is carried by a thread of its own (``_Carriers``) that holds the slot, sends, and reads the answer with
NetSuite's own time limit (``server_time_limit``, 15 minutes); the caller waits ``timeout`` for it and, past that,
reports a timeout and may retry with another slot while the first one is held until its answer arrives, NetSuite
closes the connection, or NetSuite's limit has passed.
"""

from __future__ import annotations

import email.utils
import json
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import requests
import urllib3
from requests_oauthlib import OAuth1

from .errors import (
    CONNECTION_DROPPED,
    INVALID_EXTERNAL_ID,
    MALFORMED_RESPONSE,
    MISSING_LOCATION,
    NETWORK_ERROR,
    REQUEST_FAILED,
    TIMEOUT,
    TLS_ERROR,
    UNKNOWN_HOST,
    BadResponse,
    NetSuiteError,
    RetryableError,
    ValidationError,
    error_from_answer,
    snippet,
)

SIGNATURE_METHOD = "HMAC-SHA256"
SUITEQL_MAX_LIMIT = 1000
# NetSuite answers at most this many rows by offset; beyond it, page by key (id > last).
SUITEQL_MAX_OFFSET_ROWS = 100_000
EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def account_host_part(account_id: str) -> str:
    """Return the account ID as NetSuite writes it in host names (``1234567_SB1`` → ``1234567-sb1``)."""
    return account_id.strip().lower().replace("_", "-")


def account_realm(account_id: str) -> str:
    """Return the account ID as the OAuth realm (``1234567-sb1`` → ``1234567_SB1``)."""
    return account_id.strip().upper().replace("-", "_")


def default_base_url(account_id: str) -> str:
    """Return the REST base URL of a NetSuite account."""
    return f"https://{account_host_part(account_id)}.suitetalk.api.netsuite.com/services/rest"


@dataclass(frozen=True)
class NetSuiteConfig:
    """Everything the client needs to talk to one NetSuite account; secrets never appear in repr()."""

    account_id: str
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    token_id: str = field(repr=False)
    token_secret: str = field(repr=False)
    base_url: str = ""
    timeout: float = 30.0
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    # A longer Retry-After than this is cut short; the record will fail and be retried by the next run.
    retry_after_max: float = 60.0
    pool_size: int = 20
    # NetSuite times a request out after 15 minutes (Oracle: "Concurrency Governance and Session Management"): a
    # request the client stopped waiting for holds its slot at most this long.
    server_time_limit: float = 900.0

    @property
    def rest_url(self) -> str:
        return (self.base_url or default_base_url(self.account_id)).rstrip("/")

    @property
    def realm(self) -> str:
        return account_realm(self.account_id)


class Limiter(Protocol):
    """Something that hands out request slots; ``slot()`` blocks until one is free."""

    def slot(self) -> AbstractContextManager[Any]: ...


class UnlimitedLimiter:
    """No limit at all (tests of the client on its own, one-off scripts)."""

    def slot(self) -> AbstractContextManager[Any]:
        return nullcontext()


class ThreadLimiter:
    """At most ``share`` requests in flight from this process."""

    def __init__(self, share: int):
        self._semaphore = threading.BoundedSemaphore(max(1, share))

    def slot(self) -> AbstractContextManager[Any]:
        return self._semaphore


# ---- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteResult:
    """A customer written to NetSuite: its internal ID (from the ``Location`` header)."""

    internal_id: str
    location: str


@dataclass(frozen=True)
class QueryPage:
    items: list[dict]
    has_more: bool
    total: int | None


@dataclass(frozen=True)
class Answer:
    """NetSuite's answer to one request, read to its end: what the rest of the client looks at."""

    status: int
    headers: requests.structures.CaseInsensitiveDict
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def date(self) -> datetime | None:
        """NetSuite's clock when it answered (the ``Date`` header), or None."""
        try:
            return email.utils.parsedate_to_datetime(self.headers.get("Date", ""))
        except (TypeError, ValueError):
            return None


def location_result(location: str, what: str, *, status: int | None = None) -> WriteResult:
    """Read a record's internal ID from its URL (a write's ``Location``, or an async task's result link)."""
    match = re.search(r"/([^/]+)/?$", location)
    internal_id = match.group(1) if match else ""
    if not internal_id or not internal_id.isdigit():
        raise BadResponse(
            MISSING_LOCATION,
            f"NetSuite accepted {what} but did not return its internal ID (Location header "
            f"{location or 'missing'!s}). It is sent again on the next run; "
            "the write is repeated safely by external ID.",
            status=status,
        )
    return WriteResult(internal_id=internal_id, location=location)


class _Carriers:
    """Daemon threads that carry requests (see the module's docstring), started as needed and reused when idle.

    Daemon threads, so a process may end while NetSuite still holds a request (nothing waits 15 minutes at exit).
    """

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        self._tasks.put((future, fn, args))
        if not self._idle.acquire(blocking=False):
            threading.Thread(target=self._work, name="netsuite-request", daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            future, fn, args = self._tasks.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # the caller sees it through the future
                    future.set_exception(exc)
            self._idle.release()


_CARRIERS = _Carriers()
COLLECTION_TYPE = "application/vnd.oracle.resource+json; type=collection"


# ---- the client ---------------------------------------------------------------------------------


class NetSuiteClient:
    """Talk to one NetSuite account; safe to share between threads (HTTP sessions are pooled)."""

    def __init__(
        self,
        config: NetSuiteConfig,
        *,
        limiter: Limiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not config.timeout or config.timeout <= 0:
            raise ValueError("A NetSuite client needs a request timeout.")
        self.config = config
        self.limiter = limiter or UnlimitedLimiter()
        self._sleep = sleep
        self._sessions: queue.LifoQueue[requests.Session] = queue.LifoQueue()
        self._send_settings: dict | None = None
        self._auth = OAuth1(
            config.consumer_key,
            client_secret=config.consumer_secret,
            resource_owner_key=config.token_id,
            resource_owner_secret=config.token_secret,
            signature_method=SIGNATURE_METHOD,
            realm=config.realm,
        )

    def __repr__(self) -> str:
        return f"<NetSuiteClient {self.config.realm} {self.config.rest_url}>"

    # -- plumbing --

    def _take_session(self) -> requests.Session:
        try:
            return self._sessions.get_nowait()
        except queue.Empty:
            pass
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=self.config.pool_size, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        if self._send_settings is None:
            # Proxy and CA settings from the environment, read once: requests would scan the whole environment
            # on every call, which costs more than signing. Every request goes to the same host.
            self._send_settings = session.merge_environment_settings(self.config.rest_url, {}, None, None, None)
        return session

    def close(self) -> None:
        while True:
            try:
                self._sessions.get_nowait().close()
            except queue.Empty:
                return

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        # Exponential with full jitter, never shorter than what NetSuite asked for.
        wait = random.uniform(0, min(self.config.backoff_max, self.config.backoff_base * (2**attempt)))
        wait = max(wait, self.config.backoff_base * (attempt + 1) / 2)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.config.retry_after_max))
        return wait

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json_body: Any = None,
        headers: dict | None = None,
        content_type: str = "application/json",
        retry: bool = True,
    ) -> Answer:
        """Send one signed request, retrying retryable failures with increasing, jittered waits."""
        attempts = 1 + (self.config.max_retries if retry else 0)
        for attempt in range(attempts):
            try:
                return self._send_once(method, path, params, json_body, headers, content_type)
            except RetryableError as exc:
                if attempt + 1 >= attempts:
                    if attempts > 1:
                        exc.message += f" Gave up after {attempts} attempts."
                    raise
                self._sleep(self._backoff(attempt, exc.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, method, path, params, json_body, headers, content_type) -> Answer:
        url = path if path.startswith(("http://", "https://")) else self.config.rest_url + path
        host = url.split("/")[2] if "//" in url else url
        all_headers = {"Accept": "application/json", "User-Agent": "customer-sync-portal/1", **(headers or {})}
        data = None
        if json_body is not None:
            data = json.dumps(json_body, separators=(",", ":")).encode()
            all_headers["Content-Type"] = content_type
        # Sign before taking a slot: the slot is held only while the request is in NetSuite's hands.
        prepared = requests.Request(method, url, params=params, data=data, headers=all_headers, auth=self._auth)
        prepared = prepared.prepare()
        slot = self.limiter.slot()
        slot.__enter__()
        try:
            carried = _CARRIERS.submit(self._carry, prepared, slot)
        except BaseException:
            slot.__exit__(None, None, None)
            raise
        try:
            answer = carried.result(timeout=self.config.timeout)
        except FutureTimeout:
            raise RetryableError(
                TIMEOUT,
                f"NetSuite ({host}) did not answer within {self.config.timeout:g} seconds. It may still do the "
                "request (its concurrency slot stays taken until it has); a write is repeated safely by external ID.",
            ) from None
        except requests.exceptions.RequestException as exc:
            raise _transport_error(exc, host, self.config.timeout) from None
        if answer.status >= 400:
            try:
                body = answer.json()
            except ValueError:
                body = None
            raise error_from_answer(answer.status, body, text=answer.text, headers=answer.headers)
        if 300 <= answer.status < 400:
            raise BadResponse(
                f"HTTP_{answer.status}",
                f"NetSuite redirected the request to {answer.headers.get('Location', '(nowhere)')}; "
                "check the account ID and the base URL.",
                status=answer.status,
            )
        return answer

    def _carry(self, prepared: requests.PreparedRequest, slot: AbstractContextManager) -> Answer:
        """Send and read the answer to its end, holding the slot throughout (runs in a carrier thread)."""
        session = self._take_session()
        try:
            response = session.send(
                prepared,
                timeout=(self.config.timeout, self.config.server_time_limit),
                allow_redirects=False,
                **self._send_settings,
            )
            # Read the body inside the slot: the request is in flight until its answer has arrived.
            return Answer(response.status_code, response.headers, response.content)
        finally:
            self._sessions.put(session)
            slot.__exit__(None, None, None)

    @staticmethod
    def _json(answer: Answer, what: str) -> Any:
        try:
            return answer.json()
        except ValueError:
            raise BadResponse(
                MALFORMED_RESPONSE,
                f"NetSuite's answer to {what} is not valid JSON "
                f"({answer.headers.get('Content-Type', 'no content type')}: {snippet(answer.text, 120)!r}). "
                "Nothing was changed locally; the call will be repeated on the next run.",
                status=answer.status,
            ) from None

    # -- records --

    @staticmethod
    def _replace(replace: Sequence[str]) -> dict | None:
        # "?replace=addressBook": the lines sent replace the sublist; without it NetSuite appends them.
        return {"replace": ",".join(replace)} if replace else None

    def _upsert(self, record_type: str, external_id: str, body: dict, replace: Sequence[str]) -> WriteResult:
        check_external_id(external_id)
        answer = self.request(
            "PUT", f"/record/v1/{record_type}/eid:{quote(external_id)}", params=self._replace(replace), json_body=body
        )
        what = f"{record_type} {external_id}"
        return location_result(answer.headers.get("Location", ""), what, status=answer.status)

    def upsert_customer(self, external_id: str, body: dict, *, replace: Sequence[str] = ()) -> WriteResult:
        """Create or update the customer with this external ID (``PUT eid:``); safe to repeat."""
        return self._upsert("customer", external_id, body, replace)

    def upsert_contact(self, external_id: str, body: dict) -> WriteResult:
        """Create or update the contact with this external ID (``PUT eid:``); safe to repeat."""
        return self._upsert("contact", external_id, body, ())

    def update_customer(self, internal_id: str, body: dict, *, replace: Sequence[str] = ()) -> WriteResult:
        """Update the customer with this internal ID (``PATCH``); safe to repeat."""
        answer = self.request(
            "PATCH", f"/record/v1/customer/{quote(str(internal_id))}", params=self._replace(replace), json_body=body
        )
        location = answer.headers.get("Location") or f"{self.config.rest_url}/record/v1/customer/{internal_id}"
        return WriteResult(internal_id=str(internal_id), location=location)

    def get_customer(self, internal_id: str) -> dict:
        """Read one customer by internal ID (or ``eid:<external ID>``)."""
        answer = self.request("GET", f"/record/v1/customer/{quote(str(internal_id), safe=':')}")
        body = self._json(answer, f"reading customer {internal_id}")
        if not isinstance(body, dict):
            raise BadResponse(MALFORMED_RESPONSE, f"NetSuite's answer for customer {internal_id} is not a record.")
        return body

    # -- SuiteQL --

    def suiteql_page(self, query: str, *, limit: int = SUITEQL_MAX_LIMIT, offset: int = 0) -> QueryPage:
        """Run one page of a SuiteQL query."""
        if not 1 <= limit <= SUITEQL_MAX_LIMIT:
            raise ValueError(f"SuiteQL limit must be between 1 and {SUITEQL_MAX_LIMIT}.")
        if offset % limit:
            raise ValueError("SuiteQL offset must be a multiple of the limit.")
        answer = self.request(
            "POST",
            "/query/v1/suiteql",
            params={"limit": limit, "offset": offset},
            json_body={"q": query},
            headers={"Prefer": "transient"},
        )
        body = self._json(answer, "a SuiteQL query")
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise BadResponse(
                MALFORMED_RESPONSE,
                "NetSuite's answer to a SuiteQL query has no list of items; nothing was changed locally.",
                status=answer.status,
            )
        items = [{k: v for k, v in item.items() if k != "links"} for item in body["items"] if isinstance(item, dict)]
        total = body.get("totalResults")
        return QueryPage(
            items=items, has_more=bool(body.get("hasMore")), total=total if isinstance(total, int) else None
        )

    def suiteql_all(self, query: str, *, limit: int = SUITEQL_MAX_LIMIT) -> Iterator[QueryPage]:
        """Yield every page of a query by offset (at most 100,000 rows: NetSuite's offset limit)."""
        offset = 0
        while True:
            page = self.suiteql_page(query, limit=limit, offset=offset)
            yield page
            offset += limit
            if not page.has_more or offset >= SUITEQL_MAX_OFFSET_ROWS:
                return

    def suiteql_keyset(
        self, build_query: Callable[[int | None], str], *, after_id: int | None = None, limit: int = SUITEQL_MAX_LIMIT
    ) -> Iterator[QueryPage]:
        """Yield pages ordered by id, each asked for as ``id > last`` so any number of rows is reachable.

        ``build_query(last_id)`` returns the SuiteQL for rows after ``last_id`` (None: from the start),
        ordered by id.
        """
        last = after_id
        while True:
            page = self.suiteql_page(build_query(last), limit=limit, offset=0)
            yield page
            if not page.items or not page.has_more:
                return
            new_last = int(page.items[-1]["id"])
            if last is not None and new_last <= last:
                raise BadResponse(MALFORMED_RESPONSE, "NetSuite returned SuiteQL rows out of id order.")
            last = new_last


def check_external_id(external_id: str) -> str:
    """Refuse, before sending, an external ID NetSuite would refuse (letters, digits, '_' and '-' only)."""
    if not EXTERNAL_ID_RE.match(external_id):
        raise ValidationError(
            INVALID_EXTERNAL_ID,
            f"Customer ID {external_id!r} cannot be a NetSuite external ID: use only letters, digits, '_' and '-'.",
        )
    return external_id


def _transport_error(exc: requests.exceptions.RequestException, host: str, timeout: float) -> NetSuiteError:
    """Say what went wrong on the way: no connection (nothing sent), or a connection lost after sending."""
    reason = _reason(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return NetSuiteError(
            TLS_ERROR,
            f"The TLS handshake with {host} failed: {reason}. Check the base URL and the server's certificate (or a "
            "proxy intercepting HTTPS).",
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return RetryableError(
            NETWORK_ERROR,
            f"Could not connect to NetSuite ({host}) within {timeout:g} seconds; nothing was sent. Check the "
            "network, proxy and firewall.",
        )
    dropped = isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ReadTimeout) or (
        isinstance(exc, requests.exceptions.ConnectionError)
        and exc.args
        and isinstance(exc.args[0], urllib3.exceptions.ProtocolError)
    )
    if dropped:
        return RetryableError(
            CONNECTION_DROPPED,
            f"The connection to NetSuite ({host}) was lost after the request was sent ({reason}). NetSuite may have "
            "done it (a write may be saved): it is repeated safely by external ID.",
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "NameResolution" in reason or "Name or service not known" in reason or "getaddrinfo" in reason:
            return NetSuiteError(
                UNKNOWN_HOST,
                f"The host {host} does not exist. Check the account ID (and the base URL override, if set).",
            )
        return RetryableError(
            NETWORK_ERROR,
            f"Could not connect to NetSuite ({host}): {reason}; nothing was sent. Check the network, proxy and "
            "firewall.",
        )
    return NetSuiteError(REQUEST_FAILED, f"The request to {host} failed: {reason}.")


def _reason(exc: BaseException) -> str:
    # requests' messages already carry urllib3's cause ("Caused by NameResolutionError(...)").
    text = str(exc) or type(exc).__name__
    return text[:300]
