"""Customer records over REST: create, upsert by external ID, patch, get, and NetSuite's validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from netsuite_sandbox import NetSuiteSandbox

from .conftest import company, error_code, new_id, person


def test_post_creates_and_get_returns_camel_case_json(sandbox: NetSuiteSandbox, rest) -> None:
    body = person(
        externalId="C10042",
        email="ada@example.com",
        phone="+44 20 7946 0000",
        terms={"id": "2"},
        priceLevel={"id": "1"},
        addressBook={
            "items": [
                {
                    "label": "Home",
                    "defaultBilling": True,
                    "defaultShipping": False,
                    "addressBookAddress": {
                        "addr1": "1 Main St",
                        "city": "London",
                        "zip": "N1",
                        "country": {"id": "GB"},
                    },
                }
            ]
        },
    )
    created = rest("POST", "/record/v1/customer", json=body)
    cid = new_id(created)
    assert created.headers["Location"] == f"{sandbox.base_url}/record/v1/customer/{cid}"

    got = rest("GET", f"/record/v1/customer/{cid}").json()
    assert got["id"] == str(cid)
    assert got["externalId"] == "C10042"
    assert got["entityId"]
    assert got["isPerson"] is True
    assert (got["firstName"], got["lastName"], got["email"]) == ("Ada", "Lovelace", "ada@example.com")
    assert got["subsidiary"]["id"] == "1"
    assert got["terms"]["id"] == "2"
    assert got["priceLevel"]["id"] == "1"
    assert got["isInactive"] is False
    line = got["addressBook"]["items"][0]
    assert line["label"] == "Home"
    assert line["defaultBilling"] is True
    assert line["addressBookAddress"]["country"] == {"id": "GB"}
    modified = datetime.fromisoformat(got["lastModifiedDate"].replace("Z", "+00:00"))
    assert abs(modified - datetime.now(UTC)) < timedelta(minutes=1)


def test_post_with_an_external_id_in_use_is_refused_as_duplicate(sandbox: NetSuiteSandbox, rest) -> None:
    new_id(rest("POST", "/record/v1/customer", json=person(externalId="C1")))
    second = rest("POST", "/record/v1/customer", json=person(externalId="C1"))
    assert second.status_code == 400
    assert error_code(second) == "DUP_ENTITY"
    assert sandbox.count_customers(external_id="C1") == 1


def test_blind_posts_without_external_id_make_duplicates_the_sandbox_reports(sandbox: NetSuiteSandbox, rest) -> None:
    new_id(rest("POST", "/record/v1/customer", json=person(email="twice@example.com")))
    new_id(rest("POST", "/record/v1/customer", json=person(email="twice@example.com")))
    assert sandbox.count_customers(email="TWICE@example.com") == 2
    assert sandbox.duplicates()["email"] == {"twice@example.com": 2}


def test_put_by_external_id_creates_then_updates_the_same_customer(sandbox: NetSuiteSandbox, rest) -> None:
    first = rest("PUT", "/record/v1/customer/eid:C-77_a", json=person(email="a@example.com"))
    cid = new_id(first)
    again = rest("PUT", "/record/v1/customer/eid:C-77_a", json={"email": "b@example.com"})
    assert new_id(again) == cid
    assert sandbox.count_customers(external_id="C-77_a") == 1
    got = rest("GET", f"/record/v1/customer/{cid}").json()
    assert got["email"] == "b@example.com"
    assert got["firstName"] == "Ada"  # fields not sent stay as they were


def test_put_same_body_twice_is_idempotent(sandbox: NetSuiteSandbox, rest) -> None:
    ids = {new_id(rest("PUT", "/record/v1/customer/eid:SAME", json=company())) for _ in range(3)}
    assert len(ids) == 1
    assert sandbox.count_customers() == 1


def test_put_with_invalid_external_id_is_refused(sandbox: NetSuiteSandbox, rest) -> None:
    response = rest("PUT", "/record/v1/customer/eid:bad%20id!", json=person())
    assert response.status_code == 400
    assert error_code(response) == "USER_ERROR"
    assert sandbox.count_customers() == 0


def test_patch_updates_fields_and_lastmodifieddate(sandbox: NetSuiteSandbox, rest) -> None:
    cid = new_id(rest("POST", "/record/v1/customer", json=company()))
    sandbox.set_last_modified(cid, datetime(2020, 1, 1, tzinfo=UTC))
    patched = rest("PATCH", f"/record/v1/customer/{cid}", json={"phone": "555-123-4567", "isInactive": True})
    assert patched.status_code == 204
    got = rest("GET", f"/record/v1/customer/{cid}").json()
    assert got["phone"] == "555-123-4567"
    assert got["isInactive"] is True
    assert got["companyName"] == "Analytical Engines Ltd"
    assert got["lastModifiedDate"] > "2020-01-01T00:00:00Z"


def test_get_and_patch_of_unknown_id_answer_nonexistent_id(rest) -> None:
    for method in ("GET", "PATCH"):
        response = rest(method, "/record/v1/customer/999", json={"phone": "5551234567"})
        assert response.status_code == 404
        assert error_code(response) == "NONEXISTENT_ID"
        assert "record instance does not exist" in response.json()["o:errorDetails"][0]["detail"]


def test_sub_customer_needs_an_existing_parent(sandbox: NetSuiteSandbox, rest) -> None:
    missing = rest("PUT", "/record/v1/customer/eid:SUB1", json=person(parent={"id": "4242"}))
    assert missing.status_code == 400
    assert error_code(missing) == "NONEXISTENT_ID"
    assert sandbox.count_customers() == 0

    parent_id = new_id(rest("PUT", "/record/v1/customer/eid:PARENT1", json=company()))
    by_id = new_id(rest("PUT", "/record/v1/customer/eid:SUB1", json=person(parent={"id": str(parent_id)})))
    by_eid = new_id(rest("PUT", "/record/v1/customer/eid:SUB2", json=person(parent={"externalId": "PARENT1"})))
    for cid in (by_id, by_eid):
        assert rest("GET", f"/record/v1/customer/{cid}").json()["parent"]["id"] == str(parent_id)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"isPerson": True, "lastName": "L", "subsidiary": {"id": "1"}}, "First Name"),
        ({"isPerson": True, "firstName": "F", "subsidiary": {"id": "1"}}, "Last Name"),
        ({"isPerson": False, "subsidiary": {"id": "1"}}, "Company Name"),
        ({"companyName": "Acme"}, "Subsidiary"),
        (company(subsidiary={"id": "99"}), "subsidiary"),
        (company(terms={"id": "999"}), "terms"),
        (company(email="not-an-email"), "email"),
        (company(phone="12345"), "seven digits"),
        (company(isPerson="yes"), "isPerson"),
        (company(externalId="has space"), "external ID"),
    ],
)
def test_invalid_customer_is_refused_with_user_error(sandbox: NetSuiteSandbox, rest, body: dict, needle: str) -> None:
    response = rest("POST", "/record/v1/customer", json=body)
    assert response.status_code == 400
    assert error_code(response) == "USER_ERROR"
    assert needle in response.text
    assert sandbox.count_customers() == 0


def test_bad_json_is_refused_with_user_error(sandbox: NetSuiteSandbox, rest) -> None:
    response = rest(
        "POST", "/record/v1/customer", data=b'{"companyName": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_code(response) == "USER_ERROR"
    patch_list = rest("PUT", "/record/v1/customer/eid:X1", json=["not", "an", "object"])
    assert patch_list.status_code == 400
    assert sandbox.count_customers() == 0


def test_patch_that_breaks_mandatory_fields_is_refused(rest) -> None:
    cid = new_id(rest("POST", "/record/v1/customer", json=person()))
    response = rest("PATCH", f"/record/v1/customer/{cid}", json={"firstName": ""})
    assert response.status_code == 400
    assert rest("GET", f"/record/v1/customer/{cid}").json()["firstName"] == "Ada"


def test_control_endpoint_counts_customers_by_external_id(sandbox: NetSuiteSandbox, rest) -> None:
    import requests

    new_id(rest("PUT", "/record/v1/customer/eid:ONE", json=person(email="one@example.com")))
    answer = requests.get(sandbox.root_url + "/_sandbox/customers", params={"externalId": "ONE"}, timeout=10).json()
    assert answer["count"] == 1
    assert answer["items"][0]["email"] == "one@example.com"
    assert sandbox.customers_by_external_id("ONE")[0]["externalId"] == "ONE"
