"""The one spreadsheet-safety rule (SPEC section 2), for every file or sheet the portal writes.

A cell a spreadsheet would run as a formula is prefixed with an apostrophe, as OWASP advises for CSV injection:
a value starting with ``=``, ``@``, a tab or a carriage return, or with ``+``/``-`` not followed by a number or a
phone number. Numbers and phone numbers (``-12.5``, ``+1-555-0100``, ``+44 (20) 7946 0958``) are data NetSuite and
the order systems need as they are: they carry no function name, so a spreadsheet can at most do arithmetic
with them, never call anything.
"""

from __future__ import annotations

import re
from typing import Any

# First characters that may start a formula; exporters on a hot path test ``v[0] in FORMULA_STARTS`` first.
FORMULA_STARTS = frozenset("=@\t\r+-")
# A signed number or phone number: a sign, then digits and phone punctuation only (no letters, no operators
# other than the dashes and slashes phone numbers are written with).
_SIGNED_NUMBER = re.compile(r"[+-]\.?[0-9][0-9 ()./-]*\Z")


def spreadsheet_safe(value: Any) -> str:
    """Return the value as text a spreadsheet shows as text: formula starts prefixed with ``'``."""
    text = "" if value is None else str(value)
    if text and text[0] in FORMULA_STARTS and (text[0] not in "+-" or not _SIGNED_NUMBER.match(text)):
        return "'" + text
    return text


class SpreadsheetSafeExport:
    """A django-import-export resource mixin: every exported text column goes through ``spreadsheet_safe``.

    Used instead of IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT, which strips one leading "=" and lets "==", "@" and
    "+" formulas through. Numbers and booleans keep their type (a spreadsheet cannot run them).
    """

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return spreadsheet_safe(value) if isinstance(value, str) else value
