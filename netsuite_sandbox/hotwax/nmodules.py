"""Small stand-ins of the NetSuite modules HotWax's scripts call: N/error, N/file, N/sftp and script governance.

Behaviour and error codes are from Oracle's N/sftp reference (Connection.list, download, upload, move,
MAX_FILE_SIZE, sftp.Sort); governance units from the same pages where they are given. Where Oracle gives no
message text, the message is the "Thrown If" sentence of the reference, and that is marked as assumed.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from .files import FileRoot

# N/sftp Connection.MAX_FILE_SIZE: 100,000,000 bytes, the most a download or an upload may carry.
MAX_FILE_SIZE = 100_000_000
# A scheduled script has 10,000 usage units per run.
SCHEDULED_SCRIPT_UNITS = 10_000
# Units per call: list 10, download 100, upload 100 (N/sftp reference); CsvImportTask.submit 100 (N/task
# reference). Assumed where the reference gives no figure: move 10, task.checkStatus 10, a search page 10.
UNITS = {"list": 10, "download": 100, "upload": 100, "move": 10, "submit": 100, "checkStatus": 10, "search": 10}


class SuiteScriptError(Exception):
    """``error.create({name, message})`` or an error a NetSuite module throws; scripts read ``e.message``."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass
class Governance:
    """The usage units left to a script run (``runtime.getCurrentScript().getRemainingUsage()``)."""

    remaining: int = SCHEDULED_SCRIPT_UNITS

    def use(self, call: str) -> None:
        units = UNITS[call]
        if units > self.remaining:
            raise SuiteScriptError("SSS_USAGE_LIMIT_EXCEEDED", "Script Execution Usage Limit Exceeded")
        self.remaining -= units


@dataclass
class SuiteFile:
    """An N/file ``File``: a name and its contents (``file.create`` or a download)."""

    name: str
    contents: bytes

    @property
    def size(self) -> int:
        return len(self.contents)


class Sort:
    """``sftp.Sort``: DATE lists oldest first, DATE_DESC newest first."""

    DATE = "DATE"
    DATE_DESC = "DATE_DESC"
    NAME = "NAME"
    NAME_DESC = "NAME_DESC"
    SIZE = "SIZE"
    SIZE_DESC = "SIZE_DESC"


@dataclass
class ScriptLog:
    """What a script run logged (``log.debug``/``log.error``), for tests and the sandbox's own log."""

    entries: list[tuple[str, str]] = field(default_factory=list)

    def debug(self, text: str) -> None:
        self.entries.append(("DEBUG", text))

    def error(self, title: str, details: Any) -> None:
        self.entries.append(("ERROR", f"{title}: {details}"))


def _os_error(exc: OSError, missing: tuple[str, str]) -> SuiteScriptError:
    if isinstance(exc, FileExistsError):
        return SuiteScriptError("FTP_FILE_ALREADY_EXISTS", "The file already exists on the remote FTP server.")
    if isinstance(exc, PermissionError):
        return SuiteScriptError(
            "FTP_PERMISSION_DENIED", "Access to the file or directory on the remote FTP server was denied."
        )
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return SuiteScriptError(*missing)
    return SuiteScriptError("CONNECTION_RESET", f"The connection was reset ({exc}).")


NO_SUCH_FILE = ("FTP_NO_SUCH_FILE_OR_DIRECTORY", "The file or directory does not exist.")
TOO_BIG = ("FTP_MAXIMUM_FILE_SIZE_EXCEEDED", "The file size is greater than the maximum file size allowed by NetSuite.")
INVALID_DIRECTORY = ("FTP_INVALID_DIRECTORY", "The directory does not exist on the remote FTP server.")


class SftpConnection:
    """``sftp.createConnection({..., directory})``: every path is relative to ``directory``, even one with '/'."""

    MAX_FILE_SIZE = MAX_FILE_SIZE

    def __init__(self, root: FileRoot, directory: str, governance: Governance) -> None:
        self.root = root
        self.directory = directory
        self.governance = governance

    def _path(self, *parts: str) -> str:
        # HotWax passes '/export/' and '/export/archive/x.csv': N/sftp resolves them under the connection's
        # directory (the scripts rely on it: their folders are below the configured default directory).
        joined = posixpath.join(self.directory, *(p.strip("/") for p in parts if p.strip("/")))
        return posixpath.normpath(joined)

    def list(self, *, path: str, sort: str) -> list[dict[str, Any]]:
        """``connection.list({path, sort})``: every entry, folders flagged with ``directory``."""
        self.governance.use("list")
        try:
            entries = self.root.entries(self._path(path))
        except OSError as exc:
            raise _os_error(exc, INVALID_DIRECTORY) from exc
        key = {
            Sort.DATE: lambda e: (e.mtime, e.name),  # same second: by name (assumed; SFTP times are whole seconds)
            Sort.DATE_DESC: lambda e: (-e.mtime, e.name),
            Sort.NAME: lambda e: e.name,
            Sort.SIZE: lambda e: (e.size, e.name),
        }.get(sort, lambda e: e.name)
        return [
            {"directory": e.directory, "name": e.name, "size": e.size, "lastModified": e.mtime}
            for e in sorted(entries, key=key)
        ]

    def download(self, *, directory: str, filename: str) -> SuiteFile:
        """``connection.download({directory, filename})``: the whole file, at most MAX_FILE_SIZE bytes."""
        self.governance.use("download")
        path = self._path(directory, filename)
        try:
            data = self.root.read(path)
        except OSError as exc:
            raise _os_error(exc, NO_SUCH_FILE) from exc
        if len(data) > MAX_FILE_SIZE:
            raise SuiteScriptError(
                "FTP_MAXIMUM_FILE_SIZE_EXCEEDED",
                "The file size is greater than the maximum file size allowed by NetSuite.",
            )
        return SuiteFile(filename, data)

    def upload(self, *, directory: str, file: SuiteFile, replace_existing: bool = False) -> None:
        """``connection.upload({directory, file})``: written in place under the file's name, never over one."""
        self.governance.use("upload")
        if file.size > MAX_FILE_SIZE:
            raise SuiteScriptError(
                "FTP_MAXIMUM_FILE_SIZE_EXCEEDED",
                "The file size is greater than the maximum file size allowed by NetSuite.",
            )
        if replace_existing:  # pragma: no cover - HotWax's scripts never replace
            raise NotImplementedError("replaceExisting is not used by HotWax's scripts")
        try:
            self.root.create(self._path(directory, file.name), file.contents)
        except OSError as exc:
            raise _os_error(exc, INVALID_DIRECTORY) from exc

    def move(self, *, from_: str, to: str) -> None:
        """``connection.move({from, to})``: into an existing folder only, never over another file."""
        self.governance.use("move")
        try:
            self.root.rename(self._path(from_), self._path(to))
        except OSError as exc:
            raise _os_error(exc, NO_SUCH_FILE) from exc
