"""Bulk operations (shopify.dev/docs/api/usage/bulk-operations/queries): run a query in the background, write
its result as JSONL, serve the file at a URL, and send ``bulk_operations/finish``.

What the documents say and the sandbox does:
- ``bulkOperationRunQuery`` starts an operation (status CREATED, then RUNNING, then COMPLETED or FAILED) and
  answers at once; one bulk query of an app runs at a time per shop: another is refused with the userError
  "A bulk query operation for this app and shop is already in progress: <id>."
- The query must hold at least one connection and at most five, nested at most two levels deep.
- The result is JSONL, one object a line; the objects of a nested connection are lines of their own carrying
  ``__parentId``, and come after their parent but not necessarily right after it. The sandbox writes a page of
  parents, then their children, so a reader that expects children right after their parent fails here too.
- ``url`` is null when nothing matched (assumption from the field being nullable: no empty file is made).
- When the operation finishes, ``bulk_operations/finish`` is sent with ``admin_graphql_api_id``, ``status`` and
  ``error_code`` lowercase, ``type``, ``created_at`` and ``completed_at`` (the webhooks reference's sample).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, execute, parse, validate

from .schema import gid, iso_z

PAGE = 250
MAX_CONNECTIONS = 5
MAX_DEPTH = 2
IN_PROGRESS = "A bulk query operation for this app and shop is already in progress: {id}."


def _connections(selection_set, depth: int = 1) -> list[int]:
    """Return the nesting depth of every connection field (a field with edges or nodes) under ``selection_set``."""
    found = []
    for selection in selection_set.selections if selection_set else ():
        if not isinstance(selection, FieldNode) or selection.selection_set is None:
            continue
        inner = {s.name.value: s for s in selection.selection_set.selections if isinstance(s, FieldNode)}
        if "edges" in inner or "nodes" in inner:
            found.append(depth)
            node_sets = [inner["nodes"].selection_set] if "nodes" in inner else []
            if "edges" in inner:
                node_sets += [
                    s.selection_set
                    for s in inner["edges"].selection_set.selections
                    if isinstance(s, FieldNode) and s.name.value == "node"
                ]
            for node_set in node_sets:
                found += _connections(node_set, depth + 1)
        else:
            found += _connections(selection.selection_set, depth)
    return found


def _flatten(obj: dict, parent_id: str | None, children: list[dict]) -> dict:
    """Take nested connections out of ``obj`` (into ``children``, with __parentId); return the object's line."""
    line = {}
    for key, value in obj.items():
        if isinstance(value, dict) and ("edges" in value or "nodes" in value):
            items = value.get("nodes") or [e["node"] for e in value.get("edges") or []]
            for item in items:
                grandchildren: list[dict] = []
                children.append(_flatten(item, obj.get("id"), grandchildren))
                children.extend(grandchildren)
        else:
            line[key] = value
    if parent_id is not None:
        line["__parentId"] = parent_id
    return line


class BulkRunner:
    """The shop's bulk operations."""

    def __init__(self, sandbox, *, data_dir: str | Path | None = None) -> None:
        self.sandbox = sandbox
        self.dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="shopify-sandbox-bulk-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.operations: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds an operation stays RUNNING before it is executed (a switch for tests)
        self.fail_next = 0  # the next N operations end FAILED with INTERNAL_SERVER_ERROR

    def reset(self) -> None:
        with self.lock:
            self.operations.clear()
        self.delay = 0.0
        self.fail_next = 0

    def get(self, operation_id: str) -> dict | None:
        return self.operations.get(operation_id)

    def current(self) -> dict | None:
        with self.lock:
            return max(self.operations.values(), key=lambda o: o["createdAt"], default=None)

    def path(self, operation_id: str) -> Path:
        return self.dir / f"{operation_id.rsplit('/', 1)[-1]}.jsonl"

    def start(self, query: str) -> dict[str, Any]:
        """bulkOperationRunQuery: validate, refuse while one runs, start in the background."""
        try:
            document = parse(query)
        except GraphQLError as exc:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["query"], "message": f"Invalid query: {exc.message}"}],
            }
        errors = validate(self.sandbox.schema, document)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if errors or len(operations) != 1 or operations[0].operation.value != "query":
            message = "; ".join(e.message for e in errors) or "A bulk query must hold exactly one query operation."
            return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": message}]}
        roots = [s for s in operations[0].selection_set.selections if isinstance(s, FieldNode)]
        depths = _connections(operations[0].selection_set)
        problem = ""
        if len(roots) != 1:
            problem = "Bulk queries must contain exactly one top-level field."
        elif not depths or depths[0] != 1:
            problem = "Bulk queries must contain at least one connection."
        elif len(depths) > MAX_CONNECTIONS:
            problem = f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
        elif max(depths) > MAX_DEPTH:
            problem = f"Bulk queries cannot contain connections with a nesting depth greater than {MAX_DEPTH}."
        if problem:
            return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": problem}]}
        with self.lock:
            running = [o for o in self.operations.values() if o["status"] in ("CREATED", "RUNNING")]
            if running:
                message = IN_PROGRESS.format(id=running[0]["id"])
                return {"bulkOperation": None, "userErrors": [{"field": None, "message": message}]}
            operation = {
                "id": gid("BulkOperation", self.sandbox.store.next_id()),
                "status": "CREATED",
                "type": "QUERY",
                "errorCode": None,
                "createdAt": datetime.now(UTC),
                "completedAt": None,
                "objectCount": 0,
                "rootObjectCount": 0,
                "fileSize": None,
                "url": None,
                "partialDataUrl": None,
                "query": query,
            }
            self.operations[operation["id"]] = operation
        threading.Thread(target=self._run, args=(operation, document, roots[0]), daemon=True).start()
        return {"bulkOperation": operation, "userErrors": []}

    def _run(self, operation: dict, document, root: FieldNode) -> None:
        operation["status"] = "RUNNING"
        if self.delay:
            time.sleep(self.delay)
        try:
            if self.fail_next:
                self.fail_next -= 1
                raise RuntimeError("failure switched on")
            self._execute(operation, document, root)
            operation["status"] = "COMPLETED"
        except Exception:
            operation["status"] = "FAILED"
            operation["errorCode"] = "INTERNAL_SERVER_ERROR"
            operation["url"] = None
        operation["completedAt"] = datetime.now(UTC)
        self.sandbox.webhooks.event(
            "bulk_operations/finish",
            {
                "admin_graphql_api_id": operation["id"],
                "completed_at": iso_z(operation["completedAt"]),
                "created_at": iso_z(operation["createdAt"]),
                "error_code": operation["errorCode"].lower() if operation["errorCode"] else None,
                "status": operation["status"].lower(),
                "type": "query",
            },
        )

    def _execute(self, operation: dict, document, root: FieldNode) -> None:
        from .schema import search_filter

        kind = {"customers": "customers", "companies": "companies"}.get(root.name.value)
        if kind is None:
            raise GraphQLError(f"The sandbox runs bulk queries of customers or companies, not {root.name.value}.")
        query_arg = next((a.value.value for a in root.arguments or () if a.name.value == "query"), None)
        keep = search_filter(query_arg)
        items = [o for o in self.sandbox.store.snapshot(kind) if keep(o)]
        path = self.path(operation["id"])
        objects = 0
        with path.open("w", encoding="utf-8") as out:
            for start in range(0, len(items), PAGE):
                result = execute(
                    self.sandbox.schema,
                    document,
                    context_value={"bulk": True, "bulk_slice": items[start : start + PAGE]},
                )
                if result.errors:
                    raise result.errors[0]
                found = result.data[root.alias.value if root.alias else root.name.value]
                nodes = [e["node"] for e in found["edges"]] if "edges" in found else found.get("nodes", [])
                children: list[dict] = []
                for node in nodes:
                    out.write(json.dumps(_flatten(node, None, children)) + "\n")
                # The page's children after all its parents: after their parent, not right after it.
                for child in children:
                    out.write(json.dumps(child) + "\n")
                objects += len(nodes) + len(children)
                operation["objectCount"] = objects
        operation["rootObjectCount"] = len(items)
        operation["objectCount"] = objects
        if objects:
            operation["fileSize"] = path.stat().st_size
            operation["url"] = f"{self.sandbox.root_url}/_sandbox/bulk/{path.name}"
        else:
            path.unlink(missing_ok=True)
