"""The Shopify Admin GraphQL API, through Shopify's own ``shopifyapp`` package; no Django here.

``shopify_app.admin_graphql_request`` sends the request (``X-Shopify-Access-Token``), retries 429 and 502-504 and
reports GraphQL ``errors`` as a failed result. This module adds what it leaves to the caller:

- Errors come back with HTTP 200 and an ``errors`` list (shopify.dev/docs/api/usage/response-codes): every answer
  is checked for them, and mutations for their ``userErrors``.
- Cost-based throttling (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits): a throttled query is answered
  ``{"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}], "extensions": {"cost": {...}}}``;
  the wait before trying again is what the bucket lacks divided by ``throttleStatus.restoreRate``.
- The endpoint: the package always builds ``https://{shop}.myshopify.com/admin/api/{version}/graphql.json``; an
  Admin API URL override (the sandbox) is applied by the HTTP transport, which rewrites that URL.
- Bulk operations (shopify.dev/docs/api/usage/bulk-operations/queries): run, poll by ``node(id:)``, then stream
  the JSONL result line by line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from shopify_app import admin_graphql_request

API_VERSION = "2025-10"
SHOPIFY_SUFFIX = ".myshopify.com"

# Error codes, each spelled once; console/guidance.py says what an operator does about them.
UNAUTHORIZED = "SHOPIFY_UNAUTHORIZED"
NETWORK_ERROR = "SHOPIFY_NETWORK_ERROR"
THROTTLED = "SHOPIFY_THROTTLED"
GRAPHQL_ERRORS = "SHOPIFY_GRAPHQL_ERRORS"
USER_ERRORS = "SHOPIFY_USER_ERRORS"
HTTP_ERROR = "SHOPIFY_HTTP_ERROR"
BULK_FAILED = "SHOPIFY_BULK_FAILED"


class ShopifyError(Exception):
    """A request to Shopify failed; ``message`` says so plainly, ``code`` names the problem."""

    retryable = False

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{message} [{code}]")


class ShopifyRetryableError(ShopifyError):
    """A failure that may pass by itself: the network, Shopify's servers, or the rate limit."""

    retryable = True


@dataclass(frozen=True)
class ShopifyConfig:
    """How to reach one shop."""

    shop_domain: str
    access_token: str = field(repr=False)
    api_version: str = API_VERSION
    api_url: str = ""
    timeout: float = 30.0
    max_retries: int = 2  # the package's own retries of 429 and 502-504
    throttle_retries: int = 8
    max_throttle_wait: float = 60.0

    @property
    def shop(self) -> str:
        """The shop name as the package takes it (the domain without .myshopify.com)."""
        return self.shop_domain.removesuffix(SHOPIFY_SUFFIX)

    @property
    def endpoint_base(self) -> str:
        return (self.api_url or f"https://{self.shop_domain}/admin/api").rstrip("/")


class _RewritingTransport(httpx.HTTPTransport):
    """Send what the package addresses to https://{shop}.myshopify.com/admin/api/... to the override instead."""

    def __init__(self, base: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.base = httpx.URL(base.rstrip("/") + "/")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.url.host.endswith(SHOPIFY_SUFFIX) and path.startswith("/admin/api/"):
            request.url = self.base.join(path.removeprefix("/admin/api/"))
            request.headers["Host"] = request.url.netloc.decode("ascii")
        return super().handle_request(request)


@dataclass(frozen=True)
class BulkOperation:
    """A bulk operation as ``node(id:)`` or a mutation returned it."""

    id: str
    status: str
    error_code: str = ""
    url: str = ""
    object_count: int = 0

    @classmethod
    def from_json(cls, data: dict) -> BulkOperation:
        return cls(
            id=data.get("id") or "",
            status=(data.get("status") or "").upper(),
            error_code=data.get("errorCode") or "",
            url=data.get("url") or "",
            object_count=int(data.get("objectCount") or 0),
        )

    @property
    def finished(self) -> bool:
        return self.status not in ("CREATED", "RUNNING", "CANCELING")


BULK_FIELDS = "id status errorCode url objectCount"
BULK_IN_PROGRESS = "already in progress"


class ShopifyClient:
    """A client for one shop's Admin GraphQL API; ``close()`` it (or use it as a context manager)."""

    def __init__(self, config: ShopifyConfig, *, sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.sleep = sleep
        transport = _RewritingTransport(config.api_url) if config.api_url else None
        self.http = httpx.Client(
            timeout=httpx.Timeout(config.timeout, connect=min(config.timeout, 10.0)), transport=transport
        )
        self.last_cost: dict | None = None

    def __enter__(self) -> ShopifyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # -- requests --------------------------------------------------------------------------------

    def execute(self, query: str, variables: dict | None = None) -> dict:
        """Run a query or mutation; return its ``data``; wait and try again while throttled."""
        for _attempt in range(self.config.throttle_retries + 1):
            result = admin_graphql_request(
                query,
                shop=self.config.shop,
                access_token=self.config.access_token,
                api_version=self.config.api_version,
                variables=variables,
                max_retries=self.config.max_retries,
                http_client=self.http,
            )
            if result.ok:
                self.last_cost = (result.extensions or {}).get("cost")
                self._pace(self.last_cost)
                return result.data or {}
            # A failed result carries no extensions: read the cost and the errors from the answer itself.
            body = _json(result.response.body if result.response else "")
            cost = self.last_cost = (body.get("extensions") or {}).get("cost")
            code = result.log.code
            if code == "graphql_errors":
                errors = body.get("errors") or []
                if _throttled(errors):
                    self.sleep(self._throttle_wait(cost))
                    continue
                raise ShopifyError(GRAPHQL_ERRORS, "Shopify refused the request: " + _messages(errors))
            raise _error_for(code, result.response.status if result.response else 0, result.log.detail)
        raise ShopifyRetryableError(
            THROTTLED, f"Shopify kept throttling the request after {self.config.throttle_retries} waits; try later."
        )

    def mutate(self, query: str, variables: dict | None, field_name: str) -> dict:
        """Run a mutation and return its payload; raise when it reports ``userErrors``."""
        payload = self.execute(query, variables).get(field_name) or {}
        errors = payload.get("userErrors") or []
        if errors:
            raise ShopifyError(USER_ERRORS, f"Shopify refused {field_name}: " + _messages(errors))
        return payload

    def _throttle_wait(self, cost: dict | None) -> float:
        status = (cost or {}).get("throttleStatus") or {}
        requested = float((cost or {}).get("requestedQueryCost") or 0)
        available = float(status.get("currentlyAvailable") or 0)
        rate = float(status.get("restoreRate") or 0) or 50.0
        return min(self.config.max_throttle_wait, max(0.05, (requested - available) / rate))

    def _pace(self, cost: dict | None) -> None:
        # Shopify refunds the part of the requested cost a query did not use; a bucket that cannot pay for the
        # same query again waits now rather than being throttled on the next request.
        status = (cost or {}).get("throttleStatus") or {}
        if status and float(status.get("currentlyAvailable") or 0) < float(cost.get("requestedQueryCost") or 0):
            self.sleep(self._throttle_wait(cost))

    # -- what the connector asks -----------------------------------------------------------------

    def shop_name(self) -> str:
        """Return the shop's name (Test connection)."""
        return (self.execute("{ shop { name } }").get("shop") or {}).get("name") or ""

    def webhook_subscribe(self, *, topic: str, uri: str) -> dict:
        """Subscribe ``uri`` to a topic (GraphQL enum such as CUSTOMERS_CREATE); return the subscription."""
        payload = self.mutate(
            "mutation webhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, "
            "$webhookSubscription: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, "
            "webhookSubscription: $webhookSubscription) { webhookSubscription { id topic uri } "
            "userErrors { field message } } }",
            {"topic": topic, "webhookSubscription": {"uri": uri, "format": "JSON"}},
            "webhookSubscriptionCreate",
        )
        return payload.get("webhookSubscription") or {}

    def webhook_subscriptions(self) -> list[dict]:
        """Return the shop's webhook subscriptions of this app (id, topic, uri)."""
        found, after = [], None
        while True:
            data = self.execute(
                "query subs($after: String) { webhookSubscriptions(first: 100, after: $after) { "
                "nodes { id topic uri } pageInfo { hasNextPage endCursor } } }",
                {"after": after},
            )["webhookSubscriptions"]
            found += data["nodes"]
            if not data["pageInfo"]["hasNextPage"]:
                return found
            after = data["pageInfo"]["endCursor"]

    def bulk_run(self, query: str) -> BulkOperation:
        """Start a bulk query; raise ShopifyRetryableError when one is already running for this app and shop."""
        payload = (
            self.execute(
                "mutation bulk($query: String!) { bulkOperationRunQuery(query: $query) { "
                f"bulkOperation {{ {BULK_FIELDS} }} userErrors {{ field message }} }} }}",
                {"query": query},
            ).get("bulkOperationRunQuery")
            or {}
        )
        errors = payload.get("userErrors") or []
        if errors:
            text = _messages(errors)
            if BULK_IN_PROGRESS in text:
                raise ShopifyRetryableError(BULK_FAILED, text)
            raise ShopifyError(USER_ERRORS, f"Shopify refused the bulk query: {text}")
        return BulkOperation.from_json(payload.get("bulkOperation") or {})

    def bulk_operation(self, operation_id: str) -> BulkOperation:
        data = self.execute(
            f"query op($id: ID!) {{ node(id: $id) {{ ... on BulkOperation {{ {BULK_FIELDS} }} }} }}",
            {"id": operation_id},
        )
        node = data.get("node")
        if not node:
            raise ShopifyError(BULK_FAILED, f"Shopify knows no bulk operation {operation_id}.")
        return BulkOperation.from_json(node)

    def current_bulk_operation(self) -> BulkOperation | None:
        node = self.execute(f"{{ currentBulkOperation {{ {BULK_FIELDS} }} }}").get("currentBulkOperation")
        return BulkOperation.from_json(node) if node else None

    def bulk_wait(
        self, operation_id: str, *, poll: float = 2.0, timeout: float = 24 * 3600, on_poll: Callable | None = None
    ) -> BulkOperation:
        """Poll the operation until it is finished (completed, failed, canceled or expired)."""
        deadline = time.monotonic() + timeout
        while True:
            operation = self.bulk_operation(operation_id)
            if operation.finished:
                return operation
            if on_poll is not None:
                on_poll(operation)
            if time.monotonic() > deadline:
                raise ShopifyRetryableError(
                    BULK_FAILED, f"Bulk operation {operation_id} was still {operation.status} after {timeout:.0f} s."
                )
            self.sleep(poll)

    @contextmanager
    def bulk_lines(self, url: str) -> Iterator[Iterator[str]]:
        """Stream a bulk operation's JSONL result: lines as they arrive, never the whole file in memory."""
        try:
            with httpx.stream("GET", url, timeout=httpx.Timeout(self.config.timeout)) as response:
                if response.status_code != 200:
                    raise ShopifyRetryableError(
                        HTTP_ERROR, f"Downloading the bulk operation's result answered HTTP {response.status_code}."
                    )
                yield (line for line in response.iter_lines() if line.strip())
        except httpx.HTTPError as exc:
            raise ShopifyRetryableError(
                NETWORK_ERROR, f"Downloading the bulk operation's result failed ({type(exc).__name__}: {exc})."
            ) from exc


def _json(text: str) -> dict:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _throttled(errors: list) -> bool:
    return any(
        isinstance(e, dict)
        and ((e.get("extensions") or {}).get("code") == "THROTTLED" or e.get("message") == "Throttled")
        for e in errors
    )


def _messages(errors: list) -> str:
    texts = [str(e.get("message") if isinstance(e, dict) else e) for e in errors]
    return "; ".join(t for t in texts if t) or "no message"


def _error_for(code: str, status: int, detail: str) -> ShopifyError:
    if code == "unauthorized":
        return ShopifyError(
            UNAUTHORIZED, "Shopify refused the access token: enter a valid Admin API token on the Shopify connection."
        )
    if code == "network_error":
        return ShopifyRetryableError(
            NETWORK_ERROR, "Shopify could not be reached: check the shop domain (or the Admin API URL override)."
        )
    if code == "rate_limited":
        return ShopifyRetryableError(THROTTLED, "Shopify kept answering 429 Too Many Requests; try later.")
    if status >= 500:
        return ShopifyRetryableError(HTTP_ERROR, f"Shopify answered HTTP {status} ({detail}).")
    return ShopifyError(HTTP_ERROR, f"Shopify answered HTTP {status} ({detail}).")
