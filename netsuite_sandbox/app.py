"""The HTTP application: NetSuite's REST routes under /services/rest, and sandbox controls under /_sandbox.

REST (token-based auth required; see auth.py, records.py, contacts.py, suiteql.py, asyncjobs.py):
    POST  /services/rest/record/v1/{customer|contact}                  -> 204, Location: .../{type}/{id}
    PUT   /services/rest/record/v1/{customer|contact}/eid:{externalId} -> 204, Location (create or update)
    GET | PATCH | DELETE /services/rest/record/v1/{customer|contact}/{id} (or eid:{externalId})
          writes to a customer take ?replace=addressBook (records.py)
    POST | PUT | PATCH /services/rest/record/v1/customer  with `Content-Type: application/vnd.oracle.resource+json;
          type=collection` and `Prefer: respond-async`: a batch of up to 100 records -> 202, Location of the job
    any record request with `Prefer: respond-async` -> 202, Location: .../async/v1/job/{id}
    GET   /services/rest/async/v1/job/{id}, .../task, .../task/{task}, .../task/{task}/result
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
    GET  /_sandbox/count                  {"total": customers, "contacts", "duplicates": as above}
    GET  /_sandbox/reference              subsidiaries, terms and price levels the account has
    POST /_sandbox/entities {"type": "vendor", "externalId": "V1"}   a vendor/employee/partner holding an external ID
    GET  /_sandbox/contacts?company=N     {"count", "items": [contact JSON]}
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

from . import contacts, records, suiteql
from .asyncjobs import MAX_BATCH, AsyncJobs, job_json, task_json, task_result, tasks_json
from .auth import Authenticator
from .errors import INVALID_LOGIN_DETAIL, NetSuiteError, nonexistent, user_error
from .governance import Governor, Stats
from .store import PRICE_LEVELS, SUBSIDIARIES, TERMS, Store

REST_PREFIX = "/services/rest"
MAX_LIMIT = 1000
MAX_REACHABLE = 100_000

_TYPES = r"(?P<type>customer|contact)"
# Each route's pattern and its name in the stats ({type} filled in).
_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^/record/v1/{_TYPES}/?$"), "/record/v1/{type}"),
    (re.compile(rf"^/record/v1/{_TYPES}/eid:(?P<eid>[^/]*)$"), "/record/v1/{type}/eid:{{externalId}}"),
    (re.compile(rf"^/record/v1/{_TYPES}/(?P<id>[^/]+)$"), "/record/v1/{type}/{{id}}"),
    (re.compile(r"^/query/v1/suiteql/?$"), "/query/v1/suiteql"),
    (re.compile(r"^/async/v1/job/(?P<job>[^/]+)$"), "/async/v1/job/{{id}}"),
    (re.compile(r"^/async/v1/job/(?P<job>[^/]+)/task/?$"), "/async/v1/job/{{id}}/task"),
    (re.compile(r"^/async/v1/job/(?P<job>[^/]+)/task/(?P<task>[^/]+)$"), "/async/v1/job/{{id}}/task/{{task}}"),
    (
        re.compile(r"^/async/v1/job/(?P<job>[^/]+)/task/(?P<task>[^/]+)/result$"),
        "/async/v1/job/{{id}}/task/{{task}}/result",
    ),
]
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
COLLECTION_TYPE = "application/vnd.oracle.resource+json; type=collection"


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
        # Read through the governor each time, so `/_sandbox/config` changes apply to the next job.
        self.jobs = AsyncJobs(
            processors=lambda: governor.faults.async_processors,
            record_ms=lambda: governor.faults.async_record_ms,
            held=lambda: governor.faults.async_hold,
        )

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
                route = template = name.format(type=match.groupdict().get("type", ""))
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
        if route.startswith("/async/"):
            return self._async(method, match, base)
        record_type = match["type"]
        params = parse_qs(query, keep_blank_values=True)
        replace = frozenset()
        if record_type == "customer":
            replace = records.replace_param((params.get("replace") or [""])[0])
        is_async = "respond-async" in _header(headers, "prefer").lower()
        key = _header(headers, "x-netsuite-idempotency-key") or None
        if "eid" in match.groupdict():
            eid = unquote(match["eid"])
            if method == "PUT":
                data = _json(body)
                work = self._upsert_work(record_type, eid, data, replace, base)
                return self._answer(method, [work], is_async, key, base)
            records.check_external_id(eid)
            row = self._get_row(record_type, external_id=eid)
            if row is None:
                raise nonexistent()
            return self._by_id(method, record_type, int(row["id"]), body, replace, is_async, key, base)
        if "id" in match.groupdict():
            raw_id = match["id"]
            if not raw_id.isdigit():
                raise nonexistent()
            return self._by_id(method, record_type, int(raw_id), body, replace, is_async, key, base)
        if _header(headers, "content-type").replace(" ", "").lower() == COLLECTION_TYPE.replace(" ", ""):
            return self._batch(method, record_type, body, replace, is_async, key, base)
        if method != "POST":
            raise NetSuiteError(
                405,
                "INVALID_METHOD",
                f"The {method} method is not allowed on the {record_type} collection here; use POST (or send a batch).",
            )
        data = _json(body)
        return self._answer(method, [lambda: self._create(record_type, data, base)], is_async, key, base)

    # One kind of work per write: it runs now (a synchronous request) or in a job's task, and returns the location
    # of the record it wrote.

    def _location(self, record_type: str, record_id: int, base: str) -> str:
        return f"{base}/record/v1/{record_type}/{record_id}"

    def _create(self, record_type: str, data: Any, base: str) -> str:
        module = records if record_type == "customer" else contacts
        return self._location(record_type, module.create(self.store, data), base)

    def _upsert_work(self, record_type: str, eid: str, data: Any, replace: frozenset[str], base: str):
        def work() -> str:
            if record_type == "customer":
                cid, _ = records.upsert(self.store, eid, data, replace=replace)
            else:
                cid, _ = contacts.upsert(self.store, eid, data)
            return self._location(record_type, cid, base)

        return work

    def _update_work(self, record_type: str, record_id: int, data: Any, replace: frozenset[str], base: str):
        def work() -> str:
            if record_type == "customer":
                records.update(self.store, record_id, data, replace=replace)
            else:
                contacts.update(self.store, record_id, data)
            return self._location(record_type, record_id, base)

        return work

    def _get_row(self, record_type: str, *, record_id: int | None = None, external_id: str | None = None):
        if record_type == "customer":
            return self.store.get(record_id) if record_id is not None else self.store.get_by_external_id(external_id)
        if record_id is not None:
            return self.store.get_contact(record_id)
        return self.store.get_contact_by_external_id(external_id)

    def _by_id(self, method, record_type, record_id, body, replace, is_async, key, base) -> Response:
        if method == "GET":

            def read() -> dict:
                row = self._get_row(record_type, record_id=record_id)
                if row is None:
                    raise nonexistent()
                module = records if record_type == "customer" else contacts
                return module.to_json(row, base_url=base)

            if is_async:
                return self._answer(method, [read], True, key, base)
            return json_response(200, read())
        if method == "PATCH":
            work = self._update_work(record_type, record_id, _json(body), replace, base)
            return self._answer(method, [work], is_async, key, base)
        if method == "DELETE":
            if record_type == "contact":
                contacts.delete(self.store, record_id)
                return Response(204)
            with self.store.lock:
                if self.store.get(record_id) is None:
                    raise nonexistent()
                self.store.execute("DELETE FROM customer WHERE id = ?", (record_id,))
            return Response(204)
        raise NetSuiteError(405, "INVALID_METHOD", f"The {method} method is not allowed on a {record_type} record.")

    def _batch(self, method, record_type, body, replace, is_async, key, base) -> Response:
        """A batch of records of one type ("Batch Operations"): one task per item, run asynchronously."""
        if not is_async:
            raise NetSuiteError(
                400, "INVALID_HEADER", "A batch request needs the header 'Prefer: respond-async'; batches run as jobs."
            )
        data = _json(body)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items:
            raise user_error('Invalid content in the request body. A batch needs a body like {"items": [...]}.')
        if len(items) > MAX_BATCH:
            raise user_error(f"A batch request holds at most {MAX_BATCH} records; this one has {len(items)}.")
        works = []
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                raise user_error(f"Invalid content in the request body: items[{n}] is not an object.")
            if method == "POST":
                works.append(lambda item=item: self._create(record_type, item, base))
            elif method == "PUT":
                # "PUT requests only support external ID for the upsert operation."
                if not item.get("externalId"):
                    raise user_error(f"items[{n}] of a PUT batch needs its externalId.", path=f"items[{n}].externalId")
                works.append(self._upsert_work(record_type, str(item["externalId"]), item, replace, base))
            elif method == "PATCH":
                works.append(self._patch_item_work(record_type, n, item, replace, base))
            else:
                raise NetSuiteError(405, "INVALID_METHOD", f"The {method} method does not take a batch.")
        return self._answer(method, works, True, key, base)

    def _patch_item_work(self, record_type, n, item, replace, base):
        # "You can specify both internal and external IDs in the request, but only one is used to match it to a
        # record. The internal ID takes precedence over the external ID."
        if item.get("id") is None and not item.get("externalId"):
            raise user_error(f"items[{n}] of a PATCH batch needs its id or externalId.", path=f"items[{n}].id")

        def work() -> str:
            if item.get("id") is not None:
                raw = str(item["id"])
                if not raw.isdigit():
                    raise nonexistent()
                record_id = int(raw)
                data = {k: v for k, v in item.items() if k != "id"}
            else:
                row = self._get_row(record_type, external_id=str(item["externalId"]))
                if row is None:
                    raise nonexistent()
                record_id, data = int(row["id"]), item
            return self._update_work(record_type, record_id, data, replace, base)()

        return work

    def _answer(self, method, works, is_async, key, base) -> Response:
        """Do the work now (204 + Location, or 200 + the record), or queue it as a job (202 + its Location)."""
        if not is_async:
            location = works[0]()
            return Response(204, headers={"Location": location})

        def as_result(work):
            def run() -> dict:
                out = work()
                return out if isinstance(out, dict) else {"links": [{"rel": "self", "href": out}]}

            return run

        job, new = self.jobs.submit([as_result(w) for w in works], idempotency_key=key)
        location = f"{base}/async/v1/job/{job.id}"
        headers = {"Location": location, "Preference-Applied": "respond-async"}
        if new:
            return Response(202, headers={**headers, "Content-Type": "application/json"})
        resp = json_response(
            400,
            {
                "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.10",
                "title": "Conflict",
                "status": 400,
                "o:errorDetails": [
                    {
                        "detail": 'A request with the same idempotency key is already submitted. See the "Location" '
                        "header for a link to the previously submitted job",
                        "o:errorCode": "IDEMPOTENCY_ERROR",
                    }
                ],
            },
            **headers,
        )
        return resp

    def _async(self, method: str, match, base: str) -> Response:
        if method != "GET":
            raise NetSuiteError(405, "INVALID_METHOD", f"The {method} method is not allowed on async jobs; use GET.")
        raw_job, raw_task = match["job"], match.groupdict().get("task")
        if not raw_job.isdigit() or (raw_task is not None and not raw_task.isdigit()):
            raise nonexistent()
        job = self.jobs.job(int(raw_job))
        if raw_task is None:
            if match.re.pattern.endswith("task/?$"):
                return json_response(200, tasks_json(job, base))
            return json_response(200, job_json(job, base))
        task = self.jobs.task(int(raw_job), int(raw_task))
        if match.re.pattern.endswith("/result$"):
            return json_response(200, task_result(task))
        return json_response(200, task_json(job, task, base))

    def suiteql(self, query: str, headers: dict[str, str], body: bytes, base: str) -> Response:
        """Run a SuiteQL query with NetSuite's paging rules."""
        prefer = _header(headers, "prefer")
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
                self.jobs.reset()
            return json_response(200, {"ok": True})
        if path == "/_sandbox/stats":
            return json_response(
                200,
                {
                    **self.stats.snapshot(),
                    "async_jobs_created": self.jobs.created,
                    "async_tasks_created": self.jobs.tasks_created,
                },
            )
        if path == "/_sandbox/count":
            counts = {"total": self.store.count(), "contacts": self.store.count_contacts()}
            return json_response(200, {**counts, "duplicates": self.store.duplicates()})
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
        if path == "/_sandbox/entities" and method == "POST":
            new_id = self.store.add_other_entity(str(data["type"]), records.check_external_id(str(data["externalId"])))
            return json_response(200, {"id": new_id})
        if path == "/_sandbox/contacts":
            company = {k: v[0] for k, v in parse_qs(query).items()}.get("company", "0")
            rows = self.store.contacts_of(int(company))
            base = root_url + REST_PREFIX
            return json_response(200, {"count": len(rows), "items": [contacts.to_json(r, base_url=base) for r in rows]})
        if path == "/_sandbox/duplicates":
            return json_response(200, self.store.duplicates())
        if path == "/_sandbox/reference":
            return json_response(200, {"subsidiaries": SUBSIDIARIES, "terms": TERMS, "priceLevels": PRICE_LEVELS})
        if path == "/_sandbox/run-script" and method == "POST" and self.run_script:
            return json_response(200, self.run_script(data["name"], data.get("root")))
        return json_response(404, {"error": f"Unknown sandbox control {method} {path}."})


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "")


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
