"""The file operations a feed needs, the same for an SFTP server and a local folder standing in for one."""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import shutil
import stat as stat_module
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from .errors import RemoteFileExists, RemoteNotFound
from .names import RemoteFile, check_name, clean_remote, is_in_progress, matches, numbered_names, temp_name
from .names import unsafe_name_reason as _unsafe

logger = logging.getLogger(__name__)

COPY_CHUNK = 1024 * 1024


class Listed(NamedTuple):
    """One entry of a folder as the server listed it."""

    name: str
    mode: int
    size: int
    mtime: float


class Transport(ABC):
    """A place where feed files live. Remote paths are absolute POSIX paths; failures are TransportErrors."""

    @abstractmethod
    def _list(self, folder: str) -> list[Listed]:
        """Return every entry of an existing folder (RemoteNotFound when it is missing)."""

    @abstractmethod
    def open_read(self, path: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open a file for streaming binary reads."""

    @abstractmethod
    def open_write(self, path: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """Write a file of the portal's own (replacing it), complete on the server when the block ends."""

    @abstractmethod
    def stat(self, path: str) -> RemoteFile:
        """Describe one regular file."""

    @abstractmethod
    def exists(self, path: str) -> bool:
        """Tell whether a file or folder exists."""

    @abstractmethod
    def makedirs(self, folder: str) -> None:
        """Create a folder and its parents if missing."""

    @abstractmethod
    def rename_no_overwrite(self, path: str, new_path: str) -> bool:
        """Rename path to new_path atomically; return False if new_path is already taken."""

    @abstractmethod
    def remove(self, path: str) -> None:
        """Delete one of the portal's own temporary files (never a feed file: those are moved)."""

    def list_files(self, folder: str, pattern: str = "*") -> list[RemoteFile]:
        """List regular files matching pattern, oldest first; hidden files, uploads in progress and names that
        are not plain names of the folder are left out (the last with a logged reason)."""
        clean = clean_remote(folder)
        files = []
        for entry in self._list(clean):
            reason = _unsafe(entry.name)
            if reason:
                logger.warning("Skipped the entry %r listed in %s: %s.", entry.name, clean, reason)
                continue
            if is_in_progress(entry.name) or not matches(entry.name, pattern) or not stat_module.S_ISREG(entry.mode):
                continue
            files.append(RemoteFile(entry.name, posixpath.join(clean, entry.name), entry.size, entry.mtime))
        return sorted(files, key=lambda f: (f.mtime, f.name))

    @contextlib.contextmanager
    def open_write_atomic(self, folder: str, name: str, *, staging: str = "") -> Iterator[BinaryIO]:
        """Write name into folder so that it appears there only complete: under a temporary name (in ``staging``
        when given, a folder a reader of ``folder`` never looks into), renamed into place once the block ends."""
        check_name(name)
        clean = clean_remote(folder)
        final = posixpath.join(clean, name)
        if self.exists(final):
            raise RemoteFileExists(f"{final} already exists; it was not overwritten. Pick another file name.")
        self.makedirs(clean)
        if staging:
            self.makedirs(clean_remote(staging))
            tmp = posixpath.join(clean_remote(staging), name)
        else:
            tmp = posixpath.join(clean, temp_name(name))
        try:
            with self.open_write(tmp) as stream:
                yield stream
            if not self.rename_no_overwrite(tmp, final):
                raise RemoteFileExists(f"{final} appeared while it was being written; it was not overwritten.")
        except BaseException:
            with contextlib.suppress(Exception):
                self.remove(tmp)
            raise

    @property
    def copy_chunk(self) -> int:
        return COPY_CHUNK

    def upload_atomic(self, local_path: str | os.PathLike[str], folder: str, name: str) -> str:
        """Upload a local file under a temporary name, rename it to name, and return its remote path."""
        with open(local_path, "rb") as src, self.open_write_atomic(folder, name) as dst:
            shutil.copyfileobj(src, dst, self.copy_chunk)
        return posixpath.join(folder, name)

    def download(self, path: str, local_path: str | os.PathLike[str]) -> None:
        """Copy a remote file to a local path, which appears only once complete."""
        local = Path(local_path)
        partial = local.with_name(local.name + ".part")
        try:
            with self.open_read(path) as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst, COPY_CHUNK)
            os.replace(partial, local)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def move(self, path: str, to_folder: str) -> str:
        """Move a file into to_folder (created if missing), adding -1, -2 ... if the name is taken."""
        if not self.exists(path):
            raise RemoteNotFound(f"Cannot move {path}: it is not on the server any more. Check who moved it.")
        self.makedirs(to_folder)
        for candidate in numbered_names(posixpath.basename(path)):
            target = posixpath.join(to_folder, candidate)
            if self.rename_no_overwrite(path, target):
                return target
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:  # noqa: B027 (a local folder has nothing to release)
        """Release the connection."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
