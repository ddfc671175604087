"""The CSV formats of SPEC section 2, read and written without a database."""

from __future__ import annotations

import csv
import io
import random
import re
import time
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
    assert "Shopify customer ID" in str(exc.value)
    assert "HCShopifyCustomerId" in str(exc.value) and "party-identifications" in str(exc.value)


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


def test_excel_mangled_ids_are_repaired_only_when_nothing_was_lost() -> None:
    rows = read("party-ident-excel-floats.csv", PARTY_IDENT)
    assert rows[0].values["value"] == "8812"
    assert isinstance(rows[1], RowFailure) and "scientific notation" in rows[1].reason
    assert isinstance(rows[2], RowFailure) and "scientific notation" in rows[2].reason
    assert isinstance(rows[3], RowFailure) and "whole number" in rows[3].reason


def test_scientific_notation_is_rejected_never_guessed() -> None:
    rows = read("party-ident-scientific-notation.csv", PARTY_IDENT)
    assert isinstance(rows[0], Row) and rows[0].values["value"] == "8812"
    assert [(r.line, "scientific notation" in r.reason) for r in rows[1:]] == [(3, True), (4, True)]
    assert "6.54321E+12" in rows[1].reason and "6543210000000" not in rows[1].reason


def test_a_huge_exponent_costs_no_more_than_any_cell() -> None:
    started = time.perf_counter()
    rows = read("party-ident-huge-exponent.csv", PARTY_IDENT)
    assert time.perf_counter() - started < 5  # int(Decimal("1E10000000")) alone takes hours
    assert [type(r).__name__ for r in rows] == ["RowFailure", "RowFailure", "Row"]
    assert rows[2].values["value"] == "8813"


def test_a_leading_apostrophe_is_stripped() -> None:
    rows = read("party-ident-leading-apostrophe.csv", PARTY_IDENT)
    assert [(r.values["party_id"], r.values["value"]) for r in rows] == [("C10001", "8812"), ("C10002", "8813")]


def test_a_row_cut_off_at_the_end_of_the_file_is_reported_not_imported() -> None:
    rows = read("party-ident-cut-off-last-row.csv", PARTY_IDENT)
    assert isinstance(rows[0], Row) and rows[0].values["value"] == "8812"
    assert isinstance(rows[1], RowFailure) and rows[1].line == 3
    assert "no line end" in rows[1].reason and "cut off" in rows[1].reason


def test_ids_that_are_not_digits_are_rejected() -> None:
    rows = read("party-ident-non-digit-ids.csv", PARTY_IDENT)
    failures = {r.line: r.reason for r in rows if isinstance(r, RowFailure)}
    assert set(failures) == {2, 3, 4, 5, 6}
    assert "'abc def' is not a number" in failures[2] and "'José' is not a number" in failures[3]
    assert "is not a number: NetSuite internal IDs hold digits only" in failures[2]
    assert "'-5' is not a number" in failures[4] and "'12 34' is not a number" in failures[5]
    assert "external ID does not allow" in failures[6]  # partyId 'C1 0005'
    assert [r.values["value"] for r in rows if isinstance(r, Row)] == ["8816"]


def test_a_created_ids_row_without_party_id_is_reported() -> None:
    rows = read("party-ident-no-party-id.csv", PARTY_IDENT)
    assert isinstance(rows[0], RowFailure) and "partyId is empty" in rows[0].reason
    assert isinstance(rows[1], Row)


@pytest.mark.parametrize(
    ("fixture", "cause"),
    [
        ("historical-utf16.csv", "UTF-16 text"),
        ("historical-utf16-no-bom.csv", "UTF-16 text without a byte order mark"),
        ("historical-gzip.csv", "gzip-compressed"),
        ("historical-xlsx.csv", "Excel workbook (.xlsx)"),
        ("historical-binary-nul.csv", "binary data"),
        ("party-ident-random-bytes.csv", "binary data"),
    ],
)
def test_a_file_that_is_not_csv_text_is_refused_whole_with_its_cause(fixture: str, cause: str) -> None:
    layout = PARTY_IDENT if fixture.startswith("party") else HISTORICAL
    with pytest.raises(FileFormatError, match=re.escape(cause)):
        read(fixture, layout)


def test_a_megabyte_of_random_bytes_is_one_file_error_not_thousands_of_rows() -> None:
    noise = random.Random(3).randbytes(1 << 20).replace(b"\x00", b"\x01")  # no NUL: still binary
    with pytest.raises(FileFormatError, match="binary data"):
        read_bytes(noise, PARTY_IDENT)


def test_rows_after_an_unclosed_quote_are_read_again_not_lost() -> None:
    rows = read("historical-unclosed-quote.csv")
    assert [(type(r).__name__, r.line) for r in rows] == [("Row", 2), ("RowFailure", 3), ("Row", 4), ("Row", 5)]
    assert "never closed" in rows[1].reason and "lines 3 to 5" in rows[1].reason
    assert [r.values["internal_id"] for r in rows if isinstance(r, Row)] == ["101", "103", "104"]


def test_a_stray_quote_that_swallows_rows_gives_them_back() -> None:
    rows = read("historical-stray-quote-swallows-rows.csv")
    assert isinstance(rows[0], RowFailure) and rows[0].line == 2 and "swallowed" in rows[0].reason
    assert [(r.line, r.values["first_name"]) for r in rows[1:] if isinstance(r, Row)] == [
        (3, "Grace"),
        (4, 'Alan"'),  # a quote inside an unquoted value is kept as written
        (5, "Edsger"),
    ]


def test_a_line_longer_than_a_field_may_be_is_reported_and_the_rest_read() -> None:
    data = b"internalId,HCShopifyCustomerId,firstName\n1,2," + b"x" * (2 << 20) + b"\n3,4,Ada\n"
    rows = read_bytes(data)
    assert isinstance(rows[0], RowFailure) and rows[0].line == 2 and "longer than" in rows[0].reason
    assert isinstance(rows[1], Row) and (rows[1].line, rows[1].values["first_name"]) == (3, "Ada")


def test_many_broken_records_before_any_row_fail_the_file() -> None:
    data = b"partyId,partyIdentificationTypeId,idValue\n" + b"a,b,c,d,e\n" * 200
    with pytest.raises(FileFormatError, match="does not look like a created customer IDs CSV"):
        read_bytes(data, PARTY_IDENT)


def test_hotwax_party_format_is_read_from_the_historical_file() -> None:
    rows = read("historical-hotwax-party-format.csv")
    assert isinstance(rows[0], Row)
    assert (rows[0].values["internal_id"], rows[0].values["shopify_id"], rows[0].values["first_name"]) == (
        "101",
        "6543210101",
        "Ada",
    )
    assert isinstance(rows[1], RowFailure) and "Shopify customer ID is empty" in rows[1].reason  # empty after colon
    assert isinstance(rows[2], RowFailure) and "NetSuite internal ID is empty" in rows[2].reason
    assert isinstance(rows[3], RowFailure) and "6543210199" in rows[3].reason  # disagrees with external-id
    assert isinstance(rows[4], Row) and rows[4].values["internal_id"] == "105"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SHOPIFY_CUST_ID:1|NETSUITE_CUSTOMER_ID:2", {"SHOPIFY_CUST_ID": "1", "NETSUITE_CUSTOMER_ID": "2"}),
        ("SHOPIFY_CUST_ID:|NETSUITE_CUSTOMER_ID:2", {"NETSUITE_CUSTOMER_ID": "2"}),
        ("NETSUITE_CUSTOMER_ID:2.0", {"NETSUITE_CUSTOMER_ID": "2"}),
        ("shopify_cust_id: 7 |OTHER_ID:x", {"SHOPIFY_CUST_ID": "7", "OTHER_ID": "x"}),
    ],
)
def test_party_format(text: str, expected: dict[str, str]) -> None:
    assert formats.party_identifications(text) == expected


@pytest.mark.parametrize(
    "text", ["SHOPIFY_CUST_ID=1", "NETSUITE_CUSTOMER_ID:6.5E+3", "NETSUITE_CUSTOMER_ID:1|NETSUITE_CUSTOMER_ID:2"]
)
def test_party_format_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(formats.RowError):
        formats.party_identifications(text)


def test_a_feeds_own_headers_map_to_fields() -> None:
    with pytest.raises(FileFormatError):
        read("historical-custom-headers.csv")
    mapping = {"Customer Internal ID": "internal_id", "shopify id": "shopify_id", "Given Name": "first_name"}
    with open(FIXTURES / "historical-custom-headers.csv", "rb") as stream:
        [row] = list(HISTORICAL.open(stream, mapping))
    assert row.values == {"internal_id": "301", "shopify_id": "6543210301", "first_name": "Radia"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8812", "8812"),
        ("8812.0", "8812"),
        ("8812.000", "8812"),
        ("'8812", "8812"),
        (" 12 ", "12"),
        ("C10042", "C10042"),
    ],
)
def test_repair(raw: str, expected: str) -> None:
    assert formats.repair(raw) == expected


@pytest.mark.parametrize("raw", ["6.54321E+12", "1E10000000", "8812.5", "1e3"])
def test_repair_refuses_what_lost_digits(raw: str) -> None:
    with pytest.raises(formats.RowError):
        formats.repair(raw)


def test_party_ident_file_without_header_uses_the_documented_order() -> None:
    rows = read_bytes(b"C10042,NETSUITE_CUSTOMER_ID,8812\nC10043,NETSUITE_CUSTOMER_ID,8813\n", PARTY_IDENT)
    assert [(r.line, r.values["party_id"], r.values["value"]) for r in rows] == [
        (1, "C10042", "8812"),
        (2, "C10043", "8813"),
    ]


def test_required_value_missing_is_a_row_error() -> None:
    rows = read_bytes(b"internalId,HCShopifyCustomerId\n1,\n2,3\n")
    assert isinstance(rows[0], RowFailure) and "Shopify customer ID is empty" in rows[0].reason
    assert isinstance(rows[1], Row)


def test_error_file_lines_split_at_the_first_comma_only() -> None:
    with open(FIXTURES / "export-error-commas-in-message.csv", "rb") as stream:
        [row] = list(formats.EXPORT_ERROR.open(stream))
    message = "Failed to submit job request: the file has 25,001 records, more than the 25,000 a CSV import takes."
    assert row.values == {"file_name": "HCCustomerExport-1.csv", "message": message}


def test_export_header_is_exact_and_every_column_is_spreadsheet_safe() -> None:
    out = io.BytesIO()
    writer = formats.ExportWriter(out)
    row = ("=C1", "C1", "", "=cmd|' /C calc'!A0", "+1 yes", "@x", "+1-555-0100", "T", "-status", "1", "TRUE", 5, "\tx")
    assert writer.add([formats.safe_cells(row)]) == 1
    size, sha = writer.finish()
    data = out.getvalue()
    assert data.startswith(
        b"HCCustomerId,externalId,HCShopifyCustomerId,firstName,lastName,email,phone,individual,status,"
        b"subsidiary,taxable,defaultOrderPriority,accountSource\r\n"
    )
    written = list(csv.reader(io.StringIO(data.decode())))[1]
    assert written[0] == "'=C1" and written[3] == "'=cmd|' /C calc'!A0"
    assert written[4:7] == ["'+1 yes", "'@x", "+1-555-0100"]  # the phone number untouched
    assert written[8] == "'-status" and written[12] == "'\tx"
    assert size == len(data) and len(sha) == 64


def test_the_writer_never_passes_its_byte_limit() -> None:
    out = io.BytesIO()
    writer = formats.ExportWriter(out, max_bytes=400)
    rows = [
        formats.safe_cells((f"C{n}", f"C{n}", "", "Ada", "Lovelace", "a@b.c", "", "T", "s", "1", "TRUE", 5, ""))
        for n in range(20)
    ]
    written = writer.add(rows)
    assert 0 < written < 20 and writer.size <= 400 < writer.size + 40
    assert len(out.getvalue().splitlines()) == written + 1
