"""Pure mapping of Shopify payloads and bulk lines, without a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shopify.mapping import (
    UnreadablePayload,
    customer_addresses,
    gid_id,
    location_addresses,
    object_from_bulk_line,
    objects_from_webhook,
    topic_enum,
    topic_from_enum,
)
from shopify.services.apply import customer_is_active

from .conftest import payload


def test_gids_and_topics():
    assert gid_id("gid://shopify/Company/42") == "42"
    assert gid_id("gid://shopify/MailingAddress/7?model_name=CustomerAddress") == "7"
    assert gid_id("gid://shopify/Company/42", "Customer") == ""
    assert gid_id(706405506930370084) == "706405506930370084"
    assert gid_id("nonsense") == gid_id(None) == gid_id(True) == ""
    assert topic_enum("company_locations/create") == "COMPANY_LOCATIONS_CREATE"
    assert topic_from_enum("COMPANY_CONTACT_ROLES_ASSIGN") == "company_contact_roles/assign"


def test_the_default_address_comes_first_even_when_only_default_address_is_sent():
    only_default = customer_addresses([], {"id": 1, "address1": "1 A St", "city": "X", "province_code": "ON"})
    assert [(a.label, a.line1, a.state, a.default_billing) for a in only_default] == [("Default", "1 A St", "ON", True)]
    mixed = customer_addresses([{"id": 1, "city": "First"}, {"id": 2, "city": "Second", "default": True}], {"id": 2})
    assert [(a.label, a.city) for a in mixed] == [("Default", "Second"), ("Address 2", "First")]


def test_a_location_with_the_same_billing_and_shipping_has_one_address():
    same = {"address1": "1 B St", "city": "Y", "zone_code": "QC", "zip": "H1", "country_code": "ca"}
    (both,) = location_addresses(same, dict(same))
    assert (both.label, both.country, both.default_billing, both.default_shipping) == (
        "Billing and shipping",
        "CA",
        True,
        True,
    )


def test_a_delete_without_updated_at_takes_the_time_shopify_triggered_it():
    at = datetime(2025, 3, 3, 13, 0, tzinfo=UTC)
    (deleted,) = objects_from_webhook("customers/delete", payload("customers-delete.json").decode(), triggered_at=at)
    assert deleted.deleted and deleted.updated_at == at
    with pytest.raises(UnreadablePayload, match="updated_at"):
        objects_from_webhook("customers/update", json.dumps({"id": 1}))


def test_a_role_assignment_applies_its_contact_and_location():
    body = {
        "company_contact": json.loads(payload("company-contacts-create-claire.json")),
        "company_location": json.loads(payload("company-locations-create-montreal.json")),
        "company_contact_role": {"name": "Location Admin"},
    }
    objects = objects_from_webhook("company_contact_roles/assign", json.dumps(body))
    assert sorted(o.kind for o in objects) == ["contact", "location"]


def test_bulk_lines_name_their_parent():
    line = {"id": "gid://shopify/CompanyLocation/9", "name": "Depot", "updatedAt": "2025-01-01T00:00:00Z",
            "billingAddress": {"city": "Z", "zoneCode": "ON", "countryCode": "CA"},
            "__parentId": "gid://shopify/Company/5"}  # fmt: skip
    location = object_from_bulk_line(json.dumps(line))
    assert (location.kind, location.company_id, location.addresses[0].state) == ("location", "5", "ON")
    with pytest.raises(UnreadablePayload, match="__parentId"):
        object_from_bulk_line({k: v for k, v in line.items() if k != "__parentId"})
    with pytest.raises(UnreadablePayload, match="Product"):
        object_from_bulk_line({"id": "gid://shopify/Product/1"})


@pytest.mark.parametrize(
    "previous, new, active, expected",
    [
        ("", "disabled", None, True),  # a guest without an account buys: active
        ("enabled", "disabled", None, False),  # an account in use is disabled
        ("disabled", "enabled", None, True),
        ("enabled", "enabled", False, False),  # customers/disable says it outright
    ],
)
def test_which_customers_are_active(previous, new, active, expected):
    from customers.models import Customer
    from shopify.mapping import CustomerData

    obj = CustomerData(shopify_id="1", updated_at=datetime.now(UTC), state=new, active=active)
    customer = Customer(pk=1, is_active=previous != "disabled") if previous else None
    assert customer_is_active(obj=obj, customer=customer, previous_state=previous) is expected


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"email": "a@x.io", "updated_at": "2025-05-01T10:00:00Z"}, "has no Shopify ID"),
        (
            {"id": "not-a-number", "updated_at": "2025-05-01T10:00:00Z"},
            "Shopify ID cannot be read (id 'not-a-number')",
        ),
        (
            {"admin_graphql_api_id": "gid://shopify/Company/42", "updated_at": "2025-05-01T10:00:00Z"},
            "gid://shopify/Customer/<number>",
        ),
    ],
)
def test_an_unreadable_id_is_told_apart_from_a_missing_one(body, reason):
    with pytest.raises(UnreadablePayload) as failure:
        objects_from_webhook("customers/update", json.dumps(body))
    assert reason in str(failure.value)
