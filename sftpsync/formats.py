"""The CSV formats exchanged with NetSuite (SPEC section 2): streaming readers and the export writer.

Readers take a binary stream and yield rows with the physical line number where each record starts,
so that an operator can open the file and find the line. Nothing here touches the database.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from integration_portal.spreadsheet import FORMULA_STARTS, spreadsheet_safe

# Text fields such as names and addresses can hold long values; the csv default (128 KB) is enough for
# a row, but a stray unclosed quote would otherwise swallow the rest of the file without an error.
csv.field_size_limit(1 << 20)


class FileFormatError(Exception):
    """The file cannot be read at all (no header, a required column missing); the message says why."""


class RowError(Exception):
    """One row cannot be used; the message says why, for the operator."""


# --- decoding --------------------------------------------------------------------------------------


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode bytes that are not UTF-8 as Windows-1252 (a superset of Latin-1), as spreadsheets write."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error("portal_cp1252", _cp1252_fallback)


def open_text(stream: IO[bytes]) -> io.TextIOWrapper:
    """Wrap a binary stream as text: UTF-8 (BOM dropped), bytes that are not UTF-8 read as Windows-1252."""
    # newline="" hands CR, LF and CRLF to the csv module untouched, so quoted newlines survive.
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="portal_cp1252", newline="")  # type: ignore[arg-type]


# --- IDs mangled by spreadsheets -------------------------------------------------------------------

_NUMBERISH = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
# Excel keeps 15 significant digits; a longer number shown in scientific notation has lost digits.
EXCEL_DIGITS = 15


def normalize_id(value: str) -> str:
    """Undo what Excel does to numeric IDs (``8812.0`` → ``8812``, ``6.54321E+12`` → ``6543210000000``).

    Values that are not numbers are returned stripped. A number with a fraction, or one in scientific
    notation with more significant digits than Excel keeps, cannot be the real ID: RowError.
    """
    value = value.strip()
    if not value or (value.isascii() and value.isdigit()) or not _NUMBERISH.match(value):
        return value
    try:
        number = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return value
    if number != number.to_integral_value():
        raise RowError(f"'{value}' is not a whole number, so it cannot be an ID (was it edited in a spreadsheet?)")
    if number < 0:
        raise RowError(f"'{value}' is negative, so it cannot be an ID")
    integer = int(number)
    if "e" in value.lower() and len(str(integer)) > EXCEL_DIGITS:
        raise RowError(
            f"'{value}' was shortened by a spreadsheet and the real ID cannot be recovered; "
            "export the column as text and send the file again"
        )
    return str(integer)


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A field read from a file: its key, the header names accepted for it, and whether it must be there."""

    key: str
    headers: tuple[str, ...]
    required: bool = False
    is_id: bool = False
    max_length: int | None = None


def _header_key(name: str) -> str:
    return "".join(name.split()).lower()


@dataclass
class Row:
    """One record: the physical line it starts on and its values by column key."""

    line: int
    values: dict[str, str]


@dataclass
class RowFailure:
    """A record that could not be read; the job logs it with its line number."""

    line: int
    reason: str


class CsvLayout:
    """A file layout: header names matched case- and space-insensitively, required columns, ID columns."""

    def __init__(self, name: str, columns: Iterable[Column], *, headerless_order: tuple[str, ...] = ()):
        self.name = name
        self.columns = tuple(columns)
        # When the first line is data rather than a header (NetSuite writes some files bare).
        self.headerless_order = headerless_order
        self._by_header = {_header_key(h): c for c in self.columns for h in c.headers}

    def bind(self, header: list[str]) -> list[tuple[int, Column]]:
        """Map header positions to columns, or raise FileFormatError naming what is missing."""
        bound: dict[str, tuple[int, Column]] = {}
        for position, name in enumerate(header):
            column = self._by_header.get(_header_key(name))
            if column is not None and column.key not in bound:
                bound[column.key] = (position, column)
        missing = [c for c in self.columns if c.required and c.key not in bound]
        if missing:
            wanted = "; ".join(f"{c.key} (one of: {', '.join(c.headers)})" for c in missing)
            found = ", ".join(h for h in header if h.strip()) or "(nothing)"
            raise FileFormatError(
                f"The header line lacks a required column: {wanted}. The header has: {found}. "
                "Fix the header (or the saved search's column labels) and send the file again."
            )
        return list(bound.values())

    def looks_like_header(self, first: list[str]) -> bool:
        return any(_header_key(v) in self._by_header for v in first)


class CsvReader:
    """Stream rows of a layout from a binary stream, reporting each record's starting line."""

    def __init__(self, stream: IO[bytes], layout: CsvLayout):
        self.layout = layout
        self._text = open_text(stream)
        self._reader = csv.reader(self._text, strict=False)
        self.header: list[str] = []
        self.header_line = 0
        self.rows_read = 0
        self._pending_first: tuple[int, list[str]] | None = None
        self._bound = self._read_header()

    def _read_header(self) -> list[tuple[int, Column]]:
        line = 0
        for record in self._reader:
            start, line = line + 1, self._reader.line_num
            if not any(v.strip() for v in record):
                continue
            if not self.layout.looks_like_header(record) and self.layout.headerless_order:
                # A bare file: the first record is data in the documented column order.
                self.header, self.header_line = list(self.layout.headerless_order), 0
                self._pending_first = (start, record)
                self._last_line = line
                return self.layout.bind(self.header)
            self.header, self.header_line = record, start
            self._last_line = line
            return self.layout.bind(record)
        raise FileFormatError("The file is empty: it has no header line and no rows. Nothing was imported.")

    def __iter__(self) -> Iterator[Row | RowFailure]:
        width = len(self.header)
        # Trailing delimiters add empty header cells; extra cells are an error only when they hold data.
        while width and not self.header[width - 1].strip():
            width -= 1
        bound = self._bound
        reader = self._reader
        if self._pending_first is not None:
            start, record = self._pending_first
            self._pending_first = None
            yield self._row(start, record, width, bound)
        last = self._last_line
        for record in reader:
            start, last = last + 1, reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            yield self._row(start, record, width, bound)

    def _row(self, line: int, record: list[str], width: int, bound: list[tuple[int, Column]]) -> Row | RowFailure:
        self.rows_read += 1
        if len(record) > width and any(v.strip() for v in record[width:]):
            return RowFailure(
                line, f"The row has {len(record)} fields but the header has {width}; check for an unquoted comma."
            )
        values: dict[str, str] = {}
        size = len(record)
        for position, column in bound:
            value = record[position].strip() if position < size else ""
            if column.is_id and value:
                try:
                    value = normalize_id(value)
                except RowError as exc:
                    return RowFailure(line, f"{column.key}: {exc}.")
            if column.max_length and len(value) > column.max_length:
                return RowFailure(line, f"{column.key} is longer than {column.max_length} characters.")
            values[column.key] = value
        for column in self.layout.columns:
            if column.required and not values.get(column.key):
                return RowFailure(line, f"{column.key} is empty; the row needs it.")
        return Row(line, values)


HISTORICAL = CsvLayout(
    "historical customers",
    [
        Column("internal_id", ("internalId", "Internal ID", "id"), required=True, is_id=True, max_length=100),
        Column(
            "shopify_id",
            ("HCShopifyCustomerId", "Shopify Customer ID", "shopifyCustomerId"),
            required=True,
            is_id=True,
            max_length=100,
        ),
        Column("customer_id", ("HCCustomerId", "externalId", "External ID"), is_id=True, max_length=40),
        Column("email", ("email", "E-mail"), max_length=254),
        Column("phone", ("phone", "Phone"), max_length=40),
        Column("first_name", ("firstName", "First Name"), max_length=100),
        Column("last_name", ("lastName", "Last Name"), max_length=100),
        Column("company_name", ("companyName", "Company Name"), max_length=200),
    ],
)

PARTY_IDENT_HEADER = ("partyId", "partyIdentificationTypeId", "idValue")
PARTY_IDENT = CsvLayout(
    "created customer IDs",
    [
        Column("party_id", ("partyId",), required=True, is_id=True, max_length=40),
        Column("type", ("partyIdentificationTypeId",), required=True, max_length=60),
        Column("value", ("idValue",), required=True, is_id=True, max_length=100),
    ],
    headerless_order=PARTY_IDENT_HEADER,
)

# HC_SC_ImportCustomer's export/error/*.csv: one row per rejected export row, or one for a rejected file.
EXPORT_ERROR = CsvLayout(
    "NetSuite import errors",
    [
        Column("file_name", ("fileName",), required=True, max_length=255),
        Column("message", ("errorMessage",), required=True),
    ],
)


# --- writing ---------------------------------------------------------------------------------------

EXPORT_HEADER = (
    "HCCustomerId",
    "externalId",
    "HCShopifyCustomerId",
    "firstName",
    "lastName",
    "email",
    "phone",
    "individual",
    "status",
    "subsidiary",
    "taxable",
    "defaultOrderPriority",
    "accountSource",
)

# The one spreadsheet-safety rule (SPEC section 2): formulas prefixed, numbers and phone numbers kept.
FORMULA_CHARS = FORMULA_STARTS
neutralize = spreadsheet_safe


class HashingWriter(io.RawIOBase):
    """Count and hash the bytes written through it, on their way to the underlying stream."""

    def __init__(self, raw: IO[bytes]):
        import hashlib

        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        view = bytes(data)
        self.sha256.update(view)
        self.size += len(view)
        self.raw.write(view)
        return len(view)


class ExportWriter:
    """Write the export file: the exact header, then one neutralised row per customer, CRLF as csv does."""

    def __init__(self, stream: IO[bytes]):
        self.sink = HashingWriter(stream)
        self._text = io.TextIOWrapper(
            io.BufferedWriter(self.sink, buffer_size=1 << 16), encoding="utf-8", newline="", write_through=False
        )
        self._writer = csv.writer(self._text)
        self._writer.writerow(EXPORT_HEADER)
        self.rows = 0

    def write_rows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write rows given in EXPORT_HEADER order."""
        writerow = self._writer.writerow
        starts = FORMULA_CHARS
        count = 0
        for row in rows:
            # The first-character test inlined: this runs for every field of every exported customer.
            writerow([neutralize(v) if v.__class__ is str and v and v[0] in starts else v for v in row])
            count += 1
        self.rows += count

    def write_neutralized_rows(self, rows: list[tuple]) -> None:
        """Write rows in EXPORT_HEADER order whose text values went through neutralize() already."""
        self._writer.writerows(rows)
        self.rows += len(rows)

    def finish(self) -> tuple[int, str]:
        """Flush what is buffered; return the file's size and SHA-256."""
        self._text.flush()
        self._text.detach().flush()
        return self.sink.size, self.sink.sha256.hexdigest()
