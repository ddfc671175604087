"""Pure mapping between portal customers and NetSuite JSON, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from netsuite.mapping import (
    MappingError,
    Mappings,
    contact_to_netsuite,
    customer_to_netsuite,
    netsuite_keys,
    netsuite_to_customer_fields,
)

MAPPINGS = Mappings.from_json(
    {
        "payment_terms": {"Net 30": "2"},
        "price_levels": {"Base Price": "1", "Wholesale": "2"},
        "sales_reps": {"Jane Doe": "-5"},
        "subsidiaries": {"Parent Company": "1", "Honeycomb Mfg.": "2"},
    }
)


def customer(**fields) -> SimpleNamespace:
    values = {
        "customer_id": "C10042",
        "party_type": "person",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "",
        "email": "ada@example.com",
        "phone": "+1 555 0100",
        "payment_term": "Net 30",
        "price_level": "Base Price",
        "sales_rep": "",
        "subsidiary": "Parent Company",
        "is_active": True,
    }
    values.update(fields)
    return SimpleNamespace(**values)


def address(**fields) -> SimpleNamespace:
    values = {
        "label": "Home",
        "line1": "1 Main St",
        "line2": "",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
        "country": "us",
        "is_default_billing": False,
        "is_default_shipping": False,
    }
    values.update(fields)
    return SimpleNamespace(**values)


def contact(**fields) -> SimpleNamespace:
    values = {
        "contact_id": "K00C0FFEE0042",
        "first_name": "Bob",
        "last_name": "Buyer",
        "email": "",
        "phone": "",
        "role": "Buyer",
    }
    values.update(fields)
    return SimpleNamespace(**values)


def test_person_maps_names_references_and_external_id():
    body = customer_to_netsuite(customer(), [address()], [], MAPPINGS, {})
    assert body["externalId"] == "C10042"
    assert body["isPerson"] is True
    assert (body["firstName"], body["lastName"]) == ("Ada", "Lovelace")
    assert "companyName" not in body
    assert body["terms"] == {"id": "2"}
    assert body["priceLevel"] == {"id": "1"}
    assert body["subsidiary"] == {"id": "1"}
    assert "salesRep" not in body
    assert body["isInactive"] is False
    assert "parent" not in body


def test_every_address_is_sent_with_its_label_and_the_first_becomes_default_when_none_is():
    body = customer_to_netsuite(
        customer(), [address(label="Home"), address(label="Office", line2="Floor 2", country="")], [], MAPPINGS, {}
    )
    items = body["addressBook"]["items"]
    assert [i["label"] for i in items] == ["Home", "Office"]
    assert (items[0]["defaultBilling"], items[0]["defaultShipping"]) == (True, True)
    assert (items[1]["defaultBilling"], items[1]["defaultShipping"]) == (False, False)
    assert items[0]["addressBookAddress"] == {
        "addr1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
        "country": {"id": "US"},
    }
    assert items[1]["addressBookAddress"]["addr2"] == "Floor 2"
    assert "country" not in items[1]["addressBookAddress"]


def test_marked_defaults_are_kept_on_their_addresses():
    body = customer_to_netsuite(
        customer(),
        [address(label="Bill", is_default_billing=True), address(label="Ship", is_default_shipping=True)],
        [],
        MAPPINGS,
        {},
    )
    items = body["addressBook"]["items"]
    assert [(i["defaultBilling"], i["defaultShipping"]) for i in items] == [(True, False), (False, True)]


def test_company_without_email_is_reached_through_its_buyer():
    body = customer_to_netsuite(
        customer(party_type="company", company_name="Engines Ltd", email="", phone=""),
        [address()],
        [
            contact(role="Accounts", email="ap@engines.example"),
            contact(email="buyer@engines.example", phone="555 0199 1"),
        ],
        MAPPINGS,
        {},
    )
    assert body["isPerson"] is False
    assert body["companyName"] == "Engines Ltd"
    assert "firstName" not in body
    assert body["email"] == "buyer@engines.example"
    assert body["phone"] == "555 0199 1"


def test_sub_customer_points_at_its_parent_and_inactive_is_sent():
    body = customer_to_netsuite(customer(is_active=False), [address()], [], MAPPINGS, {}, parent_internal_id="812")
    assert body["parent"] == {"id": "812"}
    assert body["isInactive"] is True


def test_values_without_mapping_are_refused_each_with_its_own_message():
    with pytest.raises(MappingError) as caught:
        customer_to_netsuite(customer(payment_term="Net 45", sales_rep="Nobody"), [address()], [], MAPPINGS, {})
    assert len(caught.value.problems) == 2
    assert "Payment term 'Net 45' has no NetSuite ID" in caught.value.problems[0]
    assert "Sales rep 'Nobody'" in caught.value.problems[1]


def test_lookup_ignores_case_and_spacing_and_numbers_are_ids():
    body = customer_to_netsuite(
        customer(price_level="  wholesale ", sales_rep="jane  doe", payment_term="7"), [address()], [], MAPPINGS, {}
    )
    assert body["priceLevel"] == {"id": "2"}
    assert body["salesRep"] == {"id": "-5"}
    assert body["terms"] == {"id": "7"}


def test_defaults_fill_blank_values():
    body = customer_to_netsuite(
        customer(subsidiary="", sales_rep=""),
        [address()],
        [],
        MAPPINGS,
        {"subsidiary": "3", "salesRep": "-5", "entityStatus": "13"},
    )
    assert body["subsidiary"] == {"id": "3"}
    assert body["salesRep"] == {"id": "-5"}
    assert body["entityStatus"] == {"id": "13"}


def test_suiteql_row_maps_back_with_the_mappings_reversed():
    row = {
        "id": "812",
        "externalid": "C10042",
        "isperson": "F",
        "companyname": "Engines Ltd",
        "email": "info@engines.example",
        "subsidiary": "2",
        "terms": "2",
        "pricelevel": "5",
        "isinactive": "T",
        "parent": "77",
        "lastmodifieddate": "2024-03-05 10:15:30",
        "custentity_hc_shopify_customer_id": "7000000000812",
    }
    fields = netsuite_to_customer_fields(row, mappings=MAPPINGS)
    assert fields["party_type"] == "company"
    assert fields["company_name"] == "Engines Ltd"
    assert fields["first_name"] == ""
    assert fields["subsidiary"] == "Honeycomb Mfg."
    assert fields["payment_term"] == "Net 30"
    assert fields["price_level"] == "5"  # no mapping: the ID is kept, visible to the operator
    assert fields["is_active"] is False
    keys = netsuite_keys(row)
    assert (keys.internal_id, keys.external_id, keys.parent_id, keys.shopify_id) == (
        "812",
        "C10042",
        "77",
        "7000000000812",
    )
    assert keys.last_modified == datetime(2024, 3, 5, 10, 15, 30, tzinfo=UTC)


def test_rest_record_maps_back_using_reference_names():
    record = {
        "id": "9",
        "isPerson": True,
        "firstName": "Ada",
        "lastName": "Lovelace",
        "priceLevel": {"id": "4", "refName": "MSRP"},
        "subsidiary": {"id": "1", "refName": "Parent Company"},
        "isInactive": False,
        "lastModifiedDate": "2024-03-05T10:15:30Z",
    }
    fields = netsuite_to_customer_fields(record, mappings=MAPPINGS)
    assert (fields["party_type"], fields["first_name"], fields["last_name"]) == ("person", "Ada", "Lovelace")
    assert fields["price_level"] == "MSRP"
    assert fields["subsidiary"] == "Parent Company"
    assert fields["is_active"] is True
    assert netsuite_keys(record).last_modified == datetime(2024, 3, 5, 10, 15, 30, tzinfo=UTC)


def test_round_trip_keeps_the_customer_fields():
    original = customer(sales_rep="Jane Doe")
    body = customer_to_netsuite(original, [address()], [], MAPPINGS, {})
    body = {**body, "terms": {"id": "2"}, "salesRep": {"id": "-5"}}
    back = netsuite_to_customer_fields(body, mappings=MAPPINGS)
    for name in ("first_name", "last_name", "email", "phone", "payment_term", "price_level", "subsidiary", "sales_rep"):
        assert back[name] == getattr(original, name), name


def test_contact_is_attached_to_its_company_with_the_company_subsidiary():
    body = contact_to_netsuite(
        contact(first_name=" Grace ", last_name="Hopper", email="grace@example.com", phone="+1 555 0199"), "812", "2"
    )
    assert body == {
        "externalId": "K00C0FFEE0042",
        "firstName": "Grace",
        "lastName": "Hopper",
        "email": "grace@example.com",
        "phone": "+1 555 0199",
        "title": "Buyer",
        "company": {"id": "812"},
        "subsidiary": {"id": "2"},
    }


def test_contact_fields_cleared_in_the_portal_are_sent_empty_and_no_subsidiary_is_left_to_netsuite():
    body = contact_to_netsuite(contact(role=""), "812", None)
    assert (body["email"], body["phone"], body["title"]) == ("", "", "")
    assert "subsidiary" not in body
