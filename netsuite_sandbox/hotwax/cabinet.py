"""The NetSuite File Cabinet, as much of it as the historical scripts use: folders by name, and CSV files in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..store import Store, to_stored
from .nmodules import SuiteFile

HISTORICAL_FOLDER = "Historical Shopify Customer CSV"
ARCHIVE_FOLDER = "Archive Historical Shopify Customer"
_FOLDER_MARK = ".folder"  # a row that makes an empty folder exist


@dataclass(frozen=True)
class CabinetFile:
    """A file in the File Cabinet."""

    id: int
    folder: str
    file: SuiteFile


def folder_exists(store: Store, folder: str) -> bool:
    """``search.create({type: FOLDER, filters: [['name', 'is', folder]]})`` found something."""
    return bool(store.execute("SELECT 1 FROM file_cabinet WHERE folder = ? LIMIT 1", (folder,)))


def folder_create(store: Store, folder: str, now: datetime) -> None:
    """``record.create({type: FOLDER})`` with that name, saved."""
    store.execute(
        "INSERT OR IGNORE INTO file_cabinet (folder, name, contents, created_at) VALUES (?, ?, ?, ?)",
        (folder, _FOLDER_MARK, b"", to_stored(now)),
    )


def write(store: Store, folder: str, file: SuiteFile, now: datetime) -> None:
    """Save a file into a folder (what a search task does with its ``filePath``)."""
    store.execute(
        "INSERT INTO file_cabinet (folder, name, contents, created_at) VALUES (?, ?, ?, ?)",
        (folder, file.name, file.contents, to_stored(now)),
    )


def csv_files(store: Store, folder: str, limit: int) -> list[CabinetFile]:
    """``search.create({type: 'file', filters: filetype CSV, folder})``, the first ``limit`` results."""
    rows = store.execute(
        "SELECT id, folder, name, contents FROM file_cabinet WHERE folder = ? AND name != ? "
        "AND lower(name) LIKE '%.csv' ORDER BY id LIMIT ?",
        (folder, _FOLDER_MARK, limit),
    )
    return [CabinetFile(r["id"], r["folder"], SuiteFile(r["name"], bytes(r["contents"]))) for r in rows]


def move(store: Store, file_id: int, folder: str) -> None:
    """``fileObj.folder = id; fileObj.save()``."""
    store.execute("UPDATE file_cabinet SET folder = ? WHERE id = ?", (folder, file_id))


def files_in(store: Store, folder: str) -> list[str]:
    """Names of the files in a folder, oldest first (for tests)."""
    rows = store.execute(
        "SELECT name FROM file_cabinet WHERE folder = ? AND name != ? ORDER BY id", (folder, _FOLDER_MARK)
    )
    return [r["name"] for r in rows]
