"""The SFTP home the SuiteScripts reach through N/sftp: a local folder, or a real SFTP server through paramiko.

Paths are relative to the home (``/home/{sftp-username}``), with forward slashes. Nothing here creates a folder:
N/sftp has no call that does, so HotWax's scripts never make one (a write or a move into a missing folder fails).
Errors are Python's own: FileNotFoundError (a missing file or folder) and FileExistsError (a taken name).
"""

from __future__ import annotations

import base64
import errno
import os
import posixpath
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Entry:
    """One entry of a folder, as N/sftp's Connection.list() describes it."""

    name: str
    directory: bool
    size: int
    mtime: float


class FileRoot(Protocol):
    """The file operations N/sftp offers, on paths relative to the SFTP home."""

    def entries(self, folder: str) -> list[Entry]:
        """Return every entry of a folder (files, folders, anything); FileNotFoundError if it is missing."""
        ...

    def read(self, path: str) -> bytes:
        """Return a file's bytes."""
        ...

    def create(self, path: str, data: bytes) -> None:
        """Write a new file in place (no temporary name, as N/sftp uploads); never overwrite, never make folders."""
        ...

    def rename(self, source: str, target: str) -> None:
        """Move a file; the target's folder must exist and its name must be free."""
        ...

    def is_dir(self, path: str) -> bool:
        """Tell whether a folder exists."""
        ...


class LocalFileRoot:
    """A local folder standing for the SFTP home."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalFileRoot({str(self.root)!r})"

    def _path(self, path: str) -> Path:
        full = (self.root / path.strip("/")).resolve()
        if not full.is_relative_to(self.root.resolve()):
            raise PermissionError(errno.EACCES, f"{path} is outside the SFTP home")
        return full

    def entries(self, folder: str) -> list[Entry]:
        """Return every entry of a folder."""
        out = []
        with os.scandir(self._path(folder)) as found:
            for e in found:
                try:
                    st = os.stat(e.path)  # N/sftp lists what a link points to
                except FileNotFoundError:
                    st = os.lstat(e.path)
                out.append(Entry(e.name, stat.S_ISDIR(st.st_mode), st.st_size, st.st_mtime))
        return out

    def read(self, path: str) -> bytes:
        """Return a file's bytes."""
        return self._path(path).read_bytes()

    def create(self, path: str, data: bytes) -> None:
        """Write a new file in place; FileExistsError if the name is taken, FileNotFoundError without its folder."""
        with open(self._path(path), "xb") as handle:
            handle.write(data)

    def rename(self, source: str, target: str) -> None:
        """Move a file without overwriting (link, then unlink: atomic, like OpenSSH's rename)."""
        src, dst = self._path(source), self._path(target)
        os.link(src, dst)
        src.unlink()

    def is_dir(self, path: str) -> bool:
        """Tell whether a folder exists."""
        return self._path(path).is_dir()

    def makedirs(self, folder: str) -> None:
        """Create a folder (test set-up only: the scripts never do)."""
        self._path(folder).mkdir(parents=True, exist_ok=True)


class SftpFileRoot:
    """An SFTP home reached with paramiko, the host key pinned (never trusted on first use)."""

    def __init__(
        self,
        *,
        host: str,
        port: int = 22,
        username: str,
        known_host_key: str,
        key_path: str | None = None,
        password: str | None = None,
        home: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Connect; `known_host_key` is one known_hosts-style line without the host ("ssh-ed25519 AAAA...")."""
        import paramiko

        key_type, key_b64 = known_host_key.split()[:2]
        expected = paramiko.PKey.from_type_string(key_type, base64.b64decode(key_b64))
        self._transport = paramiko.Transport((host, port))
        self._transport.banner_timeout = timeout
        self._transport.start_client(timeout=timeout)
        offered = self._transport.get_remote_server_key()
        if offered.get_name() != expected.get_name() or offered.asbytes() != expected.asbytes():
            self._transport.close()
            raise ValueError(f"The SFTP server {host}:{port} offered a host key that is not the known one.")
        if key_path:
            self._transport.auth_publickey(username, paramiko.PKey.from_path(key_path))
        else:
            self._transport.auth_password(username, password or "")
        self.sftp: Any = paramiko.SFTPClient.from_transport(self._transport)
        self.home = home or f"/home/{username}"

    def close(self) -> None:
        """Close the connection."""
        self.sftp.close()
        self._transport.close()

    def __enter__(self) -> SftpFileRoot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _path(self, path: str) -> str:
        return posixpath.join(self.home, path.strip("/"))

    def entries(self, folder: str) -> list[Entry]:
        """Return every entry of a folder."""
        return [
            Entry(a.filename, stat.S_ISDIR(a.st_mode or 0), a.st_size or 0, float(a.st_mtime or 0))
            for a in self.sftp.listdir_attr(self._path(folder))
        ]

    def read(self, path: str) -> bytes:
        """Return a file's bytes."""
        with self.sftp.open(self._path(path), "rb") as handle:
            return handle.read()

    def create(self, path: str, data: bytes) -> None:
        """Write a new file in place; FileExistsError if the name is taken, FileNotFoundError without its folder."""
        full = self._path(path)
        try:
            handle = self.sftp.open(full, "wxb")  # O_CREAT | O_EXCL: never over a file
        except OSError as exc:
            if self._exists(full):
                raise FileExistsError(errno.EEXIST, f"{path} exists") from exc
            raise
        with handle:
            handle.write(data)

    def rename(self, source: str, target: str) -> None:
        """Move a file with SFTP's plain rename, which OpenSSH refuses when the target exists."""
        src, dst = self._path(source), self._path(target)
        try:
            self.sftp.rename(src, dst)
        except OSError as exc:
            if self._exists(dst):
                raise FileExistsError(errno.EEXIST, f"{target} exists") from exc
            raise

    def is_dir(self, path: str) -> bool:
        """Tell whether a folder exists."""
        try:
            return stat.S_ISDIR(self.sftp.stat(self._path(path)).st_mode or 0)
        except FileNotFoundError:
            return False

    def _exists(self, full: str) -> bool:
        try:
            self.sftp.stat(full)
        except FileNotFoundError:
            return False
        return True


def as_file_root(root: str | Path | FileRoot) -> FileRoot:
    """Accept a folder path or a ready FileRoot."""
    if isinstance(root, str | Path):
        return LocalFileRoot(root)
    return root
