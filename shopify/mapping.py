"""Pure mapping of what Shopify sends (webhook payloads and bulk-operation JSONL lines) to the portal's terms.

No database here. Webhook payloads are the REST shapes of the webhooks reference (shopify.dev/docs/api/webhooks,
the sample payload of each topic): a customer has a numeric ``id``; B2B objects carry only
``admin_graphql_api_id``, and a location or contact embeds its ``company``. Bulk-operation lines are GraphQL
objects (camelCase, ``id`` a GID); a nested connection's objects are lines of their own with ``__parentId``
(shopify.dev/docs/api/usage/bulk-operations/queries). Both become the same dataclasses, which
``shopify.services.apply`` applies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar

from customers.models import SHOPIFY_CUST_ID

SHOPIFY_COMPANY_ID = "SHOPIFY_COMPANY_ID"
SHOPIFY_COMPANY_LOCATION_ID = "SHOPIFY_COMPANY_LOCATION_ID"

# Account states (Customer.state): an account that was in use and is disabled deactivates the customer.
ACCOUNT_STATES = ("enabled", "invited", "declined")
DISABLED = "disabled"


class UnreadablePayload(Exception):
    """The payload is not what Shopify documents for its topic; the message says what is wrong."""


@dataclass(frozen=True)
class AddressData:
    label: str
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    default_billing: bool = False
    default_shipping: bool = False

    def key(self) -> tuple:
        return (self.label, self.line1, self.line2, self.city, self.state, self.zip, self.country,
                self.default_billing, self.default_shipping)  # fmt: skip

    def place(self) -> tuple:
        return (self.line1, self.line2, self.city, self.state, self.zip, self.country)


@dataclass(frozen=True)
class CustomerData:
    kind: ClassVar[str] = "customer"
    identification: ClassVar[str] = SHOPIFY_CUST_ID
    shopify_id: str
    updated_at: datetime
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    state: str = ""
    addresses: tuple[AddressData, ...] = ()
    deleted: bool = False
    # customers/enable and customers/disable say outright what the account became.
    active: bool | None = None


@dataclass(frozen=True)
class CompanyData:
    kind: ClassVar[str] = "company"
    identification: ClassVar[str] = SHOPIFY_COMPANY_ID
    shopify_id: str
    updated_at: datetime
    name: str = ""
    external_id: str = ""
    deleted: bool = False


@dataclass(frozen=True)
class LocationData:
    kind: ClassVar[str] = "location"
    identification: ClassVar[str] = SHOPIFY_COMPANY_LOCATION_ID
    shopify_id: str
    updated_at: datetime
    company_id: str
    name: str = ""
    phone: str = ""
    addresses: tuple[AddressData, ...] = ()
    deleted: bool = False
    company: CompanyData | None = None


@dataclass(frozen=True)
class ContactData:
    kind: ClassVar[str] = "contact"
    identification: ClassVar[str] = ""
    shopify_id: str
    updated_at: datetime
    company_id: str
    customer_id: str = ""
    title: str = ""
    deleted: bool = False
    company: CompanyData | None = None


ShopifyObject = CustomerData | CompanyData | LocationData | ContactData

# topic → (kind, deleted, active) for the topics the portal applies (shopify.dev/docs/api/webhooks).
TOPICS: dict[str, tuple[str, bool, bool | None]] = {
    "customers/create": ("customer", False, None),
    "customers/update": ("customer", False, None),
    "customers/enable": ("customer", False, True),
    "customers/disable": ("customer", False, False),
    "customers/delete": ("customer", True, None),
    "companies/create": ("company", False, None),
    "companies/update": ("company", False, None),
    "companies/delete": ("company", True, None),
    "company_locations/create": ("location", False, None),
    "company_locations/update": ("location", False, None),
    "company_locations/delete": ("location", True, None),
    "company_contacts/create": ("contact", False, None),
    "company_contacts/update": ("contact", False, None),
    "company_contacts/delete": ("contact", True, None),
    "company_contact_roles/assign": ("role", False, None),
    "company_contact_roles/revoke": ("role", False, None),
}
BULK_FINISH_TOPIC = "bulk_operations/finish"
# The topics the portal subscribes to, as the GraphQL WebhookSubscriptionTopic enum names them.
SUBSCRIBED_TOPICS = (*TOPICS, BULK_FINISH_TOPIC)


def topic_enum(topic: str) -> str:
    """Return the WebhookSubscriptionTopic value of a topic: customers/create → CUSTOMERS_CREATE."""
    return topic.replace("/", "_").upper()


def topic_from_enum(value: str) -> str:
    """Return the topic of a WebhookSubscriptionTopic value: COMPANY_LOCATIONS_CREATE → company_locations/create."""
    head, _, action = value.lower().rpartition("_")
    return f"{head}/{action}"


def parse_time(value: Any) -> datetime | None:
    """Parse Shopify's ISO 8601 timestamps ("2021-12-31T19:00:00-05:00", "...Z"); None when absent or bad."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def gid_id(value: Any, expected_type: str = "") -> str:
    """Return the numeric ID of a GID (gid://shopify/Company/42 → "42") or of a number; "" when it is neither."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value) if value > 0 else ""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if text.startswith("gid://shopify/"):
        kind, _, number = text.removeprefix("gid://shopify/").partition("/")
        number = number.split("?", 1)[0]
        if expected_type and kind != expected_type:
            return ""
        text = number
    return text if text.isdigit() else ""


def gid_type(value: Any) -> str:
    """Return the type of a GID (gid://shopify/CompanyLocation/1 → CompanyLocation)."""
    if isinstance(value, str) and value.startswith("gid://shopify/"):
        return value.removeprefix("gid://shopify/").split("/", 1)[0]
    return ""


def _text(value: Any, limit: int) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return " ".join(str(value).split())[:limit]


def _required_id(payload: Mapping, expected_type: str, what: str) -> str:
    found = gid_id(payload.get("id"), expected_type) or gid_id(payload.get("admin_graphql_api_id"), expected_type)
    if not found:
        given = [f"{key} {payload[key]!r}" for key in ("id", "admin_graphql_api_id") if payload.get(key) is not None]
        if given:
            raise UnreadablePayload(
                f"The {what}'s Shopify ID cannot be read ({', '.join(given)}): a {expected_type} ID is a positive "
                f"number or gid://shopify/{expected_type}/<number>."
            )
        raise UnreadablePayload(f"The {what} has no Shopify ID (neither id nor admin_graphql_api_id).")
    return found


def _required_time(payload: Mapping, fallback: datetime | None, what: str) -> datetime:
    found = parse_time(payload.get("updated_at") or payload.get("updatedAt")) or fallback
    if found is None:
        raise UnreadablePayload(f"The {what} has no readable updated_at, so its age cannot be compared.")
    return found


# ---- addresses ----------------------------------------------------------------------------------


def _mailing_address(raw: Mapping, *, label: str, default: bool) -> AddressData:
    """A customer's MailingAddress, REST (province_code) or GraphQL (provinceCode) spelling."""
    return AddressData(
        label=label,
        line1=_text(raw.get("address1"), 200),
        line2=_text(raw.get("address2"), 200),
        city=_text(raw.get("city"), 100),
        state=_text(raw.get("province_code") or raw.get("provinceCode") or raw.get("province"), 100),
        zip=_text(raw.get("zip"), 20),
        country=_text(raw.get("country_code") or raw.get("countryCodeV2") or raw.get("countryCode"), 2).upper(),
        default_billing=default,
        default_shipping=default,
    )


def customer_addresses(addresses: Any, default_address: Any) -> tuple[AddressData, ...]:
    """Map a customer's addresses: the default one first (label "Default"), then "Address 2", "Address 3"…"""
    items = [a for a in (addresses if isinstance(addresses, list) else []) if isinstance(a, Mapping)]
    default_id = default_address.get("id") if isinstance(default_address, Mapping) else None
    if isinstance(default_address, Mapping) and not any(
        default_id is not None and a.get("id") == default_id for a in items
    ):
        # The webhook's sample customers/create carries its address in default_address only.
        items.insert(0, default_address)
    first = next(
        (n for n, a in enumerate(items) if a.get("default") is True or (default_id and a.get("id") == default_id)), 0
    )
    ordered = items[first : first + 1] + items[:first] + items[first + 1 :]
    return tuple(
        _mailing_address(raw, label="Default" if n == 0 else f"Address {n + 1}", default=n == 0)
        for n, raw in enumerate(ordered)
    )


def _company_address(raw: Any, *, label: str, billing: bool, shipping: bool) -> AddressData | None:
    """A CompanyAddress: zone_code (REST) or zoneCode (GraphQL) is the state."""
    if not isinstance(raw, Mapping):
        return None
    return AddressData(
        label=label,
        line1=_text(raw.get("address1"), 200),
        line2=_text(raw.get("address2"), 200),
        city=_text(raw.get("city"), 100),
        state=_text(raw.get("zone_code") or raw.get("zoneCode") or raw.get("province"), 100),
        zip=_text(raw.get("zip"), 20),
        country=_text(raw.get("country_code") or raw.get("countryCode"), 2).upper(),
        default_billing=billing,
        default_shipping=shipping,
    )


def location_addresses(billing: Any, shipping: Any) -> tuple[AddressData, ...]:
    """A location's billing and shipping addresses; one "Billing and shipping" address when they are the same."""
    bill = _company_address(billing, label="Billing", billing=True, shipping=False)
    ship = _company_address(shipping, label="Shipping", billing=False, shipping=True)
    if bill and ship and bill.place() == ship.place():
        return (replace(bill, label="Billing and shipping", default_shipping=True),)
    return tuple(a for a in (bill, ship) if a is not None)


# ---- webhook payloads ---------------------------------------------------------------------------


def _customer_rest(payload: Mapping, *, triggered_at: datetime | None, deleted: bool, active: bool | None):
    shopify_id = _required_id(payload, "Customer", "customer")
    return CustomerData(
        shopify_id=shopify_id,
        # customers/delete carries no updated_at (its sample is id and admin_graphql_api_id only): the time
        # Shopify triggered the deletion stands for it.
        updated_at=_required_time(payload, triggered_at if deleted else None, "customer"),
        first_name=_text(payload.get("first_name"), 100),
        last_name=_text(payload.get("last_name"), 100),
        email=_text(payload.get("email"), 254),
        phone=_text(payload.get("phone"), 40),
        state=_text(payload.get("state"), 20).lower(),
        addresses=customer_addresses(payload.get("addresses"), payload.get("default_address")),
        deleted=deleted,
        active=active,
    )


def _company_rest(payload: Any, *, triggered_at: datetime | None = None, deleted: bool = False) -> CompanyData:
    if not isinstance(payload, Mapping):
        raise UnreadablePayload("The company is missing or not an object.")
    return CompanyData(
        shopify_id=_required_id(payload, "Company", "company"),
        updated_at=_required_time(payload, triggered_at if deleted else None, "company"),
        name=_text(payload.get("name"), 200),
        external_id=_text(payload.get("external_id"), 100),
        deleted=deleted,
    )


def _location_rest(payload: Any, *, triggered_at: datetime | None = None, deleted: bool = False) -> LocationData:
    if not isinstance(payload, Mapping):
        raise UnreadablePayload("The company location is missing or not an object.")
    company = _company_rest(payload.get("company"))
    return LocationData(
        shopify_id=_required_id(payload, "CompanyLocation", "company location"),
        updated_at=_required_time(payload, triggered_at if deleted else None, "company location"),
        company_id=company.shopify_id,
        name=_text(payload.get("name"), 200),
        phone=_text(payload.get("phone"), 40),
        addresses=location_addresses(payload.get("billing_address"), payload.get("shipping_address")),
        deleted=deleted,
        company=company,
    )


def _contact_rest(payload: Any, *, triggered_at: datetime | None = None, deleted: bool = False) -> ContactData:
    if not isinstance(payload, Mapping):
        raise UnreadablePayload("The company contact is missing or not an object.")
    company = _company_rest(payload.get("company"))
    return ContactData(
        shopify_id=_required_id(payload, "CompanyContact", "company contact"),
        updated_at=_required_time(payload, triggered_at if deleted else None, "company contact"),
        company_id=company.shopify_id,
        customer_id=gid_id(payload.get("customer_admin_graphql_api_id"), "Customer"),
        title=_text(payload.get("title"), 60),
        deleted=deleted,
        company=company,
    )


def objects_from_webhook(topic: str, body: str, *, triggered_at: datetime | None = None) -> list[ShopifyObject]:
    """Read a webhook's payload into the objects it changes; raise UnreadablePayload with the reason."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise UnreadablePayload(f"The payload is not JSON ({exc}).") from None
    if not isinstance(payload, dict):
        raise UnreadablePayload("The payload is not a JSON object.")
    kind, deleted, active = TOPICS[topic]
    if kind == "customer":
        return [_customer_rest(payload, triggered_at=triggered_at, deleted=deleted, active=active)]
    if kind == "company":
        return [_company_rest(payload, triggered_at=triggered_at, deleted=deleted)]
    if kind == "location":
        return [_location_rest(payload, triggered_at=triggered_at, deleted=deleted)]
    if kind == "contact":
        return [_contact_rest(payload, triggered_at=triggered_at, deleted=deleted)]
    # company_contact_roles/assign|revoke: the role itself has no place in the portal; the contact and the
    # location it names are applied (each only if newer than what the portal holds).
    objects: list[ShopifyObject] = []
    if payload.get("company_location") is not None:
        objects.append(_location_rest(payload.get("company_location")))
    if payload.get("company_contact") is not None:
        objects.append(_contact_rest(payload.get("company_contact")))
    if not objects:
        raise UnreadablePayload("The role assignment names neither a company contact nor a company location.")
    return objects


# ---- bulk operation lines -----------------------------------------------------------------------


def object_from_bulk_line(line: str | Mapping) -> ShopifyObject:
    """Read one JSONL line of a customers or companies bulk query; raise UnreadablePayload with the reason."""
    if isinstance(line, str):
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise UnreadablePayload(f"The line is not JSON ({exc}).") from None
    else:
        data = line
    if not isinstance(data, Mapping):
        raise UnreadablePayload("The line is not a JSON object.")
    kind = gid_type(data.get("id"))
    if kind == "Customer":
        email = data.get("defaultEmailAddress") or {}
        phone = data.get("defaultPhoneNumber") or {}
        return CustomerData(
            shopify_id=_required_id(data, "Customer", "customer"),
            updated_at=_required_time(data, None, "customer"),
            first_name=_text(data.get("firstName"), 100),
            last_name=_text(data.get("lastName"), 100),
            email=_text(email.get("emailAddress") if isinstance(email, Mapping) else "", 254),
            phone=_text(phone.get("phoneNumber") if isinstance(phone, Mapping) else "", 40),
            state=_text(data.get("state"), 20).lower(),
            addresses=customer_addresses(data.get("addresses"), data.get("defaultAddress")),
        )
    if kind == "Company":
        return CompanyData(
            shopify_id=_required_id(data, "Company", "company"),
            updated_at=_required_time(data, None, "company"),
            name=_text(data.get("name"), 200),
            external_id=_text(data.get("externalId"), 100),
        )
    company_id = gid_id(data.get("__parentId"), "Company")
    if kind == "CompanyLocation":
        if not company_id:
            raise UnreadablePayload("The company location's line has no __parentId naming its company.")
        return LocationData(
            shopify_id=_required_id(data, "CompanyLocation", "company location"),
            updated_at=_required_time(data, None, "company location"),
            company_id=company_id,
            name=_text(data.get("name"), 200),
            phone=_text(data.get("phone"), 40),
            addresses=location_addresses(data.get("billingAddress"), data.get("shippingAddress")),
        )
    if kind == "CompanyContact":
        if not company_id:
            raise UnreadablePayload("The company contact's line has no __parentId naming its company.")
        customer = data.get("customer") or {}
        return ContactData(
            shopify_id=_required_id(data, "CompanyContact", "company contact"),
            updated_at=_required_time(data, None, "company contact"),
            company_id=company_id,
            customer_id=gid_id(customer.get("id") if isinstance(customer, Mapping) else "", "Customer"),
            title=_text(data.get("title"), 60),
        )
    raise UnreadablePayload(f"The line holds a {kind or 'nameless'} object, which reconciliation does not read.")


KIND_LABELS = {
    "customer": "Shopify customer",
    "company": "Shopify company",
    "location": "Shopify company location",
    "contact": "Shopify company contact",
}


def record_label(kind: str, shopify_id: str) -> str:
    """Name a Shopify object as operators read it, e.g. "Shopify company location 408372092144951419"."""
    return f"{KIND_LABELS.get(kind, 'Shopify object')} {shopify_id}".strip()
