"""IDs read from files: what a spreadsheet did to them is undone only when nothing was lost; the rest is refused.

NetSuite internal IDs and Shopify customer IDs are digits. Excel shows a long number in scientific notation
(``6.54321E+12``) after dropping its digits past the fifteenth: that value is refused, never guessed. It writes a
whole number as ``8812.0`` (nothing lost: ``8812``) and keeps a leading apostrophe that forced text (``'8812``:
stripped). Every check is a bounded pattern on a value already capped in length, so one cell such as
``1E10000000`` costs no more than any other (a Decimal of it turned into int would take hours).
"""

from __future__ import annotations

import re

from customers.models import external_id_validator


class RowError(Exception):
    """One value cannot be used; the message says why, for the operator."""


_WHOLE_WITH_ZEROS = re.compile(r"(\d+)\.0*")
_SCIENTIFIC = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")
_FRACTION = re.compile(r"[+-]?\d*\.\d+")
DIGITS = re.compile(r"[0-9]+")
# A party identification type as HotWax names them (NETSUITE_CUSTOMER_ID, SHOPIFY_CUST_ID, ...).
IDENT_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,59}")


def repair(value: str) -> str:
    """Undo what a spreadsheet did to an ID when nothing was lost; refuse what lost digits (RowError)."""
    value = value.strip()
    if value.startswith("'"):
        value = value[1:].strip()  # Excel's marker for "keep this as text", never part of an ID
    if not value or (value.isdigit() and value.isascii()):
        return value
    whole = _WHOLE_WITH_ZEROS.fullmatch(value)
    if whole:
        return whole.group(1)
    if _SCIENTIFIC.fullmatch(value):
        raise RowError(
            f"'{value}' is in scientific notation, as a spreadsheet shows a long number after dropping its last "
            "digits; the real ID cannot be recovered. Export the column as text and send the file again"
        )
    if _FRACTION.fullmatch(value):
        raise RowError(f"'{value}' is not a whole number, so it cannot be an ID (was it edited in a spreadsheet?)")
    return value


def digits_id(value: str, what: str) -> str:
    """Return a repaired ID that must be digits (NetSuite internal ID, Shopify ID), or raise RowError."""
    if value.isdigit() and value.isascii():
        return value  # the usual case, nothing to repair
    repaired = repair(value)
    if repaired and not (repaired.isascii() and DIGITS.fullmatch(repaired)):
        raise RowError(f"{what} '{_shown(repaired)}' is not a number: {what}s hold digits only")
    return repaired


def customer_id(value: str, what: str = "Customer ID") -> str:
    """Return a portal customer ID (NetSuite's external ID rules), or raise RowError."""
    repaired = repair(value)
    if repaired and not external_id_validator.regex.fullmatch(repaired):
        raise RowError(
            f"{what} '{_shown(repaired)}' holds characters a NetSuite external ID does not allow (letters, digits, "
            "'_' and '-' only)"
        )
    return repaired


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "…"
