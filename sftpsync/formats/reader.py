"""Reading a CSV file of a feed so that every line is accounted for: a row, a reported failure, or a blank line.

The reader takes a binary stream and yields rows with the physical line each record starts on, so an operator can
open the file and find it. It refuses a file that is not CSV text at all (sniff.py) before reading a row; it
reports a line that opens a quote never closed and reads the lines after it again instead of losing them; it
reports a last line without a line end (a file cut off while it was written) instead of importing a truncated
value; and it bounds the work per line and per record. Nothing here touches the database.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO

from .ids import RowError
from .sniff import SNIFF_BYTES, unreadable_reason

# The longest field, and the longest physical line read as one: a stray quote then fails one record, not the file.
MAX_FIELD = 1 << 20
csv.field_size_limit(MAX_FIELD)
# A quoted value spanning more lines than this is a quote that was never closed.
MAX_RECORD_LINES = 1000
# This many broken records before a single good row: the file is not a CSV of this feed.
MAX_BROKEN_BEFORE_A_ROW = 100


class FileFormatError(Exception):
    """The file cannot be read at all (not CSV text, no header, a required column missing); the message says why."""


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
    # Not a row of CSV at all (a broken quote, extra fields, a cut-off line), as opposed to a row with a bad value.
    structural: bool = False


# --- decoding --------------------------------------------------------------------------------------


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode bytes that are not UTF-8 as Windows-1252 (a superset of Latin-1), as spreadsheets write."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error("portal_cp1252", _cp1252_fallback)


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were read to look at them, given back before the rest."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head = memoryview(head)
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_text(stream: IO[bytes]) -> io.TextIOWrapper:
    """Wrap a binary stream as text: UTF-8 (BOM dropped), bytes that are not UTF-8 read as Windows-1252."""
    # newline="" hands CR, LF and CRLF to the csv module untouched, so quoted newlines survive.
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="portal_cp1252", newline="")  # type: ignore[arg-type]


def sniffed_text(stream: IO[bytes]) -> io.TextIOWrapper:
    """Look at the first bytes; refuse what is not CSV text (FileFormatError), else return the stream as text."""
    head = stream.read(SNIFF_BYTES)
    reason = unreadable_reason(head)
    if reason:
        raise FileFormatError(reason)
    return open_text(io.BufferedReader(_Prefixed(head, stream)))


# --- physical lines --------------------------------------------------------------------------------


class _Broken(Exception):
    """The record being read cannot be a row (a runaway quote, an endless line); the message says why."""


@dataclass
class _Line:
    number: int
    text: str
    ended: bool  # has its line end: False only for a file's last line


class _Lines:
    """The file's physical lines for the csv module, numbered, each record's lines kept until it is taken.

    Lines handed back with ``again`` are read again, under their own numbers, before the rest of the file.
    """

    def __init__(self, text: io.TextIOWrapper) -> None:
        self.text = text
        self.read_lines = 0
        self.again: deque[_Line] = deque()
        self.record: list[_Line] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.again:
            line = self.again.popleft()
        else:
            text = self.text.readline(MAX_FIELD + 1)
            if not text:
                raise StopIteration
            self.read_lines += 1
            line = _Line(self.read_lines, text, text.endswith(("\n", "\r")))
            if not line.ended and len(text) > MAX_FIELD:
                while (more := self.text.readline(MAX_FIELD)) and not more.endswith(("\n", "\r")):
                    pass  # skip the rest of an endless line without holding it
                self.record.append(_Line(line.number, "", True))
                raise _Broken(f"line {line.number} is longer than {MAX_FIELD:,} characters; it was not read")
        self.record.append(line)
        if len(self.record) > MAX_RECORD_LINES:
            raise _Broken(f"its quoted value runs over more than {MAX_RECORD_LINES:,} lines")
        return line.text

    def take(self) -> list[_Line]:
        """Return the lines of the record just read, and start a new one."""
        lines, self.record = self.record, []
        return lines


# --- layouts ---------------------------------------------------------------------------------------


def header_key(name: str) -> str:
    """Compare header names without case or spaces: 'Internal ID' and 'internalId' are one header."""
    return "".join(name.split()).casefold()


@dataclass(frozen=True)
class Column:
    """A field read from a file: its key, the header names accepted for it, and how its value is checked."""

    key: str
    headers: tuple[str, ...]
    label: str = ""
    max_length: int | None = None
    # Repairs and validates a non-empty value, raising RowError; applied after the length check.
    check: Callable[[str, str], str] | None = None

    @property
    def name(self) -> str:
        return self.label or self.key


class CsvLayout:
    """A file layout: header names matched case- and space-insensitively, the columns it needs, each row's checks.

    ``requires`` lists groups of column keys of which the header must bind at least one each; ``required`` the
    keys every row must have a value for (after ``finish``, which may derive values from others).
    """

    def __init__(
        self,
        name: str,
        columns: Iterable[Column],
        *,
        requires: tuple[tuple[str, ...], ...] = (),
        required: tuple[str, ...] = (),
        finish: Callable[[dict[str, str]], dict[str, str]] | None = None,
        headerless_order: tuple[str, ...] = (),
        looks_like_data: Callable[[list[str]], bool] | None = None,
    ) -> None:
        self.name = name
        self.columns = tuple(columns)
        self.by_key = {c.key: c for c in self.columns}
        self.requires = requires
        self.required = required
        self.finish = finish
        # When the first line is data rather than a header (NetSuite writes some files bare).
        self.headerless_order = headerless_order
        self.looks_like_data = looks_like_data
        self._by_header = {header_key(h): c for c in self.columns for h in c.headers}

    def columns_for(self, mapping: Mapping[str, str] | None) -> dict[str, Column]:
        """Return header key → column, with a feed's own header names (header → column key) added."""
        found = dict(self._by_header)
        for header, key in (mapping or {}).items():
            if key in self.by_key:
                found[header_key(header)] = self.by_key[key]
        return found

    def bind(self, header: list[str], mapping: Mapping[str, str] | None = None) -> list[tuple[int, Column]]:
        """Map header positions to columns, or raise FileFormatError naming what is missing."""
        by_header = self.columns_for(mapping)
        bound: dict[str, tuple[int, Column]] = {}
        for position, name in enumerate(header):
            column = by_header.get(header_key(name))
            if column is not None and column.key not in bound:
                bound[column.key] = (position, column)
        missing = [group for group in self.requires if not any(k in bound for k in group)]
        if missing:
            wanted = "; ".join(
                " or ".join(f"{self.by_key[k].name} (one of: {', '.join(self.by_key[k].headers)})" for k in group)
                for group in missing
            )
            found = ", ".join(h for h in header if h.strip())[:500] or "(nothing)"
            raise FileFormatError(
                f"The header line lacks a required column: {wanted}. The header has: {found}. Fix the header (or the "
                "saved search's column labels), or map the column to the field under the feed's column mapping, and "
                "send the file again."
            )
        return list(bound.values())

    def looks_like_header(self, first: list[str], mapping: Mapping[str, str] | None = None) -> bool:
        by_header = self.columns_for(mapping)
        return any(header_key(v) in by_header for v in first)

    def open(self, stream: IO[bytes], mapping: Mapping[str, str] | None = None) -> CsvReader:
        """Start reading a file of this layout (FileFormatError when it cannot be read at all)."""
        return CsvReader(stream, self, mapping)


# --- the reader ------------------------------------------------------------------------------------


class CsvReader:
    """Stream the rows of a layout from a binary stream, each with the physical line its record starts on."""

    def __init__(self, stream: IO[bytes], layout: CsvLayout, mapping: Mapping[str, str] | None = None) -> None:
        self.layout = layout
        self.mapping = dict(mapping or {})
        self._lines = _Lines(sniffed_text(stream))
        self.header: list[str] = []
        self.header_line = 0
        self.rows_read = 0
        self._first: list[tuple[int, list[str], list[_Line]]] = []
        self._bound = self._read_header()
        # What each bound column needs, looked up once: this runs for every cell of a million-row file.
        self._plan = [(pos, c.key, c.max_length or 0, c.check, c.name) for pos, c in self._bound]

    @property
    def line(self) -> int:
        """The last physical line read."""
        return self._lines.read_lines

    def _records(self) -> Iterator[tuple[int, list[str], list[_Line]] | RowFailure]:
        """Yield (start line, fields, lines) per record, or a RowFailure for a broken one, lines after it re-read."""
        while True:
            reader = csv.reader(self._lines, strict=False)
            try:
                for fields in reader:
                    lines = self._lines.take()
                    yield (lines[0].number if lines else self.line), fields, lines
                return
            except (_Broken, csv.Error) as exc:
                lines = self._lines.take()
                if not lines:  # pragma: no cover - csv only fails on a line it read
                    raise FileFormatError(f"The file could not be read past line {self.line}: {exc}.") from exc
                detail = str(exc) if isinstance(exc, _Broken) else f"the csv reader stopped: {exc}"
                yield self._broken(lines, detail)

    def _broken(self, lines: list[_Line], detail: str) -> RowFailure:
        """Report a record that cannot be a row, and read the lines after its first one again, on their own."""
        first, last = lines[0].number, lines[-1].number
        span = f"lines {first} to {last} were read as one record" if last > first else f"line {first}"
        # The rows a runaway quote swallowed come back: nothing after the broken line is lost.
        self._lines.again.extendleft(reversed([line for line in lines[1:] if line.text]))
        return RowFailure(
            first,
            f"The row starting on line {first} cannot be read: {detail} ({span}). The lines after it were read "
            "again on their own. Fix the quotes of this line and send the row again.",
            structural=True,
        )

    def _runaway(self, fields: list[str], lines: list[_Line], width: int) -> str:
        """Tell why a record over several lines is a quote gone wrong rather than a quoted value with line breaks."""
        if sum(line.text.count('"') for line in lines) % 2:
            return "it opens a quote that is never closed"
        if len(fields) != width:
            return f"it has {len(fields)} fields where the header has {width}, so a quote swallowed line breaks"
        if width > 1 and any(line.text.count(",") >= width - 1 for line in lines[1:]):
            return "a quoted value holds whole lines of the file, so a quote swallowed rows"
        return ""

    def _read_header(self) -> list[tuple[int, Column]]:
        for item in self._records():
            if isinstance(item, RowFailure):
                raise FileFormatError(f"The header line cannot be read: {item.reason}")
            start, fields, lines = item
            if not any(v.strip() for v in fields):
                continue
            if (
                self.layout.headerless_order
                and not self.layout.looks_like_header(fields, self.mapping)
                and self.layout.looks_like_data is not None
                and self.layout.looks_like_data(fields)
            ):
                # A bare file: the first record is data in the documented column order.
                self.header, self.header_line = list(self.layout.headerless_order), 0
                self._first.append((start, fields, lines))
                return self.layout.bind(self.header)
            self.header, self.header_line = fields, start
            return self.layout.bind(fields, self.mapping)
        raise FileFormatError("The file is empty: it has no header line and no rows. Nothing was imported.")

    def __iter__(self) -> Iterator[Row | RowFailure]:
        width = len(self.header)
        # Trailing delimiters add empty header cells; extra cells are an error only when they hold data.
        while width and not self.header[width - 1].strip():
            width -= 1
        good = broken = 0
        records = self._records()
        pending = iter(self._first)
        self._first = []
        for item in _chain(pending, records):
            if isinstance(item, RowFailure):
                result: Row | RowFailure = item
            else:
                start, fields, lines = item
                if not fields or not any(v.strip() for v in fields):
                    continue
                runaway = self._runaway(fields, lines, width) if len(lines) > 1 else ""
                result = self._broken(lines, runaway) if runaway else self._row(start, fields, lines, width)
            self.rows_read += 1
            if isinstance(result, Row):
                good += 1
            elif result.structural:
                broken += 1
                if not good and broken >= MAX_BROKEN_BEFORE_A_ROW:
                    raise FileFormatError(
                        f"The first {broken} records cannot be read as rows (quotes never closed, wrong numbers of "
                        f"fields): this does not look like a {self.layout.name} CSV file. Check that the right file "
                        "was sent."
                    )
            yield result

    def _row(self, line: int, fields: list[str], lines: list[_Line], width: int) -> Row | RowFailure:
        if lines and not lines[-1].ended:
            return RowFailure(
                line,
                "The file's last line has no line end: the file may have been cut off while it was written, so this "
                "row was not imported (a value may be incomplete). Send the file again, complete.",
                structural=True,
            )
        if len(fields) > width and any(v.strip() for v in fields[width:]):
            return RowFailure(
                line,
                f"The row has {len(fields)} fields but the header has {width}; check for an unquoted comma.",
                structural=True,
            )
        values: dict[str, str] = {}
        size = len(fields)
        try:
            for position, key, limit, check, name in self._plan:
                value = fields[position].strip() if position < size else ""
                if value:
                    if limit and len(value) > limit:
                        return RowFailure(line, f"{name} is longer than {limit} characters.")
                    if check is not None:
                        value = check(value, name)
                values[key] = value
            if self.layout.finish is not None:
                values = self.layout.finish(values)
        except RowError as exc:
            return RowFailure(line, f"{exc}.")
        for key in self.layout.required:
            if not values.get(key):
                return RowFailure(line, f"{self.layout.by_key[key].name} is empty; the row needs it.")
        return Row(line, values)


def _chain(*parts: Iterator) -> Iterator:
    for part in parts:
        yield from part
