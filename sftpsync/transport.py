"""Where feed files live: an SFTP server (paramiko) or a local folder standing in for one.

Nothing here knows Django models except ``transport_for``. Remote paths are absolute POSIX paths
("/home/acme/netsuite/customer/export/file.csv"). Every failure is a ``TransportError`` whose message
tells the operator what happened and what to do; paramiko and OS exceptions never leak out.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import posixpath
import shutil
import stat as stat_module
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from sftpsync.models import SftpConnection

# Names that are uploads in progress (ours or the other side's) and must never be picked up.
TEMP_SUFFIXES = (".part", ".tmp")
COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class RemoteFile:
    """A regular file on the server."""

    name: str
    path: str
    size: int
    mtime: float


class TransportError(Exception):
    """A file exchange failed; the message says what happened and what to do."""


class HostKeyError(TransportError):
    """The server's host key is unknown or differs from the configured one; never trusted automatically."""


class AuthFailed(TransportError):
    """The server refused the username, password or key."""


class ConnectFailed(TransportError):
    """The server could not be reached (DNS, refused, timeout, dropped)."""


class RemoteNotFound(TransportError):
    """A file or folder does not exist on the server."""


class RemoteFileExists(TransportError):
    """The target name is already taken; files are never overwritten."""


def temp_name(name: str) -> str:
    """Return the name a file has while it is being written."""
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


class Transport(ABC):
    """The file operations a feed needs, the same for an SFTP server and a local folder."""

    @abstractmethod
    def list_files(self, folder: str, pattern: str = "*") -> list[RemoteFile]:
        """List regular files matching pattern, oldest first, skipping hidden files and uploads in progress."""

    @abstractmethod
    def open_read(self, path: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open a file for streaming binary reads."""

    @abstractmethod
    def open_write_atomic(self, folder: str, name: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """Write under a temporary name and rename to name when the block ends without error."""

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
    def _rename_no_overwrite(self, path: str, new_path: str) -> bool:
        """Rename path to new_path; return False if new_path is already taken."""

    def upload_atomic(self, local_path: str | os.PathLike[str], folder: str, name: str) -> str:
        """Upload a local file under a temporary name, rename it to name, and return its remote path."""
        with open(local_path, "rb") as src, self.open_write_atomic(folder, name) as dst:
            shutil.copyfileobj(src, dst, COPY_CHUNK)
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
            if self._rename_no_overwrite(path, target):
                return target
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:  # noqa: B027 (a local folder has nothing to release)
        """Release the connection."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _clean_remote(path: str) -> str:
    """Normalise an absolute POSIX path, refusing '..' so nothing escapes the configured folders."""
    if not path or not path.startswith("/"):
        raise TransportError(f"The path {path!r} is not absolute. Remote folders must start with '/'.")
    if ".." in path.split("/"):
        raise TransportError(f"The path {path!r} contains '..'. Use a plain absolute folder.")
    return posixpath.normpath(path).replace("//", "/")


class LocalFolderTransport(Transport):
    """A local folder standing in for the server: root stands for the server's '/' (the demo and tests)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ConnectFailed(
                f"The local folder {self.root} does not exist. Create it or correct the connection's local root."
            )

    def _local(self, path: str) -> Path:
        clean = _clean_remote(path)
        local = (self.root / clean.lstrip("/")).resolve()
        # A symlink could still point outside the root; refuse it rather than follow it.
        if local != self.root and self.root not in local.parents:
            raise TransportError(f"The path {path!r} leads outside the connection's local folder; refused.")
        return local

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except TransportError:
            raise
        except FileNotFoundError as exc:
            raise RemoteNotFound(f"{what}: {exc.filename or 'it'} does not exist. Check the feed's folders.") from exc
        except PermissionError as exc:
            raise TransportError(f"{what}: permission denied. Give the portal write access to the folder.") from exc
        except OSError as exc:
            raise TransportError(f"{what}: {exc.strerror or exc}.") from exc

    def list_files(self, folder: str, pattern: str = "*") -> list[RemoteFile]:
        clean = _clean_remote(folder)
        local = self._local(clean)
        files = []
        with self._errors(f"Cannot list {clean}"):
            if not local.is_dir():
                raise RemoteNotFound(
                    f"The folder {clean} does not exist under {self.root}. Create it or correct the feed's folder."
                )
            for entry in os.scandir(local):
                if is_in_progress(entry.name) or not matches(entry.name, pattern):
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
                files.append(RemoteFile(entry.name, posixpath.join(clean, entry.name), st.st_size, st.st_mtime))
        return sorted(files, key=lambda f: (f.mtime, f.name))

    @contextlib.contextmanager
    def open_read(self, path: str) -> Iterator[BinaryIO]:
        with self._errors(f"Cannot read {path}"):
            f = open(self._local(path), "rb")  # noqa: SIM115 (closed below, errors mapped on open)
        with f:
            yield f

    @contextlib.contextmanager
    def open_write_atomic(self, folder: str, name: str) -> Iterator[BinaryIO]:
        final = posixpath.join(_clean_remote(folder), name)
        tmp = posixpath.join(_clean_remote(folder), temp_name(name))
        _check_name(name)
        if self.exists(final):
            raise RemoteFileExists(f"{final} already exists; it was not overwritten. Pick another file name.")
        local_tmp = self._local(tmp)
        with self._errors(f"Cannot write {final}"):
            f = open(local_tmp, "xb")  # noqa: SIM115 (closed below)
        try:
            with f:
                yield f
            if not self._rename_no_overwrite(tmp, final):
                raise RemoteFileExists(f"{final} appeared while writing it; it was not overwritten. Try again.")
        except BaseException:
            local_tmp.unlink(missing_ok=True)
            raise

    def stat(self, path: str) -> RemoteFile:
        clean = _clean_remote(path)
        with self._errors(f"Cannot read {clean}"):
            st = self._local(clean).stat()
        if not stat_module.S_ISREG(st.st_mode):
            raise TransportError(f"{clean} is not a regular file.")
        return RemoteFile(posixpath.basename(clean), clean, st.st_size, st.st_mtime)

    def exists(self, path: str) -> bool:
        return self._local(path).exists()

    def makedirs(self, folder: str) -> None:
        with self._errors(f"Cannot create the folder {folder}"):
            self._local(folder).mkdir(parents=True, exist_ok=True)

    def _rename_no_overwrite(self, path: str, new_path: str) -> bool:
        src, dst = self._local(path), self._local(new_path)
        with self._errors(f"Cannot move {path} to {new_path}"):
            try:
                # link() fails if the target exists, which makes the no-overwrite check atomic.
                os.link(src, dst)
            except FileExistsError:
                return False
            except OSError:
                if dst.exists():
                    return False
                os.rename(src, dst)  # a file system without hard links
                return True
            src.unlink()
        return True

    def __repr__(self) -> str:
        return f"LocalFolderTransport({str(self.root)!r})"


def _check_name(name: str) -> None:
    if not name or "/" in name or name in (".", ".."):
        raise TransportError(f"{name!r} is not a plain file name.")


def transport_for(connection: SftpConnection) -> Transport:
    """Open the transport an SftpConnection describes."""
    if connection.transport == "local":
        if not connection.local_root:
            raise ConnectFailed(f"The connection {connection.name} has no local folder. Set its local root.")
        return LocalFolderTransport(connection.local_root)
    raise TransportError(f"The connection {connection.name} uses SFTP, which is not available yet.")
