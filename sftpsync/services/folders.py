"""Every folder both sides of a feed need, made by the portal: HotWax's scripts create none (SPEC section 2).

HC_SC_ImportCustomer moves files into export/archive/ and export/failed/ and writes export/error/; a missing one
makes it throw, and the file is submitted again every run. The portal makes them all, with its own: archive/ and
failed/ of each inbound feed, error/archive/ and error/failed/ for the error files it has read, and export/staging/
where an export file is written before it is renamed into export/ (a folder, which the script never looks into).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..models import Feed
from ..transport import Transport, TransportError

# Under the export folder: what HC_SC_ImportCustomer uses, then the portal's own.
EXPORT_ARCHIVE, EXPORT_ERROR, EXPORT_FAILED = "archive", "error", "failed"
STAGING = "staging"


def _under(feed: Feed, sub: str) -> str:
    return sub if sub.startswith("/") else posixpath.join(feed.folder, sub)


def staging_folder(feed: Feed) -> str:
    """Where the export's files are written before they are renamed into the export folder."""
    return posixpath.join(feed.folder, STAGING)


def feed_folders(feed: Feed) -> list[str]:
    """Return the folders a feed needs on the server, its own folder first."""
    if feed.kind == Feed.Kind.EXPORT:
        error = posixpath.join(feed.folder, EXPORT_ERROR)
        subs = [EXPORT_ARCHIVE, EXPORT_ERROR, EXPORT_FAILED, STAGING]
        return [feed.folder, *(posixpath.join(feed.folder, s) for s in subs), f"{error}/archive", f"{error}/failed"]
    return [feed.folder, _under(feed, feed.archive_folder), _under(feed, feed.failed_folder)]


@dataclass
class FolderCheck:
    """What making a connection's folders came to: made now, there already, and those that could not be made."""

    created: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def folders_ensure(transport: Transport, feeds: Iterable[Feed]) -> FolderCheck:
    """Create every missing folder of the feeds; report each one that cannot be created, and why."""
    check = FolderCheck()
    for folder in dict.fromkeys(f for feed in feeds for f in feed_folders(feed)):
        try:
            if transport.exists(folder):
                check.present.append(folder)
                continue
            transport.makedirs(folder)
            check.created.append(folder)
        except TransportError as exc:
            check.failed.append((folder, str(exc)))
    return check
