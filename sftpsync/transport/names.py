"""File names and paths on the server: what a feed may take, and what it never touches.

A remote name is taken only as a plain name inside the folder listed: a hostile or broken server that lists
``/etc/evil.csv``, ``sub/evil.csv``, ``..`` or a name with a NUL or control character gets it skipped with a
logged reason, never read or moved (``unsafe_name_reason``).
"""

from __future__ import annotations

import fnmatch
import posixpath
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import TransportError

# Names that are uploads in progress (ours or the other side's) and must never be picked up.
TEMP_SUFFIXES = (".part", ".tmp")
# NAME_MAX of Linux and of OpenSSH's server: a longer name cannot be a file on it.
MAX_NAME_BYTES = 255


@dataclass(frozen=True)
class RemoteFile:
    """A regular file on the server."""

    name: str
    path: str
    size: int
    mtime: float


def unsafe_name_reason(name: str) -> str:
    """Return why a listed name must not be used as a file of the folder, or '' when it is a plain name."""
    if name in ("", ".", ".."):
        return "it is not a file name"
    if "/" in name or "\\" in name:
        return "it holds a path separator, so it would lead outside the feed's folder"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        return "it holds a NUL, control or invisible character"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"it is longer than {MAX_NAME_BYTES} bytes"
    return ""


def temp_name(name: str) -> str:
    """Return the name a file has while it is being written in its own folder."""
    return f".{name}.part"


def is_in_progress(name: str) -> bool:
    """Tell whether a name looks like a hidden file or an upload in progress."""
    return name.startswith(".") or name.endswith(TEMP_SUFFIXES)


def matches(name: str, pattern: str) -> bool:
    """Match a shell pattern case-insensitively, so '*.csv' also finds 'EXPORT.CSV' from spreadsheets."""
    return fnmatch.fnmatchcase(name.lower(), (pattern or "*").lower())


def numbered_names(name: str) -> Iterator[str]:
    """Yield name, then name-1.ext, name-2.ext ... for finding a free name without overwriting."""
    yield name
    stem, ext = posixpath.splitext(name)
    n = 1
    while True:
        yield f"{stem}-{n}{ext}"
        n += 1


def clean_remote(path: str) -> str:
    """Normalise an absolute POSIX path, refusing '..' so nothing escapes the configured folders."""
    if not path or not path.startswith("/"):
        raise TransportError(f"The path {path!r} is not absolute. Remote folders must start with '/'.")
    if ".." in path.split("/"):
        raise TransportError(f"The path {path!r} contains '..'. Use a plain absolute folder.")
    if "\x00" in path:
        raise TransportError(f"The path {path!r} contains a NUL character. Use a plain absolute folder.")
    return posixpath.normpath(path).replace("//", "/")


def check_name(name: str) -> None:
    """Refuse a name the portal would write that is not a plain file name."""
    reason = unsafe_name_reason(name)
    if reason:
        raise TransportError(f"{name!r} is not a plain file name: {reason}.")
