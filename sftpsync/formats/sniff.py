"""What a file is, from its first bytes: CSV text, or something that must be refused whole with its cause named.

A file that is not CSV text (UTF-16, a compressed archive, a spreadsheet, binary) is refused before a row is read,
so it never turns into thousands of row errors; the reason names what the file is and what to send instead.
"""

from __future__ import annotations

# Bytes looked at: enough to see past a header line into the rows.
SNIFF_BYTES = 64 * 1024
# C0 control characters a text file does not hold (tab, LF, VT, FF and CR are text); more than this share of the
# bytes looked at means binary data, even without a NUL.
CONTROL_SHARE = 0.01
_TEXT_CONTROLS = frozenset(b"\t\n\x0b\x0c\r\x1a")

_SAVE_AS_CSV = "Save it as CSV (UTF-8) and send it again."
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", ""),  # UTF-8 BOM: CSV text
    (b"\x00\x00\xfe\xff", f"The file is UTF-32 text, not the UTF-8 CSV the feed reads. {_SAVE_AS_CSV}"),
    (b"\xff\xfe\x00\x00", f"The file is UTF-32 text, not the UTF-8 CSV the feed reads. {_SAVE_AS_CSV}"),
    (
        b"\xff\xfe",
        "The file is UTF-16 text (as Excel's 'Unicode Text' saves it), not the UTF-8 CSV the feed reads. "
        + _SAVE_AS_CSV,
    ),
    (
        b"\xfe\xff",
        "The file is UTF-16 text (big-endian), not the UTF-8 CSV the feed reads. " + _SAVE_AS_CSV,
    ),
    (b"\x1f\x8b", "The file is gzip-compressed, not CSV text. Unpack it and send the CSV file itself."),
    (b"BZh", "The file is bzip2-compressed, not CSV text. Unpack it and send the CSV file itself."),
    (b"\xfd7zXZ\x00", "The file is xz-compressed, not CSV text. Unpack it and send the CSV file itself."),
    (b"7z\xbc\xaf\x27\x1c", "The file is a 7-Zip archive, not CSV text. Unpack it and send the CSV file itself."),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "The file is an Excel 97-2003 workbook (.xls), not CSV text. Open it in Excel and save it as CSV (UTF-8).",
    ),
    (b"%PDF-", "The file is a PDF document, not CSV text. Send the data as a CSV file."),
)
_XLSX_MARKERS = (b"[Content_Types].xml", b"xl/", b"docProps/")


def unreadable_reason(head: bytes) -> str:
    """Return why a file starting with ``head`` is not CSV text the feeds can read, or '' when it is."""
    for magic, reason in _MAGIC:
        if head.startswith(magic):
            return reason
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        if any(marker in head for marker in _XLSX_MARKERS):
            return (
                "The file is an Excel workbook (.xlsx), not CSV text. Open it in Excel and save it as CSV (UTF-8), "
                "then send that file."
            )
        return "The file is a ZIP archive, not CSV text. Unpack it and send the CSV file itself."
    sample = head[:SNIFF_BYTES]
    nul = sample.find(b"\x00")
    if nul >= 0:
        # UTF-16 without a BOM puts a NUL beside every ASCII character.
        if sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4:
            return (
                "The file is UTF-16 text without a byte order mark, not the UTF-8 CSV the feed reads. " + _SAVE_AS_CSV
            )
        return (
            f"The file holds binary data (a NUL byte at byte {nul + 1:,}), not CSV text. Check that the right file "
            "was sent."
        )
    controls = sum(1 for b in sample if b < 0x20 and b not in _TEXT_CONTROLS)
    if sample and controls > max(8, len(sample) * CONTROL_SHARE):
        return (
            f"The file holds binary data ({controls:,} control characters in its first {len(sample):,} bytes), not "
            "CSV text. Check that the right file was sent."
        )
    return ""
