"""The sandbox as a running HTTP server: ``ShopifySandbox`` starts it in a thread and offers a Python API.

Routes:
    POST /admin/api/{version}/graphql.json   the Admin GraphQL API (X-Shopify-Access-Token)
    GET  /_sandbox/bulk/{id}.jsonl           a bulk operation's result (Shopify serves it from storage)
Controls (no auth, JSON in and out):
    GET  /_sandbox/health                    {"ok", "shop", "admin_api"}
    GET  /_sandbox/config, POST {key: value} webhook switches (hold, duplicate_rate, reorder_rate, reorder_delay,
                                             drop_next, retry_base, sign_with_previous), bulk_delay, bulk_fail_next,
                                             throttle (max_available, restore_rate), latency_ms
    POST /_sandbox/reset                     data, subscriptions, deliveries and switches back to the start
    POST /_sandbox/customers {fields}        create (customers/create); PATCH /_sandbox/customers/{id} updates,
                                             DELETE deletes, POST /_sandbox/customers/{id}/state {"state": "DISABLED"}
    POST /_sandbox/companies {"name", "locations": [...], "contacts": [...]}   a company with its parts
    POST /_sandbox/seed {"customers": N}     customers added without webhooks (a shop's existing data)
    GET  /_sandbox/deliveries                the delivery log; POST /_sandbox/webhooks/release {"order": "reverse"}
    POST /_sandbox/rotate-secret {"secret"}  sign with a new client secret (the old one becomes the previous one)
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLError, execute, parse, validate

from . import schema as schema_module
from .bulk import BulkRunner
from .demo import DEMO_SHOP, ShopCredentials
from .generator import ChangeGenerator
from .store import Store
from .webhooks import DEFAULT_RETRY_BASE, Webhooks

GRAPHQL_PATH = re.compile(r"^/admin/api/(?P<version>\d{4}-\d{2}|unstable)/graphql\.json$")
BAD_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105 (a message)


class Bucket:
    """Cost-based throttling, a leaky bucket per app and shop (shopify.dev/docs/apps/build/apis/graphql-admin/
    rate-limits). The docs give the restore rate per plan (Standard 100 points/second); the bucket size is assumed
    to be 20 seconds of restore (2,000), as the 1,000 and 50/s of earlier documents were."""

    def __init__(self, max_available: float = 2000.0, restore_rate: float = 100.0):
        self.lock = threading.Lock()
        self.configure(max_available=max_available, restore_rate=restore_rate)

    def configure(self, *, max_available: float | None = None, restore_rate: float | None = None) -> None:
        with self.lock:
            if max_available is not None:
                self.max_available = float(max_available)
            if restore_rate is not None:
                self.restore_rate = float(restore_rate)
            self.available = self.max_available
            self.at = time.monotonic()

    def take(self, cost: int) -> tuple[bool, dict]:
        with self.lock:
            now = time.monotonic()
            self.available = min(self.max_available, self.available + (now - self.at) * self.restore_rate)
            self.at = now
            ok = cost <= self.available
            if ok:
                self.available -= cost
            return ok, {
                "maximumAvailable": self.max_available,
                "currentlyAvailable": round(self.available),
                "restoreRate": self.restore_rate,
            }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], sandbox: ShopifySandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sandbox.verbose:
            super().log_message(format, *args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sandbox = self.server.sandbox
        path = urlsplit(self.path).path
        if self.command == "GET" and path.startswith("/_sandbox/bulk/"):
            self._file(sandbox.bulk.dir / Path(path).name)
            return
        status, data = sandbox.handle(self.command, path, dict(self.headers.items()), body)
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _file(self, path: Path) -> None:
        if not path.is_file():
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/jsonl")
        self.send_header("Content-Length", str(path.stat().st_size))
        self.end_headers()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 16):
                self.wfile.write(chunk)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class ShopifySandbox:
    """A Shopify shop simulator: its data, webhooks, bulk operations and (once started) its HTTP server."""

    def __init__(
        self,
        *,
        credentials: ShopCredentials = DEMO_SHOP,
        shop_name: str = "Sandbox Store",
        api_version: str = "2025-10",
        retry_base: float = DEFAULT_RETRY_BASE,
        senders: int = 4,
        data_dir: str | Path | None = None,
        public_root_url: str | None = None,
        verbose: bool = False,
        seed: int | None = None,
    ) -> None:
        self.credentials = credentials
        self.shop_domain = credentials.shop_domain
        self.access_token = credentials.access_token
        self.client_secret = credentials.client_secret
        self.previous_client_secret = credentials.client_secret
        self.shop_name = shop_name
        self.api_version = api_version
        self.public_root_url = public_root_url.rstrip("/") if public_root_url else None
        self.verbose = verbose
        self.latency_ms = 0
        self.store = Store(seed=seed)
        self.webhooks = Webhooks(self, senders=senders, retry_base=retry_base, seed=seed)
        self.bulk = BulkRunner(self, data_dir=Path(data_dir) / "bulk" if data_dir else None)
        self.bucket = Bucket()
        self.schema = schema_module.build(self)
        self.store.listeners.append(self.webhooks.event)
        self.generator = ChangeGenerator(self.store)
        self.requests = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- server -----------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> ShopifySandbox:
        """Serve HTTP in a background thread (port 0: a free one)."""
        self._server = _Server((host, port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="shopify-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def wait(self) -> None:
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        self.generator.stop()
        self.webhooks.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ShopifySandbox:
        return self if self._server else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        if self.public_root_url:
            return self.public_root_url
        if self._server is None:
            raise RuntimeError("The sandbox is not serving; call start() first.")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def admin_api_url(self) -> str:
        """What a connection's Admin API URL override points at."""
        return f"{self.root_url}/admin/api"

    # -- controls ---------------------------------------------------------------------------------

    def configure(self, **switches: Any) -> dict:
        """Change webhook switches, bulk_delay, bulk_fail_next, max_available, restore_rate, latency_ms."""
        for key, value in switches.items():
            if key == "bulk_delay":
                self.bulk.delay = float(value)
            elif key == "bulk_fail_next":
                self.bulk.fail_next = int(value)
            elif key in ("max_available", "restore_rate"):
                self.bucket.configure(**{key: value})
            elif key == "latency_ms":
                self.latency_ms = int(value)
            elif hasattr(self.webhooks.switches, key):
                setattr(self.webhooks.switches, key, type(getattr(self.webhooks.switches, key))(value))
            else:
                raise ValueError(f"Unknown switch {key!r}.")
        return self.config()

    def config(self) -> dict:
        return {
            **vars(self.webhooks.switches),
            "bulk_delay": self.bulk.delay,
            "bulk_fail_next": self.bulk.fail_next,
            "max_available": self.bucket.max_available,
            "restore_rate": self.bucket.restore_rate,
            "latency_ms": self.latency_ms,
        }

    def reset(self) -> None:
        """Data, subscriptions, deliveries, bulk operations and switches back to the start."""
        self.generator.stop()
        self.store.reset()
        self.webhooks.reset()
        self.bulk.reset()
        self.bucket.configure(max_available=2000, restore_rate=100)
        self.latency_ms = 0
        self.client_secret = self.previous_client_secret = self.credentials.client_secret
        self.requests = 0

    def rotate_secret(self, secret: str) -> None:
        """Sign with a new client secret from now on; the old one stays as the previous secret."""
        self.previous_client_secret, self.client_secret = self.client_secret, secret

    @property
    def deliveries(self) -> list[dict]:
        return list(self.webhooks.log)

    def wait_for_deliveries(self, count: int, *, timeout: float = 10.0, outcome: str = "delivered") -> list[dict]:
        """Wait until ``count`` deliveries had ``outcome``; return the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [d for d in self.webhooks.log if d["outcome"] == outcome]
            if len(done) >= count:
                return done
            time.sleep(0.02)
        raise TimeoutError(f"Only {len(done)} of {count} deliveries were {outcome} within {timeout} s.")

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no delivery is queued or being sent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.webhooks.idle():
                return
            time.sleep(0.02)
        raise TimeoutError("Webhook deliveries still under way.")

    # -- data (Python API, as the controls offer it over HTTP) ------------------------------------

    def create_customer(self, **fields: Any) -> dict:
        return self.store.create_customer(**fields)

    def update_customer(self, customer_id: int, **fields: Any) -> dict:
        return self.store.update_customer(customer_id, **fields)

    def delete_customer(self, customer_id: int) -> dict:
        return self.store.delete_customer(customer_id)

    def set_customer_state(self, customer_id: int, state: str) -> dict:
        return self.store.set_customer_state(customer_id, state)

    def create_company(self, **fields: Any) -> dict:
        return self.store.create_company(**fields)

    def seed_customers(self, count: int, **kwargs: Any) -> tuple[int, int]:
        return self.store.seed_customers(count, **kwargs)

    # -- HTTP -------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        """Answer one request (the bulk file aside): the GraphQL API or a control."""
        self.requests += 1
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if path.startswith("/_sandbox"):
            try:
                return self.control(method, path, body)
            except (ValueError, TypeError, KeyError) as exc:
                return 400, {"error": str(exc)}
        match = GRAPHQL_PATH.match(path)
        if match is None:
            return 404, {"errors": "Not Found"}
        if method != "POST":
            return 405, {"errors": "The GraphQL Admin API takes POST requests."}
        token = next((v for k, v in headers.items() if k.lower() == "x-shopify-access-token"), "")
        if token != self.access_token:
            return 401, {"errors": BAD_TOKEN}
        try:
            request = json.loads(body or b"{}")
            query = request["query"]
        except (ValueError, KeyError, TypeError):
            return 400, {"errors": {"query": "Required parameter missing or invalid"}}
        return 200, self.graphql(query, request.get("variables") or {}, request.get("operationName"))

    def graphql(self, query: str, variables: dict, operation_name: str | None = None) -> dict:
        """Run a GraphQL request as Shopify answers it: errors with HTTP 200, cost and throttle in extensions."""
        try:
            document = parse(query)
        except GraphQLError as exc:
            return {"errors": [exc.formatted]}
        errors = validate(self.schema, document)
        if errors:
            return {"errors": [{**e.formatted, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}} for e in errors]}
        cost = schema_module.requested_cost(self.schema, document, operation_name, variables)
        if cost > schema_module.MAX_QUERY_COST:
            return {
                "errors": [
                    {
                        "message": f"Query cost is {cost}, which exceeds the single query max cost limit "
                        f"({schema_module.MAX_QUERY_COST}).",
                        "extensions": {
                            "code": "MAX_COST_EXCEEDED",
                            "cost": cost,
                            "maxCost": schema_module.MAX_QUERY_COST,
                        },
                    }
                ]
            }
        ok, status = self.bucket.take(cost)
        extensions = {
            "cost": {"requestedQueryCost": cost, "actualQueryCost": cost if ok else None, "throttleStatus": status}
        }
        if not ok:
            return {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        },
                    }
                ],
                "extensions": extensions,
            }
        result = execute(
            self.schema, document, variable_values=variables, operation_name=operation_name, context_value={}
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        answer["extensions"] = extensions
        return answer

    def control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        data = json.loads(body) if body else {}
        parts = path.removeprefix("/_sandbox").strip("/").split("/")
        if parts == ["health"]:
            return 200, {"ok": True, "shop": self.shop_domain, "admin_api": self.admin_api_url}
        if parts == ["config"]:
            return 200, self.configure(**data) if method == "POST" else self.config()
        if parts == ["reset"] and method == "POST":
            self.reset()
            return 200, {"ok": True}
        if parts == ["deliveries"]:
            return 200, {"count": len(self.webhooks.log), "items": self.deliveries[-500:]}
        if parts == ["webhooks", "release"] and method == "POST":
            return 200, {"released": self.webhooks.release(order=data.get("order", "reverse"))}
        if parts == ["rotate-secret"] and method == "POST":
            self.rotate_secret(str(data["secret"]))
            return 200, {"ok": True}
        if parts == ["seed"] and method == "POST":
            first, last = self.seed_customers(int(data.get("customers", 0)))
            return 200, {"first_id": first, "last_id": last}
        if parts == ["generator"] and method == "POST":
            if data.get("every"):
                self.generator.start(float(data["every"]))
            else:
                self.generator.stop()
            return 200, {"running": self.generator.running}
        if parts[0] == "customers":
            if len(parts) == 1 and method == "POST":
                return 200, _json_safe(self.create_customer(**data))
            if len(parts) == 1:
                return 200, {"count": len(self.store.customers)}
            customer_id = int(parts[1])
            if len(parts) == 3 and parts[2] == "state":
                return 200, _json_safe(self.set_customer_state(customer_id, data["state"]))
            if method == "PATCH":
                return 200, _json_safe(self.update_customer(customer_id, **data))
            if method == "DELETE":
                return 200, _json_safe(self.delete_customer(customer_id))
        if parts == ["companies"] and method == "POST":
            return 200, _json_safe(self.create_company(**data))
        return 404, {"error": f"No control {method} {path}."}


def _json_safe(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=schema_module.iso_z))
