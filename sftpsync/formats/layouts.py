"""The files the feeds read (SPEC section 2): HotWax's historical customers, created IDs, and NetSuite's errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from ..transport import unsafe_name_reason
from .ids import IDENT_TYPE, RowError, customer_id, digits_id, repair
from .reader import Column, CsvLayout, FileFormatError, Row, RowFailure, sniffed_text

NETSUITE_CUSTOMER_ID = "NETSUITE_CUSTOMER_ID"
SHOPIFY_CUST_ID = "SHOPIFY_CUST_ID"
DIGIT_TYPES = {NETSUITE_CUSTOMER_ID: "NetSuite internal ID", SHOPIFY_CUST_ID: "Shopify customer ID"}


def _netsuite_id(value: str, what: str) -> str:
    return digits_id(value, what)


def party_identifications(text: str) -> dict[str, str]:
    """Read HotWax's party format, ``SHOPIFY_CUST_ID:<id>|NETSUITE_CUSTOMER_ID:<id>`` (an empty value: none)."""
    found: dict[str, str] = {}
    for part in text.split("|"):
        if not part.strip():
            continue
        kind, colon, value = part.partition(":")
        kind = kind.strip().upper()
        if not colon or not IDENT_TYPE.fullmatch(kind):
            raise RowError(
                f"party-identifications '{text[:80]}' is not in HotWax's format TYPE:value|TYPE:value "
                "(e.g. SHOPIFY_CUST_ID:6543210|NETSUITE_CUSTOMER_ID:8812)"
            )
        value = value.strip()
        if kind in DIGIT_TYPES and value:
            value = digits_id(value, DIGIT_TYPES[kind])
        if value and found.get(kind, value) != value:
            raise RowError(f"party-identifications gives two values for {kind}: {found[kind]} and {value}")
        if value:
            found[kind] = value
    return found


def _historical_ids(values: dict[str, str]) -> dict[str, str]:
    """Take the IDs from party-identifications where the row has no column of its own; they must agree."""
    text = values.pop("party_identifications", "")
    if not text:
        return values
    parsed = party_identifications(text)
    for key, kind in (("internal_id", NETSUITE_CUSTOMER_ID), ("shopify_id", SHOPIFY_CUST_ID)):
        inside, own = parsed.get(kind, ""), values.get(key, "")
        if inside and own and inside != own:
            raise RowError(
                f"party-identifications gives {kind} {inside} but the row's own column gives {own}; correct one of "
                "them in NetSuite's saved search"
            )
        values[key] = own or inside
    return values


HISTORICAL = CsvLayout(
    "historical customers",
    [
        Column("internal_id", ("internalId", "Internal ID", "id"), "NetSuite internal ID", 100, _netsuite_id),
        Column(
            "shopify_id",
            ("HCShopifyCustomerId", "Shopify Customer ID", "shopifyCustomerId", "external-id"),
            "Shopify customer ID",
            100,
            digits_id,
        ),
        Column("party_identifications", ("party-identifications",), "party-identifications", 2000),
        Column("customer_id", ("HCCustomerId", "externalId", "External ID"), "Customer ID", 40, customer_id),
        Column("email", ("email", "E-mail"), "Email", 254),
        Column("phone", ("phone", "Phone"), "Phone", 40),
        Column("first_name", ("firstName", "First Name", "first-name"), "First name", 100),
        Column("last_name", ("lastName", "Last Name", "last-name"), "Last name", 100),
        Column("company_name", ("companyName", "Company Name"), "Company name", 200),
    ],
    requires=(("internal_id", "party_identifications"), ("shopify_id", "party_identifications")),
    required=("internal_id", "shopify_id"),
    finish=_historical_ids,
)


def _party_value(values: dict[str, str]) -> dict[str, str]:
    """Check the ID by its type: NetSuite and Shopify IDs are digits; other types are repaired and kept."""
    kind, value = values.get("type", ""), values.get("value", "")
    if value:
        values["value"] = digits_id(value, DIGIT_TYPES[kind]) if kind in DIGIT_TYPES else repair(value)
    return values


def _ident_type(value: str, what: str) -> str:
    if not IDENT_TYPE.fullmatch(value):
        raise RowError(f"{what} '{value[:40]}' is not an identification type such as {NETSUITE_CUSTOMER_ID}")
    return value


PARTY_IDENT_HEADER = ("partyId", "partyIdentificationTypeId", "idValue")
PARTY_IDENT = CsvLayout(
    "created customer IDs",
    [
        Column("party_id", ("partyId",), "partyId", 40, customer_id),
        Column("type", ("partyIdentificationTypeId",), "partyIdentificationTypeId", 60, _ident_type),
        Column("value", ("idValue",), "idValue", 100),
    ],
    requires=(("party_id",), ("type",), ("value",)),
    required=("party_id", "type", "value"),
    finish=_party_value,
    headerless_order=PARTY_IDENT_HEADER,
    # A bare file's first line is a row only if it looks like one: three fields, the middle one a type name.
    looks_like_data=lambda fields: len(fields) == 3 and bool(IDENT_TYPE.fullmatch(fields[1].strip())),
)


# --- NetSuite's error files -------------------------------------------------------------------------------


class ErrorFileReader:
    """HC_SC_ImportCustomer's ``fileName,errorMessage`` file: written unquoted, so split at the first comma only."""

    HEADER = "filename,errormessage"

    def __init__(self, stream: IO[bytes]) -> None:
        self._text = sniffed_text(stream)
        self.rows_read = 0
        self.line = 0
        for raw in self._text:
            self.line += 1
            if raw.strip():
                if "".join(raw.split()).casefold() != self.HEADER:
                    raise FileFormatError(
                        f"The error file does not start with the header fileName,errorMessage (it has "
                        f"{raw.strip()[:80]!r}), so it is not one HC_SC_ImportCustomer wrote."
                    )
                return
        raise FileFormatError("The error file is empty: it has no header line and no rows.")

    def __iter__(self) -> Iterator[Row | RowFailure]:
        for raw in self._text:
            self.line += 1
            text = raw.rstrip("\r\n")
            if not text.strip():
                continue
            self.rows_read += 1
            name, comma, message = text.partition(",")
            name = name.strip()
            if not comma or not name or unsafe_name_reason(name):
                yield RowFailure(self.line, f"The line is not '<file name>,<message>': {text[:200]!r}.")
                continue
            yield Row(self.line, {"file_name": name, "message": message.strip()})


class ErrorFileLayout:
    """The layout of HC_SC_ImportCustomer's error files, read line by line (not as CSV)."""

    name = "NetSuite import errors"

    def open(self, stream: IO[bytes], mapping: object = None) -> ErrorFileReader:
        """Start reading an error file (FileFormatError when it is not one)."""
        return ErrorFileReader(stream)


EXPORT_ERROR = ErrorFileLayout()
