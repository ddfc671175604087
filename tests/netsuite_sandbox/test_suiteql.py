"""SuiteQL over REST: Prefer: transient, limit and offset rules, the 100,000-row cap, links, filters, keyset paging."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from netsuite_sandbox import NetSuiteSandbox

from .conftest import error_code


def test_prefer_transient_is_required(sandbox: NetSuiteSandbox, rest) -> None:
    response = rest("POST", "/query/v1/suiteql", json={"q": "SELECT id FROM customer"})
    assert response.status_code == 400
    assert "Prefer" in response.text


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"limit": 1001}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": 10, "offset": 15}, "multiple"),
        ({"limit": 1000, "offset": 100_000}, "100000"),
        ({"limit": 300, "offset": 99_900}, "100000"),
        ({"limit": "ten"}, "limit"),
    ],
)
def test_paging_parameters_are_checked(suiteql, params: dict, needle: str) -> None:
    response = suiteql("SELECT id FROM customer", **params)
    assert response.status_code == 400
    assert error_code(response) == "INVALID_PARAMETER"
    assert needle in response.text


def test_offset_paging_with_has_more_and_links(sandbox: NetSuiteSandbox, suiteql) -> None:
    sandbox.seed_customers(25)
    first = suiteql("SELECT id, email FROM customer ORDER BY id", limit=10).json()
    assert (first["count"], first["hasMore"], first["offset"], first["totalResults"]) == (10, True, 0, 25)
    links = {link["rel"]: link["href"] for link in first["links"]}
    assert links["next"].endswith("/query/v1/suiteql?limit=10&offset=10")
    assert links["next"].startswith(sandbox.base_url)
    last = suiteql("SELECT id, email FROM customer ORDER BY id", limit=10, offset=20).json()
    assert (last["count"], last["hasMore"]) == (5, False)
    assert "next" not in {link["rel"] for link in last["links"]}
    assert [item["id"] for item in last["items"]] == [str(n) for n in range(21, 26)]


def test_default_limit_is_1000(sandbox: NetSuiteSandbox, suiteql) -> None:
    sandbox.seed_customers(1200)
    page = suiteql("SELECT id FROM customer").json()
    assert page["count"] == 1000
    assert page["hasMore"] is True


def test_items_are_lower_case_strings_without_nulls(sandbox: NetSuiteSandbox, suiteql) -> None:
    sandbox.create_customer(
        {"isPerson": True, "firstName": "Ada", "lastName": "L", "subsidiary": {"id": "3"}, "externalId": "E1"}
    )
    item = suiteql("SELECT * FROM customer").json()["items"][0]
    assert item["id"] == "1"
    assert item["externalid"] == "E1"
    assert item["isperson"] == "T"
    assert item["isinactive"] == "F"
    assert item["subsidiary"] == "3"
    assert "companyname" not in item and "parent" not in item
    assert all(isinstance(v, str) for k, v in item.items() if k != "links")
    datetime.strptime(item["lastmodifieddate"], "%Y-%m-%d %H:%M:%S")


def test_keyset_paging_reaches_past_the_offset_cap(sandbox: NetSuiteSandbox, suiteql) -> None:
    sandbox.seed_customers(2500)
    seen: list[int] = []
    last = 0
    while True:
        page = suiteql(f"SELECT id FROM customer WHERE id > {last} ORDER BY id ASC", limit=1000).json()  # noqa: S608
        seen += [int(item["id"]) for item in page["items"]]
        if not page["hasMore"]:
            break
        last = seen[-1]
    assert seen == list(range(1, 2501))


def test_lastmodifieddate_filter_in_both_literal_forms(sandbox: NetSuiteSandbox, suiteql) -> None:
    sandbox.seed_customers(5)
    sandbox.set_last_modified(2, datetime(2024, 3, 5, 10, 15, 30, tzinfo=UTC))
    sandbox.set_last_modified(4, datetime(2024, 3, 5, 10, 15, 31, tzinfo=UTC))
    for n in (1, 3, 5):
        sandbox.set_last_modified(n, datetime(2024, 3, 5, 10, 0, 0, tzinfo=UTC))
    by_timestamp = suiteql(
        "SELECT id, lastmodifieddate FROM customer WHERE lastmodifieddate >= "
        "TO_TIMESTAMP('2024-03-05 10:15:30', 'YYYY-MM-DD HH24:MI:SS') ORDER BY id"
    ).json()["items"]
    assert [i["id"] for i in by_timestamp] == ["2", "4"]
    assert by_timestamp[0]["lastmodifieddate"] == "2024-03-05 10:15:30"
    by_iso = suiteql("SELECT id FROM customer WHERE lastmodifieddate > '2024-03-05T10:15:30Z'").json()["items"]
    assert [i["id"] for i in by_iso] == ["4"]


def test_subsidiary_external_id_and_inactive_filters(sandbox: NetSuiteSandbox, suiteql) -> None:
    sandbox.seed_customers(3, subsidiary=1)
    sandbox.seed_customers(2, subsidiary=2)
    sandbox.create_customer({"companyName": "Gone", "subsidiary": {"id": "2"}, "isInactive": True, "externalId": "X-9"})
    active_two = suiteql("SELECT id FROM customer WHERE subsidiary = 2 AND isinactive = 'F' ORDER BY id").json()
    assert [i["id"] for i in active_two["items"]] == ["4", "5"]
    assert active_two["totalResults"] == 2
    by_eid = suiteql("SELECT id, externalid FROM customer c WHERE c.externalid = 'X-9'").json()["items"]
    assert by_eid == [{"links": [], "id": "6", "externalid": "X-9"}]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT id FROM customer WHERE id > 1 OR id < 5",
        "SELECT nosuchcolumn FROM customer",
        "SELECT id FROM transaction",
        "DELETE FROM customer",
        "SELECT id FROM customer WHERE lastmodifieddate > TO_TIMESTAMP('yesterday', 'YYYY-MM-DD HH24:MI:SS')",
        "SELECT id FROM customer; DROP TABLE customer",
    ],
)
def test_unsupported_queries_are_refused(sandbox: NetSuiteSandbox, suiteql, query: str) -> None:
    sandbox.seed_customers(1)
    response = suiteql(query)
    assert response.status_code == 400
    assert sandbox.count_customers() == 1


def test_offset_cap_and_keyset_past_100000_rows(sandbox: NetSuiteSandbox, suiteql) -> None:
    sandbox.seed_customers(100_500)
    last_reachable = suiteql("SELECT id FROM customer ORDER BY id", offset=99_000).json()
    assert last_reachable["hasMore"] is True
    assert last_reachable["totalResults"] == 100_500
    assert "next" not in {link["rel"] for link in last_reachable["links"]}
    assert suiteql("SELECT id FROM customer ORDER BY id", offset=100_000).status_code == 400
    beyond = suiteql("SELECT id FROM customer WHERE id > 100000 ORDER BY id").json()
    assert (beyond["count"], beyond["hasMore"]) == (500, False)
    assert beyond["items"][-1]["id"] == "100500"


def test_dates_follow_the_account_time_zone() -> None:
    import requests

    with NetSuiteSandbox(time_zone="America/New_York") as sandbox:
        cid = sandbox.create_customer({"companyName": "Acme", "subsidiary": {"id": "1"}})
        sandbox.set_last_modified(cid, datetime(2024, 7, 1, 16, 0, 0, tzinfo=UTC))

        def query(q: str) -> list[dict]:
            response = requests.post(
                sandbox.base_url + "/query/v1/suiteql",
                json={"q": q},
                headers={"Prefer": "transient"},
                auth=sandbox.oauth(),
                timeout=10,
            )
            return response.json()["items"]

        assert query("SELECT lastmodifieddate FROM customer")[0]["lastmodifieddate"] == "2024-07-01 12:00:00"
        noon = "TO_TIMESTAMP('2024-07-01 12:00:00', 'YYYY-MM-DD HH24:MI:SS')"
        assert query("SELECT id FROM customer WHERE lastmodifieddate >= " + noon)  # noqa: S608
        assert not query("SELECT id FROM customer WHERE lastmodifieddate > " + noon)  # noqa: S608
        assert sandbox.customer(cid)["lastModifiedDate"] == "2024-07-01T16:00:00Z"
