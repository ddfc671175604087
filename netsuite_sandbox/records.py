"""Customer records: NetSuite's validation of writes, and the camelCase JSON of reads.

Write semantics (REST and the CSV import share them), as Oracle documents them in the help center
(docs.oracle.com/en/cloud/saas/netsuite/ns-online-help):
- `POST /record/v1/customer` creates; an `externalId` already in use is refused with `DUP_ENTITY`.
- `PUT /record/v1/customer/eid:{externalId}` creates or updates by external ID ("Using the Upsert Operation").
- `PATCH /record/v1/customer/{id}` updates the fields given ("Updating a Record Instance"): body fields left out
  stay as they are, and `null` clears one.
- Sublists on update ("Updating a Sublist", section_1545295601): lines of a keyed sublist that carry a matching
  key are updated, the remaining lines of the request are added. `addressBook` is keyed by its line `id` (SOAP's
  addressbookList is keyed by internalId, "Updating Sublists in SOAP Web Services"; REST returns the same key as
  each line's `id`), so a line sent without `id` is appended: re-sending an address book on every update
  multiplies it. With `?replace=addressBook` ("Replacing a Sublist", section_1545297048) keyed lines that match
  are updated, the other existing lines are removed and the unmatched lines of the request are added. A create
  adds the lines sent ("Creating a Sublist"). An upsert of a record that exists is an update.
- External IDs are unique across the entity group (customer, contact, vendor, employee, partner): an external ID
  held by a contact cannot be given to a customer ("Using External IDs"; SPEC section 3).
- Reference fields are `{"id": "N"}`; `parent` may also be `{"externalId": "X"}`; `null` clears an optional one.
- Fields the sandbox does not know are kept as they are and returned on read.

Assumed where Oracle's pages say nothing: a keyed line whose `id` matches no line of the record is added as a new
line with a new `id` (NetSuite assigns line IDs); only one line may be the default billing (shipping) address, so
a line sent as default takes the flag from the others; `replace` naming a sublist the customer does not have is
refused with INVALID_PARAMETER; an external ID held by another record type of the group is refused with
DUP_ENTITY, the code NetSuite gives a duplicate external ID.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import NetSuiteError, nonexistent, user_error
from .store import LEAD_SOURCES, PRICE_LEVELS, SUBSIDIARIES, TERMS, Store, stored_to_iso

EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

TEXT_FIELDS: dict[str, tuple[str, int]] = {
    "entityId": ("entityid", 83),
    "firstName": ("firstname", 32),
    "lastName": ("lastname", 32),
    "companyName": ("companyname", 83),
    "email": ("email", 254),
    "phone": ("phone", 32),
    "custentity_hc_shopify_customer_id": ("custentity_hc_shopify_customer_id", 64),
    # HotWax's custom entity fields are free-form text fields, which NetSuite caps at 300 characters.
    "custentity_hc_customer_id": ("custentity_hc_customer_id", 300),
    "custentity_hc_shop_cust_id": ("custentity_hc_shop_cust_id", 300),
}
BOOL_FIELDS: dict[str, str] = {"isPerson": "isperson", "isInactive": "isinactive", "taxable": "taxable"}
REF_FIELDS: dict[str, str] = {
    "subsidiary": "subsidiary",
    "parent": "parent",
    "terms": "terms",
    "priceLevel": "pricelevel",
    "salesRep": "salesrep",
    "entityStatus": "entitystatus",
    "leadSource": "leadsource",
}
READ_ONLY = frozenset({"id", "links", "lastModifiedDate", "dateCreated"})
ADDRESS_KEYS = frozenset(
    {"addr1", "addr2", "addr3", "city", "state", "zip", "country", "addressee", "attention", "addrPhone"}
)
FIELD_LABELS = {
    "companyname": "Company Name",
    "firstname": "First Name",
    "lastname": "Last Name",
    "subsidiary": "Subsidiary",
}


def invalid_value(field: str) -> NetSuiteError:
    """Build NetSuite's error for a field value it does not accept."""
    return user_error(
        f"Invalid value for the resource or sub-resource field '{field}'. Provide a valid value.", path=field
    )


def check_external_id(external_id: str) -> str:
    """Refuse an external ID holding anything but letters, digits, `_` and `-`."""
    if not EXTERNAL_ID_RE.match(external_id or ""):
        raise user_error(
            f"Invalid external ID '{external_id}'. An external ID may hold only letters, digits, '_' and '-'.",
            path="externalId",
        )
    return external_id


def parse_body(body: dict) -> tuple[dict, Any]:
    """Turn a customer JSON body into column values and the raw `parent` reference (resolved later).

    The address book, when sent, is in values["addressbook"] as the lines sent (their `id` only when given):
    `apply_lines` merges them into the record's lines.
    """
    if not isinstance(body, dict):
        raise user_error("Invalid content in the request body. The body must be a JSON object.")
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    parent: Any = ...
    for key, value in body.items():
        if key in READ_ONLY:
            continue
        if key == "externalId":
            if not isinstance(value, str | int):
                raise invalid_value(key)
            values["externalid"] = check_external_id(str(value))
        elif key in TEXT_FIELDS:
            column, max_len = TEXT_FIELDS[key]
            if value is None:
                values[column] = None
                continue
            if not isinstance(value, str):
                raise invalid_value(key)
            if len(value) > max_len:
                raise user_error(
                    f"The field {key} contained more than the maximum number ( {max_len} ) of characters allowed.",
                    path=key,
                )
            values[column] = value
        elif key in BOOL_FIELDS:
            if not isinstance(value, bool):
                raise invalid_value(key)
            values[BOOL_FIELDS[key]] = "T" if value else "F"
        elif key == "parent":
            parent = value
        elif key in REF_FIELDS:
            values[REF_FIELDS[key]] = _ref_id(key, value)
        elif key == "defaultOrderPriority":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise invalid_value(key)
            values["defaultorderpriority"] = value
        elif key == "addressBook":
            values["addressbook"] = _address_book(value)
        else:
            extra[key] = value
    if extra:
        values["extra"] = extra
    return values, parent


def _ref_id(field: str, value: Any) -> int | str | None:
    """Read a `{"id": ...}` reference."""
    if value is None:
        if field == "subsidiary":
            raise invalid_value(field)
        return None
    if not isinstance(value, dict) or "id" not in value:
        raise invalid_value(field)
    raw = str(value["id"])
    if field == "entityStatus":
        return raw
    if not raw.lstrip("-").isdigit():
        raise invalid_value(field)
    return int(raw)


def _address_book(value: Any) -> list[dict]:
    """Check an addressBook object and return its lines."""
    if not isinstance(value, dict) or not isinstance(value.get("items", []), list):
        raise invalid_value("addressBook")
    lines = []
    for n, item in enumerate(value.get("items", []), start=1):
        path = f"addressBook.items[{n - 1}]"
        if not isinstance(item, dict):
            raise invalid_value(path)
        address = item.get("addressBookAddress", {})
        if not isinstance(address, dict) or set(address) - ADDRESS_KEYS - {"country"}:
            raise invalid_value(f"{path}.addressBookAddress")
        for flag in ("defaultBilling", "defaultShipping", "isResidential"):
            if flag in item and not isinstance(item[flag], bool):
                raise invalid_value(f"{path}.{flag}")
        country = address.get("country")
        if country is not None:
            cid = country.get("id") if isinstance(country, dict) else None
            if not isinstance(cid, str) or not re.fullmatch(r"[A-Z]{2}", cid):
                raise invalid_value(f"{path}.addressBookAddress.country")
        line: dict[str, Any] = {k: item[k] for k in ("label", "defaultBilling", "defaultShipping") if k in item}
        if "addressBookAddress" in item:
            line["addressBookAddress"] = address
        if item.get("id") is not None:
            raw = str(item["id"])
            if not raw.isdigit():
                raise invalid_value(f"{path}.id")
            line["id"] = int(raw)
        lines.append(line)
    return lines


SUBLISTS = frozenset({"addressBook"})


def replace_param(value: str | None) -> frozenset[str]:
    """Read `?replace=` (comma-separated sublist names); refuse a name the customer record has no sublist for."""
    names = frozenset(n.strip() for n in (value or "").split(",") if n.strip())
    unknown = names - SUBLISTS
    if unknown:
        raise NetSuiteError(
            400,
            "INVALID_PARAMETER",
            f"Invalid 'replace' parameter value: {', '.join(sorted(unknown))} is not a sublist of the customer "
            f"record (sublists: {', '.join(sorted(SUBLISTS))}).",
        )
    return names


def _new_line(store: Store, sent: dict) -> dict:
    address = sent.get("addressBookAddress") or {}
    return {
        "id": store.next_value("addressbook_line"),
        "label": sent.get("label"),
        "defaultBilling": bool(sent.get("defaultBilling") or False),
        "defaultShipping": bool(sent.get("defaultShipping") or False),
        "addressBookAddress": {k: v for k, v in address.items() if v is not None},
    }


def _update_line(line: dict, sent: dict) -> dict:
    updated = {**line}
    for key in ("label", "defaultBilling", "defaultShipping"):
        if key in sent:
            updated[key] = bool(sent[key] or False) if key != "label" else sent[key]
    if "addressBookAddress" in sent:
        # A subrecord is updated like a record: fields sent replace theirs, null clears one, others stay.
        merged = {**line.get("addressBookAddress", {}), **sent["addressBookAddress"]}
        updated["addressBookAddress"] = {k: v for k, v in merged.items() if v is not None}
    return updated


def apply_lines(store: Store, current: list[dict], sent: list[dict], *, replace: bool) -> list[dict]:
    """Merge the lines sent into the record's lines: keyed lines update theirs, the rest are added (see above)."""
    by_id = {line["id"]: n for n, line in enumerate(current)}
    result = [] if replace else [dict(line) for line in current]
    kept: dict[int, int] = {} if replace else dict(by_id)
    for line in sent:
        key = line.get("id")
        if key in by_id:
            updated = _update_line(current[by_id[key]], line)
            if key in kept:
                result[kept[key]] = updated
            else:
                kept[key] = len(result)
                result.append(updated)
        else:
            result.append(_new_line(store, line))
    for flag in ("defaultBilling", "defaultShipping"):
        chosen = [n for n, line in enumerate(result) if line.get(flag)]
        for n in chosen[:-1]:
            result[n][flag] = False
    return result


def customer_ref(store: Store, value: Any, *, field: str, self_id: int | None = None) -> int | None:
    """Turn a reference to a customer (`{"id"}` or `{"externalId"}`, null clears) into its internal ID, or refuse it
    with NONEXISTENT_ID."""
    if value is None:
        return None
    if not isinstance(value, dict) or not ({"id", "externalId"} & set(value)):
        raise invalid_value(field)
    if "id" in value:
        raw = str(value["id"])
        row = store.get(int(raw)) if raw.isdigit() else None
    else:
        row = store.get_by_external_id(str(value["externalId"]))
    if row is None:
        raise nonexistent(status=400, path=field)
    if self_id is not None and row["id"] == self_id:
        raise invalid_value(field)
    return int(row["id"])


def _validate(merged: dict) -> None:
    """Check the mandatory fields and the references of a customer as it would be saved."""
    missing = []
    if merged.get("isperson") == "T":
        missing += [c for c in ("firstname", "lastname") if not (merged.get(c) or "").strip()]
    elif not (merged.get("companyname") or "").strip():
        missing.append("companyname")
    if merged.get("subsidiary") is None:
        missing.append("subsidiary")
    if missing:
        raise user_error("Please enter value(s) for: " + ", ".join(FIELD_LABELS[c] for c in missing) + ".")
    if merged["subsidiary"] not in SUBSIDIARIES:
        raise invalid_value("subsidiary")
    if merged.get("terms") is not None and merged["terms"] not in TERMS:
        raise invalid_value("terms")
    if merged.get("pricelevel") is not None and merged["pricelevel"] not in PRICE_LEVELS:
        raise invalid_value("priceLevel")
    if merged.get("leadsource") is not None and merged["leadsource"] not in LEAD_SOURCES:
        raise invalid_value("leadSource")
    check_email_and_phone(merged)


def check_email_and_phone(merged: dict) -> None:
    """Refuse an email address or a phone number NetSuite would not take (any entity: customer or contact)."""
    email = merged.get("email")
    if email and not EMAIL_RE.match(email):
        raise user_error("Please enter a valid email address.", path="email")
    phone = merged.get("phone")
    if phone and sum(ch.isdigit() for ch in phone) < 7:
        raise user_error("Phone number should have seven digits or more.", path="phone")


def check_external_id_free(store: Store, external_id: str | None, *, record_type: str, self_id: int | None) -> None:
    """Refuse an external ID another record of the entity group holds (any type: they share external IDs)."""
    if not external_id:
        return
    owner = store.entity_with_external_id(external_id)
    if owner is not None and owner != (record_type, self_id):
        raise NetSuiteError(
            400,
            "DUP_ENTITY",
            f"This entity already exists. External ID {external_id} belongs to {owner[0]} {owner[1]}; external IDs "
            "are unique across customers, contacts, vendors, employees and partners.",
            path="externalId",
        )


def create(store: Store, body: dict, *, source: str = "rest") -> int:
    """Create a customer, refusing a second one with the same external ID; return its internal ID."""
    values, parent = parse_body(body)
    with store.lock:
        check_external_id_free(store, values.get("externalid"), record_type="customer", self_id=None)
        if "addressbook" in values:
            values["addressbook"] = apply_lines(store, [], values["addressbook"], replace=False)
        if parent is not ...:
            values["parent"] = customer_ref(store, parent, field="parent")
        merged = {"isperson": "F", "isinactive": "F", **values}
        _validate(merged)
        return store.insert(merged, source=source)


def update(store: Store, customer_id: int, body: dict, *, replace: frozenset[str] = frozenset()) -> None:
    """Update the fields given of an existing customer; `replace` names the sublists the lines sent replace."""
    values, parent = parse_body(body)
    with store.lock:
        current = store.get(customer_id)
        if current is None:
            raise nonexistent()
        check_external_id_free(store, values.get("externalid"), record_type="customer", self_id=customer_id)
        if "addressbook" in values:
            values["addressbook"] = apply_lines(
                store, current["addressbook"], values["addressbook"], replace="addressBook" in replace
            )
        if parent is not ...:
            values["parent"] = customer_ref(store, parent, field="parent", self_id=customer_id)
        if "extra" in values:
            values["extra"] = {**current["extra"], **values["extra"]}
        _validate({**current, **values})
        store.update(customer_id, values)


def upsert(
    store: Store, external_id: str, body: dict, *, source: str = "rest", replace: frozenset[str] = frozenset()
) -> tuple[int, bool]:
    """Create or update the customer with this external ID; return its internal ID and whether it is new."""
    check_external_id(external_id)
    if not isinstance(body, dict):
        raise user_error("Invalid content in the request body. The body must be a JSON object.")
    if "externalId" in body and str(body["externalId"]) != external_id:
        raise user_error("The external ID in the request body differs from the one in the URL.", path="externalId")
    body = {**body, "externalId": external_id}
    with store.lock:
        current = store.get_by_external_id(external_id)
        if current is None:
            return create(store, body, source=source), True
        update(store, int(current["id"]), body, replace=replace)
        return int(current["id"]), False


def record_json(row: dict, *, record_type: str, text_fields: dict[str, tuple[str, int]], base_url: str) -> dict:
    """Start a stored record's JSON as NetSuite renders any record: links, id, externalId, the text fields that have
    a value."""
    self_href = f"{base_url}/record/v1/{record_type}/{row['id']}"
    out: dict[str, Any] = {"links": [{"rel": "self", "href": self_href}], "id": str(row["id"])}
    if row.get("externalid"):
        out["externalId"] = row["externalid"]
    for key, (column, _) in text_fields.items():
        if row.get(column) not in (None, ""):
            out[key] = row[column]
    return out


def to_json(row: dict, *, base_url: str = "") -> dict:
    """Render a stored customer as NetSuite's camelCase record JSON, leaving out empty fields as NetSuite does."""
    self_href = f"{base_url}/record/v1/customer/{row['id']}"
    out = record_json(row, record_type="customer", text_fields=TEXT_FIELDS, base_url=base_url)
    for key, column in BOOL_FIELDS.items():
        if key == "taxable" and row.get(column) is None:
            continue  # never set: NetSuite leaves the box as the subsidiary's default, shown here as absent
        out[key] = row.get(column) == "T"
    if row.get("defaultorderpriority") is not None:
        out["defaultOrderPriority"] = row["defaultorderpriority"]
    names = {"subsidiary": SUBSIDIARIES, "terms": TERMS, "priceLevel": PRICE_LEVELS, "leadSource": LEAD_SOURCES}
    for key, column in REF_FIELDS.items():
        if row.get(column) is not None:
            ref: dict[str, Any] = {"id": str(row[column])}
            if key in names and row[column] in names[key]:
                ref["refName"] = names[key][row[column]]
            out[key] = ref
    out["dateCreated"] = stored_to_iso(row["datecreated"])
    out["lastModifiedDate"] = stored_to_iso(row["lastmodifieddate"])
    lines = row.get("addressbook") or []
    out["addressBook"] = {
        "links": [{"rel": "self", "href": f"{self_href}/addressBook"}],
        "items": lines,
        "totalResults": len(lines),
        "count": len(lines),
        "hasMore": False,
        "offset": 0,
    }
    out.update(row.get("extra") or {})
    return out
