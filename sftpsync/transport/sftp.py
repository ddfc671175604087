"""An SFTP server through paramiko: its host key checked on every connection, transfers pipelined."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import posixpath
import stat as stat_module
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import paramiko

from .base import Listed, Transport
from .errors import ConnectFailed, RemoteNotFound, TransportError
from .keys import MAX_PACKET_SIZE, WINDOW_SIZE, SftpConfig, authenticate, handshake, parse_host_keys, verify_host_key
from .names import RemoteFile, clean_remote
from .paramiko_internals import SftpReader, SftpWriter, require_supported_paramiko

# OpenSSH's sftp-server accepts reads and writes of up to 255 KiB per request (its 256 KiB message limit
# minus headers); other servers get the 32 KiB every SFTP server must accept.
OPENSSH_REQUEST_SIZE = 255 * 1024
SAFE_REQUEST_SIZE = 32 * 1024
OPERATION_TIMEOUT = 120.0


class SftpTransport(Transport):
    """An SFTP server through paramiko, its host key checked on every connection."""

    def __init__(self, config: SftpConfig) -> None:
        require_supported_paramiko()
        self.config = config
        expected = parse_host_keys(config.host_key)
        ssh = handshake(config, expected)
        try:
            verify_host_key(config, expected, ssh.get_remote_server_key())
            authenticate(config, ssh)
            if config.keepalive:
                ssh.set_keepalive(config.keepalive)
            self.sftp = paramiko.SFTPClient.from_transport(
                ssh, window_size=WINDOW_SIZE, max_packet_size=MAX_PACKET_SIZE
            )
            if self.sftp is None:
                raise ConnectFailed(f"{config.address} did not open an SFTP session. Check that SFTP is enabled.")
            self.sftp.get_channel().settimeout(OPERATION_TIMEOUT)
        except TransportError:
            ssh.close()
            raise
        except (paramiko.SSHException, EOFError, OSError) as exc:
            ssh.close()
            raise ConnectFailed(
                f"{config.address} accepted the login but refused the SFTP session. Check that the account may use "
                "SFTP (Subsystem sftp in the server's configuration)."
            ) from exc
        self.ssh = ssh
        self.request_size = OPENSSH_REQUEST_SIZE if "OpenSSH" in (ssh.remote_version or "") else SAFE_REQUEST_SIZE

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except TransportError:
            raise
        except TimeoutError as exc:
            raise ConnectFailed(
                f"{what}: {self.config.address} stopped answering for {OPERATION_TIMEOUT:g} seconds. Try again later."
            ) from exc
        except (paramiko.SSHException, EOFError) as exc:
            raise ConnectFailed(f"{what}: the connection to {self.config.address} was lost. Try again.") from exc
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise RemoteNotFound(f"{what}: no such file or folder on {self.config.address}.") from exc
            if exc.errno == errno.EACCES:
                raise TransportError(
                    f"{what}: permission denied on {self.config.address}. Ask the server's administrator to give "
                    f"{self.config.username!r} access."
                ) from exc
            detail = exc.strerror or (exc.args[0] if exc.args else "") or "failure"
            raise TransportError(f"{what}: the server said {detail!r}.") from exc

    def _list(self, folder: str) -> list[Listed]:
        with self._errors(f"Cannot list {folder}"):
            try:
                entries = self.sftp.listdir_attr(folder)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    raise RemoteNotFound(
                        f"The folder {folder} does not exist on {self.config.address}. Create it or correct the "
                        "feed's folder."
                    ) from exc
                raise
        return [Listed(e.filename, e.st_mode or 0, e.st_size or 0, float(e.st_mtime or 0)) for e in entries]

    @contextlib.contextmanager
    def open_read(self, path: str) -> Iterator[BinaryIO]:
        clean = clean_remote(path)
        with self._errors(f"Cannot read {clean}"):
            remote = self.sftp.open(clean, "rb")
            size = remote.stat().st_size or 0
        try:
            # Map errors inside the reader only: the caller's own exceptions pass through untouched.
            raw = SftpReader(
                self.sftp, remote.handle, size, self.request_size, lambda: self._errors(f"Cannot read {clean}")
            )
            yield io.BufferedReader(raw, buffer_size=self.request_size)
        finally:
            with contextlib.suppress(Exception):
                remote.close()

    @contextlib.contextmanager
    def open_write(self, path: str) -> Iterator[BinaryIO]:
        clean = clean_remote(path)
        with self._errors(f"Cannot write {clean}"):
            remote = self.sftp.open(clean, "wb")
        raw = SftpWriter(self.sftp, remote.handle, self.request_size, lambda: self._errors(f"Cannot write {clean}"))
        try:
            writer = io.BufferedWriter(raw, buffer_size=self.request_size)
            yield writer  # type: ignore[misc]
            writer.flush()
            raw.drain()
            with self._errors(f"Cannot write {clean}"):
                remote.close()
        except BaseException:
            with contextlib.suppress(Exception):
                remote.close()
            raise

    @property
    def copy_chunk(self) -> int:
        # Uploads read in request-sized blocks straight into the pipelined writer.
        return self.request_size * 4

    def download(self, path: str, local_path: str | os.PathLike[str]) -> None:
        clean = clean_remote(path)
        local = Path(local_path)
        partial = local.with_name(local.name + ".part")
        with self._errors(f"Cannot read {clean}"):
            remote = self.sftp.open(clean, "rb")
            try:
                size = remote.stat().st_size or 0
                raw = SftpReader(self.sftp, remote.handle, size, self.request_size, contextlib.nullcontext)
                # Whole answers straight to disk: no buffered reader copying them again.
                with open(partial, "wb") as dst:
                    while chunk := raw.next_chunk():
                        dst.write(chunk)
                os.replace(partial, local)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            finally:
                with contextlib.suppress(Exception):
                    remote.close()

    def stat(self, path: str) -> RemoteFile:
        clean = clean_remote(path)
        with self._errors(f"Cannot read {clean}"):
            st = self.sftp.stat(clean)
        if st.st_mode is None or not stat_module.S_ISREG(st.st_mode):
            raise TransportError(f"{clean} is not a regular file.")
        return RemoteFile(posixpath.basename(clean), clean, st.st_size or 0, float(st.st_mtime or 0))

    def exists(self, path: str) -> bool:
        clean = clean_remote(path)
        with self._errors(f"Cannot check {clean}"):
            try:
                self.sftp.stat(clean)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    return False
                raise
        return True

    def makedirs(self, folder: str) -> None:
        clean = clean_remote(folder)
        if self.exists(clean):
            return
        current = "/"
        for part in clean.strip("/").split("/"):
            current = posixpath.join(current, part)
            if self.exists(current):
                continue
            with self._errors(f"Cannot create the folder {current}"):
                try:
                    self.sftp.mkdir(current)
                except OSError:
                    if not self.exists(current):  # someone else may have just created it
                        raise

    def rename_no_overwrite(self, path: str, new_path: str) -> bool:
        # Plain SFTP rename, not posix-rename: OpenSSH implements it with link()+unlink(), which fails
        # when the target exists, so "never overwrite" holds atomically. posix-rename would replace it.
        with self._errors(f"Cannot move {path} to {new_path}"):
            try:
                self.sftp.rename(path, new_path)
            except OSError:
                if self.exists(new_path):
                    return False
                raise
        return True

    def remove(self, path: str) -> None:
        clean = clean_remote(path)
        with self._errors(f"Cannot remove {clean}"), contextlib.suppress(FileNotFoundError):
            self.sftp.remove(clean)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sftp.close()
        with contextlib.suppress(Exception):
            self.ssh.close()

    def __repr__(self) -> str:
        return f"SftpTransport({self.config.username}@{self.config.address})"
