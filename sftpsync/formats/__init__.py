"""The files exchanged with NetSuite (SPEC section 2): what a file is, its IDs, the readers and the export writer.

``sniff`` names what a file is when it is not CSV text; ``ids`` repairs what a spreadsheet did to an ID only when
nothing was lost; ``reader`` accounts for every line of a CSV file; ``layouts`` are the feeds' files; ``writer``
writes the export file. Nothing here touches the database.
"""

from .ids import RowError, customer_id, digits_id, repair
from .layouts import (
    DIGIT_TYPES,
    EXPORT_ERROR,
    HISTORICAL,
    PARTY_IDENT,
    PARTY_IDENT_HEADER,
    ErrorFileReader,
    party_identifications,
)
from .reader import Column, CsvLayout, CsvReader, FileFormatError, Row, RowFailure, header_key, open_text
from .sniff import unreadable_reason
from .writer import EXPORT_HEADER, MAX_BYTES, MAX_ROWS, ExportWriter, safe_cells

__all__ = [
    "DIGIT_TYPES",
    "EXPORT_ERROR",
    "EXPORT_HEADER",
    "HISTORICAL",
    "MAX_BYTES",
    "MAX_ROWS",
    "PARTY_IDENT",
    "PARTY_IDENT_HEADER",
    "Column",
    "CsvLayout",
    "CsvReader",
    "ErrorFileReader",
    "ExportWriter",
    "FileFormatError",
    "Row",
    "RowError",
    "RowFailure",
    "customer_id",
    "digits_id",
    "header_key",
    "open_text",
    "party_identifications",
    "repair",
    "safe_cells",
    "unreadable_reason",
]
