"""A local folder standing in for the SFTP server (the demo and tests): its root stands for the server's '/'."""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat as stat_module
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .base import Listed, Transport
from .errors import ConnectFailed, RemoteNotFound, TransportError
from .names import RemoteFile, clean_remote


class LocalFolderTransport(Transport):
    """A local folder standing in for the server: root stands for the server's '/' (the demo and tests)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ConnectFailed(
                f"The local folder {self.root} does not exist. Create it or correct the connection's local root."
            )

    def _local(self, path: str) -> Path:
        clean = clean_remote(path)
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

    def _list(self, folder: str) -> list[Listed]:
        local = self._local(folder)
        with self._errors(f"Cannot list {folder}"):
            if not local.is_dir():
                raise RemoteNotFound(
                    f"The folder {folder} does not exist under {self.root}. Create it or correct the feed's folder."
                )
            out = []
            with os.scandir(local) as entries:
                for entry in entries:
                    st = entry.stat(follow_symlinks=False)  # a link is not a regular file: never followed
                    out.append(Listed(entry.name, st.st_mode, st.st_size, st.st_mtime))
            return out

    @contextlib.contextmanager
    def open_read(self, path: str) -> Iterator[BinaryIO]:
        with self._errors(f"Cannot read {path}"):
            f = open(self._local(path), "rb")  # noqa: SIM115 (closed below, errors mapped on open)
        with f:
            yield f

    @contextlib.contextmanager
    def open_write(self, path: str) -> Iterator[BinaryIO]:
        with self._errors(f"Cannot write {path}"):
            f = open(self._local(path), "wb")  # noqa: SIM115 (closed below)
        with f:
            yield f

    def stat(self, path: str) -> RemoteFile:
        clean = clean_remote(path)
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

    def rename_no_overwrite(self, path: str, new_path: str) -> bool:
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

    def remove(self, path: str) -> None:
        with self._errors(f"Cannot remove {path}"):
            self._local(path).unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"LocalFolderTransport({str(self.root)!r})"
