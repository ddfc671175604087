"""The spreadsheet-safety rule of SPEC section 2: formulas neutralised, numbers and phone numbers untouched."""

import pytest

from integration_portal.spreadsheet import spreadsheet_safe


@pytest.mark.parametrize(
    "value",
    ["=1+1", "==cmd", "@SUM(A1)", "\tx", "\r=x", "+cmd|' /C calc'!A0", "-2+3", "+A1", "-", "+", "=HYPERLINK(x)"],
)
def test_formula_starts_are_prefixed(value):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    ["+1-555-0100", "+44 (20) 7946 0958", "-12.5", "-.5", "+1 555 010 0100", "8812", "Ada", "", "a=b", "'quoted"],
)
def test_numbers_phones_and_text_are_kept(value):
    assert spreadsheet_safe(value) == value


def test_none_is_empty():
    assert spreadsheet_safe(None) == ""
