"""Contacts of a company customer, and external IDs shared by the whole entity group."""

from __future__ import annotations

from netsuite_sandbox import NetSuiteSandbox

from .conftest import company, error_code, new_id, person


def test_contact_upsert_links_to_its_company(sandbox: NetSuiteSandbox, rest) -> None:
    company_id = new_id(rest("PUT", "/record/v1/customer/eid:SHOPCO-1", json=company()))
    body = {
        "firstName": "Grace",
        "lastName": "Hopper",
        "email": "grace@example.com",
        "company": {"id": str(company_id)},
    }
    contact_id = new_id(rest("PUT", "/record/v1/contact/eid:SHOPCC-7", json=body))
    again = new_id(rest("PUT", "/record/v1/contact/eid:SHOPCC-7", json={**body, "title": "Buyer"}))
    assert again == contact_id

    got = rest("GET", f"/record/v1/contact/{contact_id}").json()
    assert (got["externalId"], got["company"]["id"], got["title"]) == ("SHOPCC-7", str(company_id), "Buyer")
    assert got["subsidiary"]["id"] == "2"  # the company's
    assert [c["id"] for c in sandbox.contacts_of(company_id)] == [str(contact_id)]


def test_contact_needs_an_existing_company_and_a_name(sandbox: NetSuiteSandbox, rest) -> None:
    missing = rest("PUT", "/record/v1/contact/eid:CC1", json={"firstName": "A", "company": {"id": "999"}})
    assert (missing.status_code, error_code(missing)) == (400, "NONEXISTENT_ID")
    nameless = rest("POST", "/record/v1/contact", json={"email": "x@example.com", "subsidiary": {"id": "1"}})
    assert (nameless.status_code, error_code(nameless)) == (400, "USER_ERROR")


def test_an_external_id_is_unique_across_customers_contacts_and_vendors(sandbox: NetSuiteSandbox, rest) -> None:
    new_id(rest("PUT", "/record/v1/customer/eid:SHARED-1", json=person()))
    as_contact = rest("PUT", "/record/v1/contact/eid:SHARED-1", json={"firstName": "A", "subsidiary": {"id": "1"}})
    assert (as_contact.status_code, error_code(as_contact)) == (400, "DUP_ENTITY")

    sandbox.add_entity("vendor", "VEND-9")
    as_customer = rest("PUT", "/record/v1/customer/eid:VEND-9", json=person())
    assert (as_customer.status_code, error_code(as_customer)) == (400, "DUP_ENTITY")
    assert "vendor" in as_customer.json()["o:errorDetails"][0]["detail"]
    cid = new_id(rest("POST", "/record/v1/customer", json=person()))
    renamed = rest("PATCH", f"/record/v1/customer/{cid}", json={"externalId": "VEND-9"})
    assert (renamed.status_code, error_code(renamed)) == (400, "DUP_ENTITY")
    assert sandbox.count_customers() == 2
