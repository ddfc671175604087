"""A NetSuite REST Web Services client: token-based auth, retries, a concurrency limiter, plain errors.

This module knows HTTP and NetSuite's REST contract (SPEC section 3) and nothing of Django: it takes a
frozen ``NetSuiteConfig`` and an optional limiter object, and raises the exceptions defined here.

Why retries are written here and not left to urllib3's ``Retry``: every attempt must be signed again
(OAuth 1.0 nonces are single-use, so urllib3 resending the same signed request would be refused as a
replay), and the concurrency slot must be given back while waiting, so another request can use it.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import requests
from requests_oauthlib import OAuth1

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


# ---- errors -------------------------------------------------------------------------------------


class NetSuiteError(Exception):
    """A NetSuite call that failed; ``code`` is NetSuite's error code (or ours), ``message`` is for operators."""

    retryable = False

    def __init__(self, code: str, message: str, *, status: int | None = None, detail: str = ""):
        self.code = code
        self.message = message
        self.status = status
        self.detail = detail
        super().__init__(f"{code}: {message}")


class AuthError(NetSuiteError):
    """NetSuite refused the credentials (INVALID_LOGIN) or the role lacks a permission."""


class NotFound(NetSuiteError):
    """The record does not exist in NetSuite."""


class ValidationError(NetSuiteError):
    """NetSuite refused the record's content (USER_ERROR, NONEXISTENT_ID, ...)."""


class RetryableError(NetSuiteError):
    """A failure that may pass on a later attempt: 429, 5xx, timeouts, network errors."""

    retryable = True

    def __init__(self, code: str, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(code, message, **kwargs)
        self.retry_after = retry_after


class BadResponse(NetSuiteError):
    """NetSuite answered something the contract does not allow (not JSON, no Location header, ...)."""


CAUSES = {
    "INVALID_LOGIN": (
        "NetSuite refused the login. Check the account ID, the consumer key and secret, the token ID and "
        "secret, and that the token's role may use REST Web Services."
    ),
    "NONEXISTENT_ID": (
        "NetSuite refers to a record that does not exist. Usually the customer, or its parent company, is "
        "missing in NetSuite: push the parent company first, or check the subsidiary, terms, price level and "
        "sales rep IDs in the connection's mappings."
    ),
    "SSS_REQUEST_LIMIT_EXCEEDED": (
        "NetSuite's concurrency limit was exceeded. Lower the connection's concurrency share if other "
        "integrations use the same account."
    ),
    "CONCURRENCY_LIMIT_EXCEEDED": (
        "NetSuite's concurrency limit was exceeded. Lower the connection's concurrency share if other "
        "integrations use the same account."
    ),
}


def _operator_message(code: str, detail: str, status: int) -> str:
    cause = CAUSES.get(code)
    if cause and detail:
        return f"{cause} (NetSuite said: {detail})"
    if cause:
        return cause
    if detail:
        return f"NetSuite refused the request ({code}, HTTP {status}): {detail}"
    return f"NetSuite refused the request ({code}, HTTP {status})."


def _snippet(text: str, limit: int = 200) -> str:
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_from_response(response: requests.Response) -> NetSuiteError:
    """Turn a NetSuite error answer into the project's exception, with its code and an operator message."""
    status = response.status_code
    code, detail = "", ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        details = body.get("o:errorDetails") or []
        if isinstance(details, list) and details and isinstance(details[0], dict):
            code = str(details[0].get("o:errorCode") or "")
            detail = "; ".join(str(d.get("detail", "")) for d in details if isinstance(d, dict) and d.get("detail"))
        detail = detail or str(body.get("title") or body.get("detail") or "")
    elif response.text:
        detail = f"not a NetSuite error answer ({response.headers.get('Content-Type', 'no content type')}): " + (
            _snippet(response.text)
        )

    retry_after = _parse_retry_after(response.headers.get("Retry-After"))
    if status == 429 or code in ("SSS_REQUEST_LIMIT_EXCEEDED", "CONCURRENCY_LIMIT_EXCEEDED"):
        code = code or "CONCURRENCY_LIMIT_EXCEEDED"
        return RetryableError(
            code, _operator_message(code, detail, status), status=status, detail=detail, retry_after=retry_after
        )
    if status >= 500:
        code = code or f"HTTP_{status}"
        message = f"NetSuite had a server error (HTTP {status}); the call is retried."
        if detail:
            message += f" NetSuite said: {detail}"
        return RetryableError(code, message, status=status, detail=detail, retry_after=retry_after)
    if status in (401, 403) or code == "INVALID_LOGIN":
        code = code or ("INVALID_LOGIN" if status == 401 else "INSUFFICIENT_PERMISSION")
        return AuthError(code, _operator_message(code, detail, status), status=status, detail=detail)
    if status == 404:
        code = code or "NOT_FOUND"
        message = (
            f"The record does not exist in NetSuite ({code}). It may have been deleted there, or the link to it "
            "is wrong: check the customer's NetSuite internal ID."
        )
        return NotFound(code, message + (f" NetSuite said: {detail}" if detail else ""), status=status, detail=detail)
    code = code or f"HTTP_{status}"
    return ValidationError(code, _operator_message(code, detail, status), status=status, detail=detail)


# ---- results ------------------------------------------------------------------------------------


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


# ---- the client ---------------------------------------------------------------------------------


class NetSuiteClient:
    """Talk to one NetSuite account; safe to share between threads (one HTTP session per thread)."""

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
        self._local = threading.local()
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

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_maxsize=self.config.pool_size, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers.update({"Accept": "application/json", "User-Agent": "customer-sync-portal/1"})
            # Proxy and CA settings from the environment, read once: requests would scan the whole environment
            # on every call, which costs more than signing. Every request goes to the same host.
            self._local.send_settings = session.merge_environment_settings(self.config.rest_url, {}, None, None, None)
            self._local.session = session
        return session

    def close(self) -> None:
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            self._local.session = None

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
        retry: bool = True,
    ) -> requests.Response:
        """Send one signed request, retrying retryable failures with increasing, jittered waits."""
        attempts = 1 + (self.config.max_retries if retry else 0)
        for attempt in range(attempts):
            try:
                return self._send_once(method, path, params=params, json_body=json_body, headers=headers)
            except RetryableError as exc:
                if attempt + 1 >= attempts:
                    if attempts > 1:
                        exc.message += f" Gave up after {attempts} attempts."
                    raise
                self._sleep(self._backoff(attempt, exc.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, method, path, *, params, json_body, headers) -> requests.Response:
        url = self.config.rest_url + path
        data = None
        all_headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body, separators=(",", ":")).encode()
            all_headers["Content-Type"] = "application/json"
        host = url.split("/")[2] if "//" in url else url
        try:
            # Sign and prepare before taking a slot: the slot is held only while the request is on the wire.
            session = self.session
            prepared = session.prepare_request(
                requests.Request(method, url, params=params, data=data, headers=all_headers, auth=self._auth)
            )
            send_settings = self._local.send_settings
            with self.limiter.slot():
                response = session.send(prepared, timeout=self.config.timeout, allow_redirects=False, **send_settings)
                # Read the body inside the slot: the request is in flight until its answer has arrived.
                _ = response.content
        except requests.exceptions.SSLError as exc:
            raise NetSuiteError(
                "TLS_ERROR",
                f"The TLS handshake with {host} failed: {_reason(exc)}. Check the base URL and the server's "
                "certificate (or a proxy intercepting HTTPS).",
            ) from None
        except (requests.exceptions.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise RetryableError(
                "TIMEOUT",
                f"NetSuite ({host}) did not answer within {self.config.timeout:g} seconds ({_reason(exc)}). "
                "A write may still have been done; it is repeated safely by external ID.",
            ) from None
        except requests.exceptions.ConnectionError as exc:
            reason = _reason(exc)
            if "NameResolution" in reason or "Name or service not known" in reason or "getaddrinfo" in reason:
                raise NetSuiteError(
                    "UNKNOWN_HOST",
                    f"The host {host} does not exist. Check the account ID (and the base URL override, if set).",
                ) from None
            raise RetryableError(
                "NETWORK_ERROR",
                f"Could not connect to NetSuite ({host}): {reason}. Check the network, proxy and firewall.",
            ) from None
        except requests.exceptions.RequestException as exc:
            raise NetSuiteError("REQUEST_FAILED", f"The request to {host} failed: {_reason(exc)}.") from None
        if response.status_code >= 400:
            raise error_from_response(response)
        if 300 <= response.status_code < 400:
            raise BadResponse(
                f"HTTP_{response.status_code}",
                f"NetSuite redirected the request to {response.headers.get('Location', '(nowhere)')}; "
                "check the account ID and the base URL.",
                status=response.status_code,
            )
        return response

    @staticmethod
    def _json(response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise BadResponse(
                "MALFORMED_RESPONSE",
                f"NetSuite's answer to {what} is not valid JSON "
                f"({response.headers.get('Content-Type', 'no content type')}: {_snippet(response.text, 120)!r}). "
                "Nothing was changed locally; the call will be repeated on the next run.",
                status=response.status_code,
            ) from None

    # -- records --

    @staticmethod
    def _location_id(response: requests.Response, what: str) -> WriteResult:
        location = response.headers.get("Location", "")
        match = re.search(r"/([^/]+)/?$", location)
        internal_id = match.group(1) if match else ""
        if not internal_id or not internal_id.isdigit():
            raise BadResponse(
                "MISSING_LOCATION",
                f"NetSuite accepted {what} but did not return its internal ID (Location header "
                f"{location or 'missing'!s}). The customer stays pending and is sent again on the next run; "
                "the write is repeated safely by external ID.",
                status=response.status_code,
            )
        return WriteResult(internal_id=internal_id, location=location)

    def upsert_customer(self, external_id: str, body: dict) -> WriteResult:
        """Create or update the customer with this external ID (``PUT eid:``); safe to repeat."""
        if not EXTERNAL_ID_RE.match(external_id):
            raise ValidationError(
                "INVALID_EXTERNAL_ID",
                f"Customer ID {external_id!r} cannot be a NetSuite external ID: use only letters, digits, '_' and '-'.",
            )
        response = self.request("PUT", f"/record/v1/customer/eid:{quote(external_id)}", json_body=body)
        return self._location_id(response, f"customer {external_id}")

    def update_customer(self, internal_id: str, body: dict) -> WriteResult:
        """Update the customer with this internal ID (``PATCH``); safe to repeat."""
        response = self.request("PATCH", f"/record/v1/customer/{quote(str(internal_id))}", json_body=body)
        location = response.headers.get("Location") or f"{self.config.rest_url}/record/v1/customer/{internal_id}"
        return WriteResult(internal_id=str(internal_id), location=location)

    def get_customer(self, internal_id: str) -> dict:
        """Read one customer by internal ID (or ``eid:<external ID>``)."""
        response = self.request("GET", f"/record/v1/customer/{quote(str(internal_id), safe=':')}")
        body = self._json(response, f"reading customer {internal_id}")
        if not isinstance(body, dict):
            raise BadResponse("MALFORMED_RESPONSE", f"NetSuite's answer for customer {internal_id} is not a record.")
        return body

    # -- SuiteQL --

    def suiteql_page(self, query: str, *, limit: int = SUITEQL_MAX_LIMIT, offset: int = 0) -> QueryPage:
        """Run one page of a SuiteQL query."""
        if not 1 <= limit <= SUITEQL_MAX_LIMIT:
            raise ValueError(f"SuiteQL limit must be between 1 and {SUITEQL_MAX_LIMIT}.")
        if offset % limit:
            raise ValueError("SuiteQL offset must be a multiple of the limit.")
        response = self.request(
            "POST",
            "/query/v1/suiteql",
            params={"limit": limit, "offset": offset},
            json_body={"q": query},
            headers={"Prefer": "transient"},
        )
        body = self._json(response, "a SuiteQL query")
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise BadResponse(
                "MALFORMED_RESPONSE",
                "NetSuite's answer to a SuiteQL query has no list of items; nothing was changed locally.",
                status=response.status_code,
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
                raise BadResponse("MALFORMED_RESPONSE", "NetSuite returned SuiteQL rows out of id order.")
            last = new_last


def _reason(exc: BaseException) -> str:
    # requests' messages already carry urllib3's cause ("Caused by NameResolutionError(...)").
    text = str(exc) or type(exc).__name__
    return text[:300]
