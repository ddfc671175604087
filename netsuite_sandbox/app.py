"""The HTTP application: NetSuite's REST routes under /services/rest, and sandbox controls under /_sandbox.

REST (token-based auth required; see auth.py, records.py, suiteql.py):
    POST  /services/rest/record/v1/customer                 -> 204, Location: .../record/v1/customer/{id}
    PUT   /services/rest/record/v1/customer/eid:{externalId} -> 204, Location (create or update)
    GET | PATCH | DELETE /services/rest/record/v1/customer/{id} (or eid:{externalId})
    POST  /services/rest/query/v1/suiteql?limit=&offset=     with `Prefer: transient` and {"q": "..."}

Controls (no auth, JSON in and out):
    GET  /_sandbox/health                 {"ok", "base_url", "account_id"}
    GET  /_sandbox/config                 the faults in force (keys of governance.Faults)
    POST /_sandbox/config {key: value}    change faults, e.g. {"latency_ms": 50, "concurrency_limit": 5}
    POST /_sandbox/reset {"data": true}   faults off, stats zeroed, nonces forgotten, data deleted unless false
    GET  /_sandbox/stats                  {"in_flight", "peak_in_flight", "total_requests", "requests_by_route",
                                           "responses_by_status"}; POST /_sandbox/stats/reset zeroes them
    POST /_sandbox/seed {"customers": N, "subsidiary": 1, "historical": false, "start": ISO, "step_seconds": 1,
                         "external_id_prefix": null}   -> {"first_id", "last_id", "total"}
    GET  /_sandbox/customers?externalId=X&email=Y   -> {"count", "items": [customer JSON]}
    GET  /_sandbox/duplicates             {"email": {email: n}, "name": {name: n}} for n > 1
    GET  /_sandbox/reference              subsidiaries, terms and price levels the account has
    POST /_sandbox/run-script {"name": "HC_SC_ImportCustomer", "root": "/path"}   (root defaults to --file-root)
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import records, suiteql
from .auth import Authenticator
from .errors import INVALID_LOGIN_DETAIL, NetSuiteError, nonexistent, user_error
from .governance import Governor, Stats
from .store import PRICE_LEVELS, SUBSIDIARIES, TERMS, Store

REST_PREFIX = "/services/rest"
MAX_LIMIT = 1000
MAX_REACHABLE = 100_000

_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/record/v1/customer/?$"), "/record/v1/customer"),
    (re.compile(r"^/record/v1/customer/eid:(?P<eid>[^/]*)$"), "/record/v1/customer/eid:{externalId}"),
    (re.compile(r"^/record/v1/customer/(?P<id>[^/]+)$"), "/record/v1/customer/{id}"),
    (re.compile(r"^/query/v1/suiteql/?$"), "/query/v1/suiteql"),
]
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Response:
    """An answer to send; `lose` asks the server to drop it ("drop") or hold then drop it ("hold")."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    lose: str | None = None
    hold_seconds: float = 0.0


def json_response(status: int, data: Any, **headers: str) -> Response:
    """Build a JSON answer."""
    return Response(status, json.dumps(data).encode(), {"Content-Type": "application/json", **headers})


def error_response(err: NetSuiteError) -> Response:
    """Build the answer for a NetSuite error."""
    return Response(
        err.status,
        json.dumps(err.body()).encode(),
        {"Content-Type": "application/vnd.oracle.resource+json; type=error"},
    )


class App:
    """Route requests to the store, through governance, faults and token-based auth."""

    def __init__(
        self,
        *,
        store: Store,
        authenticator: Authenticator,
        governor: Governor,
        stats: Stats,
        run_script: Callable[[str, str | None], dict] | None = None,
        time_zone: tzinfo = UTC,
    ) -> None:
        self.time_zone = time_zone
        self.store = store
        self.auth = authenticator
        self.governor = governor
        self.stats = stats
        self.run_script = run_script

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes, root_url: str) -> Response:
        """Answer one request; `root_url` is scheme://host[:port] as the client addressed the server."""
        parts = urlsplit(target)
        path = parts.path
        if path.startswith("/_sandbox"):
            try:
                return self.control(method, path, parts.query, body, root_url)
            except (ValueError, TypeError, KeyError) as exc:
                return json_response(400, {"error": str(exc)})
        if not path.startswith(REST_PREFIX + "/"):
            return json_response(404, {"error": f"Not found: {path}. NetSuite REST lives under {REST_PREFIX}."})
        return self.rest(method, path[len(REST_PREFIX) :], parts.query, headers, body, root_url + target)

    # -- REST ------------------------------------------------------------------------------------

    def rest(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, url: str) -> Response:
        """Answer a REST request: governance and faults first, then auth, then the route."""
        route, template, match = None, path, None
        for pattern, name in _ROUTES:
            match = pattern.match(path)
            if match:
                route, template = name, name
                break
        in_flight = self.stats.enter(f"{method} {template}")
        resp = Response(500)
        try:
            resp = self._rest(method, route, match, query, headers, body, url, in_flight)
        except NetSuiteError as err:
            resp = error_response(err)
        finally:
            self.stats.leave(resp.status)
        return resp

    def _rest(self, method, route, match, query, headers, body, url, in_flight) -> Response:
        g = self.governor
        if g.throttled(in_flight):
            extra = {}
            if g.faults.retry_after is not None:
                extra["Retry-After"] = str(g.faults.retry_after)
            err = NetSuiteError(
                429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked."
            )
            resp = error_response(err)
            resp.headers.update(extra)
            return resp
        if g.faults.latency_ms > 0:
            time.sleep(g.faults.latency_ms / 1000)
        if g.failed():
            status = g.faults.error_status
            return error_response(
                NetSuiteError(status, "UNEXPECTED_ERROR", "An unexpected error has occurred. Error ID: sandbox")
            )
        mode = g.malformed()
        if mode and mode != "no_location":
            return self._malformed(mode)
        result = self.auth.verify(method=method, url=url, headers=headers)
        if not result.ok:
            resp = error_response(NetSuiteError(401, "INVALID_LOGIN", INVALID_LOGIN_DETAIL))
            resp.headers["X-Sandbox-Auth-Failure"] = result.reason
            return resp
        if route is None:
            raise NetSuiteError(404, "INVALID_URL", f"The URL {urlsplit(url).path} does not point to a known resource.")
        base = url[: url.index(REST_PREFIX) + len(REST_PREFIX)]
        resp = self._route(method, route, match, query, headers, body, base)
        if method in _WRITES and resp.status < 300 and g.lose_answer():
            resp.lose = g.faults.timeout_mode
            resp.hold_seconds = g.faults.hold_seconds
        if mode == "no_location":
            resp.headers.pop("Location", None)
        return resp

    def _malformed(self, mode: str) -> Response:
        status = self.governor.faults.malformed_status
        if mode == "json":
            return Response(
                status or 200,
                b'{"links": [], "count": 3, "items": [{"id": "1", "email',
                {"Content-Type": "application/json"},
            )
        if mode == "html":
            code = status or 502
            page = (
                f"<html><head><title>{code} Bad Gateway</title></head><body><h1>{code}</h1>"
                "<p>The server is temporarily unable to service your request.</p></body></html>"
            )
            return Response(code, page.encode(), {"Content-Type": "text/html"})
        if mode == "empty":
            return Response(status or 200, b"", {"Content-Type": "application/json"})
        err = NetSuiteError(
            status or 400, "SANDBOX_UNHEARD_OF_ERROR", "Something the client has never seen went wrong."
        )
        return error_response(err)

    def _route(self, method, route, match, query, headers, body, base) -> Response:
        if route == "/query/v1/suiteql":
            if method != "POST":
                raise NetSuiteError(405, "INVALID_METHOD", f"The {method} method is not allowed for SuiteQL; use POST.")
            return self.suiteql(query, headers, body, base)
        if route == "/record/v1/customer":
            if method != "POST":
                raise NetSuiteError(
                    405,
                    "INVALID_METHOD",
                    f"The {method} method is not allowed on the customer collection here; use POST.",
                )
            new_id = records.create(self.store, _json(body))
            return Response(204, headers={"Location": f"{base}/record/v1/customer/{new_id}"})
        if route == "/record/v1/customer/eid:{externalId}":
            eid = unquote(match["eid"])
            if method == "PUT":
                cid, _ = records.upsert(self.store, eid, _json(body))
                return Response(204, headers={"Location": f"{base}/record/v1/customer/{cid}"})
            records.check_external_id(eid)
            row = self.store.get_by_external_id(eid)
            if row is None:
                raise nonexistent()
            return self._by_id(method, int(row["id"]), body, base)
        raw_id = match["id"]
        if not raw_id.isdigit():
            raise nonexistent()
        return self._by_id(method, int(raw_id), body, base)

    def _by_id(self, method: str, cid: int, body: bytes, base: str) -> Response:
        if method == "GET":
            row = self.store.get(cid)
            if row is None:
                raise nonexistent()
            return json_response(200, records.to_json(row, base_url=base))
        if method == "PATCH":
            records.update(self.store, cid, _json(body))
            return Response(204)
        if method == "DELETE":
            with self.store.lock:
                if self.store.get(cid) is None:
                    raise nonexistent()
                self.store.execute("DELETE FROM customer WHERE id = ?", (cid,))
            return Response(204)
        raise NetSuiteError(405, "INVALID_METHOD", f"The {method} method is not allowed on a customer record.")

    def suiteql(self, query: str, headers: dict[str, str], body: bytes, base: str) -> Response:
        """Run a SuiteQL query with NetSuite's paging rules."""
        prefer = next((v for k, v in headers.items() if k.lower() == "prefer"), "")
        if "transient" not in prefer.lower():
            raise NetSuiteError(
                400, "INVALID_HEADER", "Invalid 'Prefer' header. SuiteQL requests need the header 'Prefer: transient'."
            )
        params = parse_qs(query, keep_blank_values=True)
        limit = _int_param(params, "limit", MAX_LIMIT)
        offset = _int_param(params, "offset", 0)
        if not 1 <= limit <= MAX_LIMIT:
            raise NetSuiteError(
                400,
                "INVALID_PARAMETER",
                f"Invalid 'limit' parameter value {limit}. The value must be between 1 and {MAX_LIMIT}.",
            )
        if offset < 0 or offset % limit:
            raise NetSuiteError(
                400,
                "INVALID_PARAMETER",
                f"Invalid 'offset' parameter value {offset}. The offset must be a multiple of the limit ({limit}).",
            )
        if offset + limit > MAX_REACHABLE:
            raise NetSuiteError(
                400,
                "INVALID_PARAMETER",
                f"Invalid 'offset' parameter value {offset}. Results beyond the first {MAX_REACHABLE} rows cannot be "
                "reached by offset; narrow the query instead (for example WHERE id > last ID ORDER BY id).",
            )
        data = _json(body)
        if not isinstance(data, dict) or not isinstance(data.get("q"), str):
            raise user_error('Invalid content in the request body. SuiteQL needs a body like {"q": "SELECT ..."}.')
        parsed = suiteql.parse(data["q"], self.time_zone)
        with self.store.lock:
            total = int(self.store.execute(*parsed.count_sql())[0][0])
            sql, sql_params = parsed.select_sql(limit, offset)
            rows = self.store.execute(sql, sql_params)
        items = suiteql.render_items(rows, parsed.columns, self.time_zone)
        has_more = offset + len(items) < total

        def href(o: int) -> str:
            return f"{base}/query/v1/suiteql?limit={limit}&offset={o}"

        links = []
        if offset > 0:
            links += [{"rel": "previous", "href": href(offset - limit)}, {"rel": "first", "href": href(0)}]
        if has_more and offset + 2 * limit <= MAX_REACHABLE:
            links.append({"rel": "next", "href": href(offset + limit)})
        if total > 0:
            last = min((total - 1) // limit * limit, MAX_REACHABLE - limit)
            links.append({"rel": "last", "href": href(last)})
        links.append({"rel": "self", "href": href(offset)})
        return json_response(
            200,
            {
                "links": links,
                "count": len(items),
                "hasMore": has_more,
                "items": items,
                "offset": offset,
                "totalResults": total,
            },
        )

    # -- controls --------------------------------------------------------------------------------

    def control(self, method: str, path: str, query: str, body: bytes, root_url: str) -> Response:
        """Answer a sandbox control request (no auth: these are not NetSuite's)."""
        data = json.loads(body) if body.strip() else {}
        if path == "/_sandbox/health":
            return json_response(
                200, {"ok": True, "base_url": root_url + REST_PREFIX, "account_id": self.auth.credentials.account_id}
            )
        if path == "/_sandbox/config":
            if method == "POST":
                self.governor.configure(**data)
            return json_response(200, self.governor.faults.as_dict())
        if path == "/_sandbox/reset" and method == "POST":
            self.governor.reset()
            self.stats.reset()
            self.auth.reset()
            if data.get("data", True):
                self.store.reset()
            return json_response(200, {"ok": True})
        if path == "/_sandbox/stats":
            return json_response(200, self.stats.snapshot())
        if path == "/_sandbox/stats/reset" and method == "POST":
            self.stats.reset()
            return json_response(200, self.stats.snapshot())
        if path == "/_sandbox/seed" and method == "POST":
            start = data.get("start")
            first, last = self.store.seed(
                int(data.get("customers", 0)),
                subsidiary=int(data.get("subsidiary", 1)),
                historical=bool(data.get("historical", False)),
                start=datetime.fromisoformat(start) if start else None,
                step_seconds=float(data.get("step_seconds", 1.0)),
                external_id_prefix=data.get("external_id_prefix"),
            )
            return json_response(200, {"first_id": first, "last_id": last, "total": self.store.count()})
        if path == "/_sandbox/customers":
            params = {k: v[0] for k, v in parse_qs(query).items()}
            rows = self.store.find(external_id=params.get("externalId"), email=params.get("email"))
            base = root_url + REST_PREFIX
            return json_response(200, {"count": len(rows), "items": [records.to_json(r, base_url=base) for r in rows]})
        if path == "/_sandbox/duplicates":
            return json_response(200, self.store.duplicates())
        if path == "/_sandbox/reference":
            return json_response(200, {"subsidiaries": SUBSIDIARIES, "terms": TERMS, "priceLevels": PRICE_LEVELS})
        if path == "/_sandbox/run-script" and method == "POST" and self.run_script:
            return json_response(200, self.run_script(data["name"], data.get("root")))
        return json_response(404, {"error": f"Unknown sandbox control {method} {path}."})


def _json(body: bytes) -> Any:
    """Decode a request body as JSON, or refuse it as NetSuite does."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise user_error(f"Invalid content in the request body. The JSON could not be parsed: {exc}.") from None


def _int_param(params: dict[str, list[str]], name: str, default: int) -> int:
    """Read an integer query parameter."""
    if name not in params:
        return default
    raw = params[name][0]
    try:
        return int(raw)
    except ValueError:
        raise NetSuiteError(
            400, "INVALID_PARAMETER", f"Invalid '{name}' parameter value '{raw}'. It must be a whole number."
        ) from None
