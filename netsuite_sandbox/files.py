"""Where the SuiteScripts read and write files: a root standing for the SFTP home, local or over SFTP."""

from __future__ import annotations

import base64
import os
import posixpath
import stat
from pathlib import Path
from typing import Any, Protocol

# Names under which a file is still being uploaded; the scripts leave such files alone.
TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".uploading")


def is_temporary(name: str) -> bool:
    """Tell whether a file name marks an upload still in progress."""
    lower = name.lower()
    return name.startswith(".") or name.startswith("~") or lower.endswith(TEMPORARY_SUFFIXES)


class FileRoot(Protocol):
    """The operations the SuiteScripts need, on paths relative to the root (forward slashes)."""

    def list(self, folder: str) -> list[str]:
        """Return the names of the regular files in a folder (none if it does not exist), sorted."""
        ...

    def read(self, path: str) -> bytes:
        """Return a file's bytes."""
        ...

    def write(self, path: str, data: bytes) -> None:
        """Write a file, creating its folder."""
        ...

    def rename(self, source: str, target: str) -> None:
        """Move a file, creating the target's folder."""
        ...

    def exists(self, path: str) -> bool:
        """Tell whether a file exists."""
        ...


class LocalFileRoot:
    """A local folder standing for the SFTP home."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalFileRoot({str(self.root)!r})"

    def _path(self, path: str) -> Path:
        full = (self.root / path).resolve()
        if not full.is_relative_to(self.root.resolve()):
            raise ValueError(f"{path} is outside the file root.")
        return full

    def list(self, folder: str) -> list[str]:
        """Return the names of the regular files in a folder, sorted."""
        directory = self._path(folder)
        if not directory.is_dir():
            return []
        return sorted(p.name for p in directory.iterdir() if p.is_file())

    def read(self, path: str) -> bytes:
        """Return a file's bytes."""
        return self._path(path).read_bytes()

    def write(self, path: str, data: bytes) -> None:
        """Write a file, creating its folder."""
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def rename(self, source: str, target: str) -> None:
        """Move a file, creating the target's folder."""
        dest = self._path(target)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self._path(source), dest)

    def exists(self, path: str) -> bool:
        """Tell whether a file exists."""
        return self._path(path).exists()


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

    def _path(self, path: str) -> str:
        return posixpath.join(self.home, path)

    def _makedirs(self, folder: str) -> None:
        parts, current = folder.strip("/").split("/"), ""
        for part in parts:
            current = f"{current}/{part}"
            try:
                self.sftp.stat(current)
            except FileNotFoundError:
                self.sftp.mkdir(current)

    def list(self, folder: str) -> list[str]:
        """Return the names of the regular files in a folder, sorted."""
        try:
            entries = self.sftp.listdir_attr(self._path(folder))
        except FileNotFoundError:
            return []
        return sorted(e.filename for e in entries if stat.S_ISREG(e.st_mode or 0))

    def read(self, path: str) -> bytes:
        """Return a file's bytes."""
        with self.sftp.open(self._path(path), "rb") as handle:
            return handle.read()

    def write(self, path: str, data: bytes) -> None:
        """Write a file, creating its folder."""
        full = self._path(path)
        self._makedirs(posixpath.dirname(full))
        with self.sftp.open(full, "wb") as handle:
            handle.write(data)

    def rename(self, source: str, target: str) -> None:
        """Move a file, creating the target's folder."""
        full = self._path(target)
        self._makedirs(posixpath.dirname(full))
        self.sftp.rename(self._path(source), full)

    def exists(self, path: str) -> bool:
        """Tell whether a file exists."""
        try:
            self.sftp.stat(self._path(path))
        except FileNotFoundError:
            return False
        return True


def as_file_root(root: str | Path | FileRoot) -> FileRoot:
    """Accept a folder path or a ready FileRoot."""
    if isinstance(root, str | Path):
        return LocalFileRoot(root)
    return root
