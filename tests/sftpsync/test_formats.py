"""The CSV formats of SPEC section 2, read and written without a database."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from sftpsync import formats
from sftpsync.formats import HISTORICAL, PARTY_IDENT, CsvReader, FileFormatError, Row, RowFailure

FIXTURES = Path(__file__).parent / "fixtures"


def read(name: str, layout: formats.CsvLayout = HISTORICAL) -> list[Row | RowFailure]:
    with open(FIXTURES / name, "rb") as stream:
        return list(CsvReader(stream, layout))


def read_bytes(data: bytes, layout: formats.CsvLayout = HISTORICAL) -> list[Row | RowFailure]:
    return list(CsvReader(io.BytesIO(data), layout))


def test_bom_and_crlf_are_invisible() -> None:
    rows = read("historical-bom-crlf.csv")
    assert [(r.line, r.values["internal_id"], r.values["first_name"]) for r in rows] == [
        (2, "101", "Ada"),
        (3, "102", "Grace"),
    ]
    assert rows[0].values["email"] == "ada@example.com"


def test_bare_cr_line_endings_read_like_crlf_with_physical_line_numbers() -> None:
    rows = read("historical-bare-cr.csv")
    assert [(r.line, r.values["internal_id"], r.values["first_name"]) for r in rows] == [
        (2, "201", "Ada"),
        (3, "202", "Grace\rMurray"),  # a quoted CR stays in the value; the record starts on line 3
        (6, "203", "Alan"),  # after the blank line 5
    ]
    assert rows[-1].values["email"] == "alan@example.com"


def test_latin1_bytes_fall_back_to_windows_1252() -> None:
    rows = read("historical-latin1.csv")
    assert [r.values["first_name"] for r in rows] == ["Renée", "José"]
    assert rows[0].values["last_name"] == "Müller"


def test_mixed_utf8_and_latin1_in_one_file() -> None:
    rows = read_bytes("internalId,HCShopifyCustomerId,firstName\n1,2,Zoë\n3,4,".encode() + b"Zo\xeb\n")
    assert [r.values["first_name"] for r in rows] == ["Zoë", "Zoë"]


def test_quoted_commas_and_newlines_report_the_line_a_record_starts_on() -> None:
    rows = read("historical-quoted-commas-newlines.csv")
    assert [(r.line, r.values["company_name"]) for r in rows] == [
        (2, "Acme, Inc."),
        (3, "Multi\nLine Co"),
        (5, 'Say "hi", Ltd'),
    ]


def test_headers_match_case_and_space_insensitively() -> None:
    rows = read_bytes(b"INTERNAL  id,shopify customer id,E-MAIL,external id\n7,8,a@b.c,C1\n")
    assert rows[0].values == {
        "internal_id": "7",
        "shopify_id": "8",
        "email": "a@b.c",
        "customer_id": "C1",
    }


def test_missing_required_column_fails_the_whole_file_with_its_name() -> None:
    with pytest.raises(FileFormatError) as exc:
        read("historical-missing-required-column.csv")
    assert "shopify_id" in str(exc.value)
    assert "HCShopifyCustomerId" in str(exc.value)


def test_empty_file_is_a_clear_error() -> None:
    with pytest.raises(FileFormatError, match="empty"):
        read("empty.csv")


def test_header_only_has_no_rows() -> None:
    assert read("header-only.csv") == []


def test_blank_lines_are_skipped_and_duplicates_kept_for_the_job() -> None:
    rows = read("duplicate-rows.csv")
    assert [r.line for r in rows] == [2, 4, 5, 6]


def test_trailing_delimiters_are_fine_and_extra_fields_are_a_row_error() -> None:
    rows = read("too-many-fields.csv")
    assert isinstance(rows[0], Row) and rows[0].values["internal_id"] == "601"
    assert isinstance(rows[1], RowFailure) and rows[1].line == 3
    assert "6 fields" in rows[1].reason
    assert isinstance(rows[2], Row) and rows[2].line == 4


def test_excel_mangled_ids() -> None:
    rows = read("party-ident-excel-floats.csv", PARTY_IDENT)
    assert rows[0].values["value"] == "8812"
    assert rows[1].values["value"] == "6543210000000"
    assert isinstance(rows[2], RowFailure) and "cannot be recovered" in rows[2].reason
    assert isinstance(rows[3], RowFailure) and "whole number" in rows[3].reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("8812", "8812"), ("8812.0", "8812"), ("6.54321E+12", "6543210000000"), ("C10042", "C10042"), (" 12 ", "12")],
)
def test_normalize_id(raw: str, expected: str) -> None:
    assert formats.normalize_id(raw) == expected


def test_party_ident_file_without_header_uses_the_documented_order() -> None:
    rows = read_bytes(b"C10042,NETSUITE_CUSTOMER_ID,8812\nC10043,NETSUITE_CUSTOMER_ID,8813\n", PARTY_IDENT)
    assert [(r.line, r.values["party_id"], r.values["value"]) for r in rows] == [
        (1, "C10042", "8812"),
        (2, "C10043", "8813"),
    ]


def test_required_value_missing_is_a_row_error() -> None:
    rows = read_bytes(b"internalId,HCShopifyCustomerId\n1,\n2,3\n")
    assert isinstance(rows[0], RowFailure) and "shopify_id" in rows[0].reason
    assert isinstance(rows[1], Row)


def test_export_header_is_exact_and_injection_is_neutralised() -> None:
    out = io.BytesIO()
    writer = formats.ExportWriter(out)
    writer.write_rows(
        [("C1", "C1", "", "=cmd|' /C calc'!A0", "+x", "@x", "+1-555-0100", "T", "s", "", "TRUE", 5, "\tx")]
    )
    size, sha = writer.finish()
    data = out.getvalue()
    assert data.startswith(
        b"HCCustomerId,externalId,HCShopifyCustomerId,firstName,lastName,email,phone,individual,status,"
        b"subsidiary,taxable,defaultOrderPriority,accountSource\r\n"
    )
    row = list(csv.reader(io.StringIO(data.decode())))[1]
    assert row[3] == "'=cmd|' /C calc'!A0"
    assert row[4:7] == ["'+x", "'@x", "+1-555-0100"]  # a phone number is data, kept as it is
    assert row[12] == "'\tx"
    assert size == len(data)
    assert len(sha) == 64


@pytest.mark.parametrize("value", ["=1+1", "==1", "+A1", "-A1", "@SUM(A1)", "\t=1", "\r=1"])
def test_neutralize_prefixes_formula_starts(value: str) -> None:
    assert formats.neutralize(value) == "'" + value


def test_neutralize_leaves_plain_values() -> None:
    assert formats.neutralize("Ada") == "Ada"
    assert formats.neutralize("+1-555-0100") == "+1-555-0100"
    assert formats.neutralize("-12.5") == "-12.5"
    assert formats.neutralize(5) == "5"
    assert formats.neutralize(None) == ""
