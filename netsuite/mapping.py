"""Pure mapping between the portal's customers (and their contacts) and NetSuite's record JSON (SPEC section 3).

No database access here: callers pass the customer, its addresses and contacts, the connection's
mappings and defaults, and the parent's NetSuite internal ID; tests use plain objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import cached_property
from typing import Any, NamedTuple

# Local value kinds mapped to NetSuite internal IDs, with the NetSuite field each one fills.
MAPPED_FIELDS: dict[str, tuple[str, str, str]] = {
    # kind: (customer attribute, NetSuite field, what operators call it)
    "payment_terms": ("payment_term", "terms", "Payment term"),
    "price_levels": ("price_level", "priceLevel", "Price level"),
    "sales_reps": ("sales_rep", "salesRep", "Sales rep"),
    "subsidiaries": ("subsidiary", "subsidiary", "Subsidiary"),
}
# NetSuite reference fields a connection may give a default internal ID for.
DEFAULT_REF_FIELDS = ("subsidiary", "terms", "priceLevel", "salesRep", "entityStatus")
# Every kind of mapping an external system keeps: the REST fields above, and the lead source HotWax's export file
# sends as ``accountSource`` (custimport_customer_hc maps LEADSOURCE by internal ID).
REFERENCE_KINDS: dict[str, str] = {
    **{kind: label for kind, (_attr, _field, label) in MAPPED_FIELDS.items()},
    "lead_sources": "Lead source",
}


def _key(value: str) -> str:
    return " ".join(str(value).split()).casefold()


@dataclass(frozen=True)
class Mappings:
    """Per-connection maps from local names (``Net 30``) to NetSuite internal IDs (``2``), one per kind."""

    payment_terms: Mapping[str, str] = field(default_factory=dict)
    price_levels: Mapping[str, str] = field(default_factory=dict)
    sales_reps: Mapping[str, str] = field(default_factory=dict)
    subsidiaries: Mapping[str, str] = field(default_factory=dict)
    lead_sources: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Mappings:
        data = data or {}
        return cls(
            **{kind: {str(k): str(v).strip() for k, v in (data.get(kind) or {}).items()} for kind in REFERENCE_KINDS}
        )

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str]]) -> Mappings:
        """Build from (kind, local value, internal ID) rows, as netsuite.models.ReferenceMapping stores them."""
        data: dict[str, dict[str, str]] = {kind: {} for kind in REFERENCE_KINDS}
        for kind, local, internal_id in rows:
            if kind in data:
                data[kind][local] = internal_id
        return cls.from_json(data)

    def to_json(self) -> dict[str, dict[str, str]]:
        """Return kind → {local value: internal ID}."""
        return {kind: dict(getattr(self, kind)) for kind in REFERENCE_KINDS}

    def to_netsuite(self, kind: str, local: str) -> str | None:
        """Return the internal ID for a local value (case and spacing ignored); a number is taken as an ID."""
        wanted = _key(local)
        for name, internal_id in getattr(self, kind).items():
            if _key(name) == wanted and internal_id:
                return internal_id
        return local.strip() if local.strip().isdigit() else None

    def to_local(self, kind: str, internal_id: str, ref_name: str = "") -> str:
        """Return the local value for an internal ID (the first one mapped to it), else NetSuite's name or the ID."""
        name = self._local_names[kind].get(str(internal_id))
        return name if name is not None else ref_name or str(internal_id)

    @cached_property
    def _local_names(self) -> dict[str, dict[str, str]]:
        # Built once: a pull maps every row's references back to local names.
        names: dict[str, dict[str, str]] = {}
        for kind in REFERENCE_KINDS:
            by_id = names[kind] = {}
            for name, mapped_id in getattr(self, kind).items():
                by_id.setdefault(mapped_id, name)
        return names


class MappingError(Exception):
    """The customer has values the connection cannot translate to NetSuite; one message per value."""

    code = "MAPPING_MISSING"

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _ref(value: str | None) -> dict | None:
    return {"id": str(value)} if value else None


def address_to_netsuite(address: Any, *, default_billing: bool, default_shipping: bool) -> dict:
    """Map one address to an ``addressBook`` line."""
    book_address: dict[str, Any] = {
        "addr1": address.line1,
        "addr2": address.line2,
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
    }
    book_address = {k: v.strip() for k, v in book_address.items() if v and v.strip()}
    if address.country and address.country.strip():
        book_address["country"] = {"id": address.country.strip().upper()}
    return {
        "label": address.label.strip(),
        "defaultBilling": default_billing,
        "defaultShipping": default_shipping,
        "addressBookAddress": book_address,
    }


def addresses_to_netsuite(addresses: Sequence[Any]) -> dict:
    """Map every address; when none is marked default billing (or shipping), the first one is."""
    has_billing = any(a.is_default_billing for a in addresses)
    has_shipping = any(a.is_default_shipping for a in addresses)
    items = []
    billing_done = shipping_done = False
    for n, address in enumerate(addresses):
        billing = (address.is_default_billing and not billing_done) or (not has_billing and n == 0)
        shipping = (address.is_default_shipping and not shipping_done) or (not has_shipping and n == 0)
        billing_done |= billing
        shipping_done |= shipping
        items.append(address_to_netsuite(address, default_billing=billing, default_shipping=shipping))
    return {"items": items}


def buyer_contact(contacts: Sequence[Any]) -> Any | None:
    """Return the contact that speaks for the customer: the first buyer, else the first contact."""
    for contact in contacts:
        if (contact.role or "").strip().casefold() == "buyer":
            return contact
    return contacts[0] if contacts else None


def customer_to_netsuite(
    customer: Any,
    addresses: Sequence[Any],
    contacts: Sequence[Any],
    mappings: Mappings,
    defaults: Mapping[str, Any] | None = None,
    *,
    parent_internal_id: str | None = None,
) -> dict:
    """Map a customer to NetSuite customer JSON; raise MappingError for values the connection cannot map."""
    defaults = defaults or {}
    body: dict[str, Any] = {"externalId": customer.customer_id}
    is_person = customer.party_type == "person"
    body["isPerson"] = is_person
    if is_person:
        body["firstName"] = customer.first_name.strip()
        body["lastName"] = customer.last_name.strip()
        if customer.company_name.strip():
            body["companyName"] = customer.company_name.strip()
    else:
        body["companyName"] = customer.company_name.strip()

    email, phone = customer.email.strip(), customer.phone.strip()
    buyer = buyer_contact(contacts)
    if buyer is not None:
        # A company (or location) without its own email or phone is reached through its buyer.
        email = email or (buyer.email or "").strip()
        phone = phone or (buyer.phone or "").strip()
    body["email"] = email
    body["phone"] = phone

    problems = []
    for kind, (attr, ns_field, label) in MAPPED_FIELDS.items():
        local = (getattr(customer, attr, "") or "").strip()
        if local:
            internal_id = mappings.to_netsuite(kind, local)
            if internal_id is None:
                problems.append(
                    f"{label} '{local}' has no NetSuite ID in the connection's mappings: add it under NetSuite "
                    f"reference mappings ({label}), or change the customer's {label.lower()}."
                )
                continue
            body[ns_field] = _ref(internal_id)
        elif defaults.get(ns_field):
            body[ns_field] = _ref(str(defaults[ns_field]).strip())
    if problems:
        raise MappingError(problems)
    for ns_field in DEFAULT_REF_FIELDS:
        if ns_field not in body and defaults.get(ns_field):
            body[ns_field] = _ref(str(defaults[ns_field]).strip())

    if parent_internal_id:
        body["parent"] = {"id": str(parent_internal_id)}
    body["isInactive"] = not customer.is_active
    body["addressBook"] = addresses_to_netsuite(addresses)
    return body


def contact_to_netsuite(contact: Any, company_internal_id: str, subsidiary: str | None) -> dict:
    """Map a company's contact to NetSuite contact JSON, attached to the company by its internal ID.

    Every field is sent, empty ones as "" (an upsert of an existing contact then clears what the portal cleared);
    the contact's role (``Buyer``) is NetSuite's job title. ``subsidiary`` is the company's, as NetSuite gives a
    contact its company's subsidiary.
    """
    body: dict[str, Any] = {
        "externalId": contact.contact_id,
        "firstName": (contact.first_name or "").strip(),
        "lastName": (contact.last_name or "").strip(),
        "email": (contact.email or "").strip(),
        "phone": (contact.phone or "").strip(),
        "title": (contact.role or "").strip(),
        "company": {"id": str(company_internal_id)},
    }
    if subsidiary:
        body["subsidiary"] = {"id": str(subsidiary)}
    return body


# ---- NetSuite → portal --------------------------------------------------------------------------


def _lower_keys(record: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in record.items()}


def _ref_id(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, Mapping):
        value = value.get("id")
    return "" if value in (None, "") else str(value)


def _ref_name(value: Any) -> str:
    return str(value.get("refName") or "") if isinstance(value, Mapping) else ""


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value == "T" or value == "F":  # SuiteQL's booleans
        return value == "T"
    return str(value).strip().upper() in ("T", "TRUE", "Y", "YES", "1")


def _text(value: Any, limit: int) -> str:
    if type(value) is str:
        return value.strip()[:limit]
    return ("" if value is None else str(value)).strip()[:limit]


_NO_MAPPINGS = Mappings()
# (lower-case NetSuite field, kind of mapping, portal attribute) of each reference field.
_REF_FIELDS = tuple((ns_field.lower(), kind, attr) for kind, (attr, ns_field, _label) in MAPPED_FIELDS.items())


def netsuite_to_customer_fields(record: Mapping[str, Any], *, mappings: Mappings | None = None) -> dict[str, Any]:
    """Map a NetSuite customer (REST record JSON or a SuiteQL row) to the portal's customer fields."""
    return _customer_fields(_lower_keys(record), mappings or _NO_MAPPINGS)


def _customer_fields(r: Mapping[str, Any], mappings: Mappings) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "party_type": "person" if _flag(r.get("isperson", False)) else "company",
        "first_name": _text(r.get("firstname"), 100),
        "last_name": _text(r.get("lastname"), 100),
        "company_name": _text(r.get("companyname"), 200),
        "email": _text(r.get("email"), 254),
        "phone": _text(r.get("phone"), 40),
        "is_active": not _flag(r.get("isinactive", False)),
    }
    for ns_field, kind, attr in _REF_FIELDS:
        value = r.get(ns_field)
        internal_id = _ref_id(value)
        fields[attr] = mappings.to_local(kind, internal_id, _ref_name(value))[:100] if internal_id else ""
    return fields


class NetSuiteKeys(NamedTuple):
    """The identifying parts of a NetSuite customer: what the pull matches and links on."""

    internal_id: str
    external_id: str
    parent_id: str
    shopify_id: str
    last_modified_text: str = ""
    tz: tzinfo = UTC

    @property
    def last_modified(self) -> datetime | None:
        """Return the last change, parsed when asked (a pull of many rows never needs it)."""
        return parse_netsuite_datetime(self.last_modified_text, self.tz)


def parse_netsuite_datetime(value: Any, tz: tzinfo = UTC) -> datetime | None:
    """Parse NetSuite's ``lastModifiedDate`` (ISO 8601 from REST, ``YYYY-MM-DD HH:MM:SS`` from SuiteQL)."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def netsuite_keys(record: Mapping[str, Any], *, tz: tzinfo = UTC) -> NetSuiteKeys:
    """Read the internal ID, external ID, parent, Shopify ID and last change of a NetSuite customer."""
    return _keys(_lower_keys(record), tz)


def _keys(r: Mapping[str, Any], tz: tzinfo) -> NetSuiteKeys:
    return NetSuiteKeys(
        _ref_id(r.get("id")),
        _text(r.get("externalid"), 255),
        _ref_id(r.get("parent")),
        _text(r.get("custentity_hc_shopify_customer_id"), 100),
        _text(r.get("lastmodifieddate"), 40),
        tz,
    )


def suiteql_customer(
    row: Mapping[str, Any], *, mappings: Mappings, tz: tzinfo = UTC
) -> tuple[NetSuiteKeys, dict[str, Any]]:
    """Read a SuiteQL customer row's keys and portal fields at once (its column names are lower case already)."""
    return _keys(row, tz), _customer_fields(row, mappings)
