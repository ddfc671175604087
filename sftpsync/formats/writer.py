"""The export file read by NetSuite's saved CSV import ``custimport_customer_hc`` (SPEC section 2)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from typing import IO, Any

from integration_portal.spreadsheet import FORMULA_STARTS, spreadsheet_safe

# The column names custimport_customer_hc maps, exactly (src/Objects/Customer/custimport_customer_hc.xml).
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
# A CSV import submitted by a script takes at most 25,000 records, and N/sftp downloads at most 100,000,000 bytes
# (Connection.MAX_FILE_SIZE): every export file stays within both.
MAX_ROWS = 25_000
MAX_BYTES = 100_000_000


def safe_cells(row: Sequence[Any]) -> list[Any]:
    """Apply the one spreadsheet-safety rule to every text cell of a row (numbers and phone numbers stay)."""
    starts = FORMULA_STARTS
    return [spreadsheet_safe(v) if v.__class__ is str and v and v[0] in starts else v for v in row]


class ExportWriter:
    """Write an export file: the exact header, then rows, never past ``max_bytes``; count and hash what is written."""

    def __init__(self, stream: IO[bytes], *, max_bytes: int = MAX_BYTES) -> None:
        self.stream = stream
        self.max_bytes = max_bytes
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.rows = 0
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer)
        self._write(self._format([EXPORT_HEADER]))

    def _format(self, rows: Sequence[Sequence[Any]]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._csv.writerows(rows)
        return self._buffer.getvalue().encode("utf-8")

    def _write(self, data: bytes) -> None:
        self.stream.write(data)
        self.sha256.update(data)
        self.size += len(data)

    def add(self, rows: Sequence[Sequence[Any]]) -> int:
        """Write rows (EXPORT_HEADER order, already spreadsheet-safe) while they fit; return how many were written."""
        data = self._format(rows)
        if self.size + len(data) <= self.max_bytes:
            self._write(data)
            self.rows += len(rows)
            return len(rows)
        written = 0
        for row in rows:  # the rare file that reaches the byte limit: find the last row that fits
            line = self._format([row])
            if self.size + len(line) > self.max_bytes:
                break
            self._write(line)
            written += 1
        self.rows += written
        return written

    def finish(self) -> tuple[int, str]:
        """Flush what is written; return the file's size and SHA-256."""
        self.stream.flush()
        return self.size, self.sha256.hexdigest()
