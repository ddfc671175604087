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


def test_contact_is_refused_a_company_that_is_not_a_customer_a_foreign_subsidiary_or_a_short_phone(
    sandbox: NetSuiteSandbox, rest
) -> None:
    company_id = new_id(rest("PUT", "/record/v1/customer/eid:SHOPCO-2", json=company()))  # subsidiary 2
    attached = {"firstName": "A", "company": {"id": str(company_id)}}
    first = new_id(rest("PUT", "/record/v1/contact/eid:K1", json=attached))
    # A company reference names a customer, not another contact.
    other = rest("PUT", "/record/v1/contact/eid:K2", json={"firstName": "B", "company": {"id": str(first)}})
    assert (other.status_code, error_code(other)) == (400, "NONEXISTENT_ID")
    assert other.json()["o:errorDetails"][0]["o:errorPath"] == "company"
    foreign = {"firstName": "B", "company": {"id": str(company_id)}, "subsidiary": {"id": "1"}}
    moved = rest("PUT", "/record/v1/contact/eid:K2", json=foreign)
    assert (moved.status_code, error_code(moved)) == (400, "USER_ERROR")
    assert moved.json()["o:errorDetails"][0]["o:errorPath"] == "subsidiary"
    short = rest("PATCH", f"/record/v1/contact/{first}", json={"phone": "12"})
    assert (short.status_code, error_code(short)) == (400, "USER_ERROR")
    assert [c["id"] for c in sandbox.contacts_of(company_id)] == [str(first)]


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


def test_suiteql_reads_the_contact_table_with_its_own_columns(sandbox: NetSuiteSandbox, rest, suiteql) -> None:
    company_id = new_id(rest("PUT", "/record/v1/customer/eid:SHOPCO-3", json=company()))
    for eid in ("K10", "K11"):
        rest("PUT", f"/record/v1/contact/eid:{eid}", json={"firstName": "A", "company": {"id": str(company_id)}})
    answer = suiteql("SELECT id, externalid, company, datecreated FROM contact WHERE externalid IN ('K10', 'K11')")
    assert answer.status_code == 200, answer.text
    rows = answer.json()["items"]
    assert sorted(r["externalid"] for r in rows) == ["K10", "K11"]
    assert {r["company"] for r in rows} == {str(company_id)} and all(r["datecreated"] for r in rows)
    # A customer's column is not a contact's.
    wrong = suiteql("SELECT companyname FROM contact")
    assert (wrong.status_code, error_code(wrong)) == (400, "INVALID_PARAMETER")
    assert "for record 'contact'" in wrong.text
