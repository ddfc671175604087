"""The sandbox's bulk operations: one at a time, JSONL with __parentId after the parent, a finish webhook."""

from __future__ import annotations

import json
import time

import requests

from shopify_sandbox import ShopifySandbox

RUN = 'mutation { bulkOperationRunQuery(query: "%s") { bulkOperation { id status } userErrors { field message } } }'


def run(sandbox: ShopifySandbox, query: str) -> dict:
    return sandbox.graphql(RUN % query.replace('"', '\\"'), {})["data"]["bulkOperationRunQuery"]


def wait(sandbox: ShopifySandbox, operation_id: str) -> dict:
    for _ in range(200):
        node = sandbox.graphql(
            "query($id: ID!) { node(id: $id) { ... on BulkOperation { status url objectCount rootObjectCount "
            "errorCode } } }",
            {"id": operation_id},
        )["data"]["node"]
        if node["status"] not in ("CREATED", "RUNNING"):
            return node
        time.sleep(0.02)
    raise AssertionError("the bulk operation did not finish")


def test_companies_come_as_jsonl_children_after_their_parent(shopify_sandbox):
    store = shopify_sandbox.store
    companies = [store.create_company(**store.fake_company(locations=2, contacts=1)) for _ in range(3)]
    started = run(
        shopify_sandbox,
        "{ companies { edges { node { id name locations { edges { node { id name } } } "
        "contacts { edges { node { id customer { id } } } } } } } }",
    )
    assert started["userErrors"] == []
    done = wait(shopify_sandbox, started["bulkOperation"]["id"])
    assert done["status"] == "COMPLETED" and done["objectCount"] == "12" and done["rootObjectCount"] == "3"
    lines = [json.loads(line) for line in requests.get(done["url"], timeout=10).text.splitlines()]
    seen: set[str] = set()
    for line in lines:
        if "__parentId" in line:
            assert line["__parentId"] in seen, "a child came before its parent"
        seen.add(line["id"])
    parents = [line["id"] for line in lines if "__parentId" not in line]
    assert parents == [f"gid://shopify/Company/{c['id']}" for c in companies]
    # Children follow their parent, not necessarily right after it: here after the page's parents.
    assert "__parentId" not in lines[1]


def test_one_bulk_query_at_a_time(shopify_sandbox):
    shopify_sandbox.seed_customers(2)
    shopify_sandbox.configure(bulk_delay=0.3)
    first = run(shopify_sandbox, "{ customers { edges { node { id } } } }")["bulkOperation"]
    second = run(shopify_sandbox, "{ customers { edges { node { id } } } }")
    assert second["bulkOperation"] is None
    assert second["userErrors"][0]["message"] == (
        f"A bulk query operation for this app and shop is already in progress: {first['id']}."
    )
    assert wait(shopify_sandbox, first["id"])["status"] == "COMPLETED"


def test_a_query_without_a_connection_or_too_deep_is_refused(shopify_sandbox):
    assert "at least one connection" in run(shopify_sandbox, "{ shop { name } }")["userErrors"][0]["message"]
    nested = run(shopify_sandbox, "{ companies { edges { node { locations { edges { node { company { "
                 "locations { edges { node { id } } } } } } } } } } }")  # fmt: skip
    assert "nesting depth" in nested["userErrors"][0]["message"]


def test_no_match_gives_no_file_and_a_failure_says_so(shopify_sandbox):
    done = wait(shopify_sandbox, run(shopify_sandbox, "{ customers { edges { node { id } } } }")["bulkOperation"]["id"])
    assert (done["status"], done["url"], done["objectCount"]) == ("COMPLETED", None, "0")
    shopify_sandbox.configure(bulk_fail_next=1)
    failed = wait(
        shopify_sandbox, run(shopify_sandbox, "{ customers { edges { node { id } } } }")["bulkOperation"]["id"]
    )
    assert (failed["status"], failed["errorCode"]) == ("FAILED", "INTERNAL_SERVER_ERROR")


def test_updated_at_search_limits_the_customers(shopify_sandbox):
    old_first, _ = shopify_sandbox.seed_customers(2)
    for customer in shopify_sandbox.store.customers.values():
        customer["updatedAt"] = customer["updatedAt"].replace(year=2020)
    shopify_sandbox.seed_customers(1)
    started = run(
        shopify_sandbox, "{ customers(query: \"updated_at:>='2024-01-01T00:00:00Z'\") { edges { node { id } } } }"
    )
    done = wait(shopify_sandbox, started["bulkOperation"]["id"])
    assert done["objectCount"] == "1"
    assert str(old_first) not in requests.get(done["url"], timeout=10).text
