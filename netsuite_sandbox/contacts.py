"""Contact records, as much of them as the portal needs: a person at a company customer (a Shopify B2B buyer).

Routes (app.py): `POST /record/v1/contact`, `PUT /record/v1/contact/eid:{externalId}` (upsert), and
`GET | PATCH | DELETE /record/v1/contact/{id}` (or `eid:`). Fields: `externalId`, `firstName`, `lastName`,
`email`, `phone`, `title`, `company` (`{"id"}` or `{"externalId"}` of a customer), `subsidiary`, `isInactive`.

External IDs are shared with the rest of the entity group (records.check_external_id_free): a contact cannot take
a customer's external ID, nor the other way round. `company` is a reference to a customer ("Select the company
this contact works for", SOAP schema browser, contact record): one NetSuite does not hold is refused as every
reference to a missing record is here, 400 NONEXISTENT_ID on the `company` path (records.customer_ref; the portal
reads INVALID_KEY_OR_REF, SOAP's code for the same, alike). Email and phone are checked as a customer's are.

Assumed where Oracle's pages say nothing: a contact needs a first or last name; without `subsidiary` it takes its
company's; without either it is refused as NetSuite refuses a record missing a mandatory field (USER_ERROR "Please
enter value(s) for: ..."); a contact whose subsidiary is not its company's is refused (USER_ERROR on
`subsidiary`; stricter than NetSuite may be: the portal sends the company's subsidiary).
"""

from __future__ import annotations

from typing import Any

from .errors import nonexistent, user_error
from .records import (
    check_email_and_phone,
    check_external_id,
    check_external_id_free,
    customer_ref,
    invalid_value,
    record_json,
)
from .store import SUBSIDIARIES, Store, stored_to_iso

TEXT_FIELDS: dict[str, tuple[str, int]] = {
    "entityId": ("entityid", 83),
    "firstName": ("firstname", 32),
    "lastName": ("lastname", 32),
    "email": ("email", 254),
    "phone": ("phone", 32),
    "title": ("title", 99),
}
READ_ONLY = frozenset({"id", "links", "lastModifiedDate", "dateCreated"})


def _parse(store: Store, body: Any) -> dict:
    if not isinstance(body, dict):
        raise user_error("Invalid content in the request body. The body must be a JSON object.")
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in body.items():
        if key in READ_ONLY:
            continue
        if key == "externalId":
            values["externalid"] = check_external_id(str(value))
        elif key in TEXT_FIELDS:
            column, max_len = TEXT_FIELDS[key]
            if value is not None and not isinstance(value, str):
                raise invalid_value(key)
            if value is not None and len(value) > max_len:
                raise user_error(
                    f"The field {key} contained more than the maximum number ( {max_len} ) of characters allowed.",
                    path=key,
                )
            values[column] = value
        elif key == "isInactive":
            if not isinstance(value, bool):
                raise invalid_value(key)
            values["isinactive"] = "T" if value else "F"
        elif key == "company":
            values["company"] = customer_ref(store, value, field="company")
        elif key == "subsidiary":
            raw = str(value.get("id")) if isinstance(value, dict) else ""
            if not raw.isdigit() or int(raw) not in SUBSIDIARIES:
                raise invalid_value(key)
            values["subsidiary"] = int(raw)
        else:
            extra[key] = value
    if extra:
        values["extra"] = extra
    return values


def _validate(store: Store, merged: dict) -> dict:
    if not ((merged.get("firstname") or "").strip() or (merged.get("lastname") or "").strip()):
        raise user_error("Please enter value(s) for: First Name, Last Name.")
    company = store.get(merged["company"]) if merged.get("company") is not None else None
    if merged.get("subsidiary") is None and company is not None:
        merged["subsidiary"] = company["subsidiary"]
    if merged.get("subsidiary") is None:
        raise user_error("Please enter value(s) for: Subsidiary.")
    if company is not None and company["subsidiary"] != merged["subsidiary"]:
        raise user_error(
            f"The contact's subsidiary ({merged['subsidiary']}) differs from the subsidiary of its company "
            f"({company['subsidiary']}). Choose the company's subsidiary.",
            path="subsidiary",
        )
    check_email_and_phone(merged)
    return merged


def create(store: Store, body: Any) -> int:
    """Create a contact; return its internal ID."""
    with store.lock:
        values = _parse(store, body)
        check_external_id_free(store, values.get("externalid"), record_type="contact", self_id=None)
        merged = _validate(store, {"isinactive": "F", **values})
        if not merged.get("entityid"):
            merged["entityid"] = " ".join(p for p in (merged.get("firstname"), merged.get("lastname")) if p)
        return store.insert_contact(merged)


def update(store: Store, contact_id: int, body: Any) -> None:
    """Update the fields given of an existing contact."""
    with store.lock:
        current = store.get_contact(contact_id)
        if current is None:
            raise nonexistent()
        values = _parse(store, body)
        check_external_id_free(store, values.get("externalid"), record_type="contact", self_id=contact_id)
        if "extra" in values:
            values["extra"] = {**current["extra"], **values["extra"]}
        _validate(store, {**current, **values})
        store.update_contact(contact_id, values)


def upsert(store: Store, external_id: str, body: Any) -> tuple[int, bool]:
    """Create or update the contact with this external ID; return its internal ID and whether it is new."""
    check_external_id(external_id)
    if isinstance(body, dict) and "externalId" in body and str(body["externalId"]) != external_id:
        raise user_error("The external ID in the request body differs from the one in the URL.", path="externalId")
    body = {**(body if isinstance(body, dict) else {}), "externalId": external_id}
    with store.lock:
        current = store.get_contact_by_external_id(external_id)
        if current is None:
            return create(store, body), True
        update(store, int(current["id"]), body)
        return int(current["id"]), False


def delete(store: Store, contact_id: int) -> None:
    """Delete a contact."""
    with store.lock:
        if store.get_contact(contact_id) is None:
            raise nonexistent()
        store.execute("DELETE FROM contact WHERE id = ?", (contact_id,))


def to_json(row: dict, *, base_url: str = "") -> dict:
    """Render a stored contact as NetSuite's record JSON, leaving out empty fields."""
    out = record_json(row, record_type="contact", text_fields=TEXT_FIELDS, base_url=base_url)
    out["isInactive"] = row.get("isinactive") == "T"
    if row.get("company") is not None:
        out["company"] = {"id": str(row["company"])}
    out["subsidiary"] = {"id": str(row["subsidiary"]), "refName": SUBSIDIARIES.get(row["subsidiary"], "")}
    out["dateCreated"] = stored_to_iso(row["datecreated"])
    out["lastModifiedDate"] = stored_to_iso(row["lastmodifieddate"])
    out.update(row.get("extra") or {})
    return out
