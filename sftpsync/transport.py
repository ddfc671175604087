"""Where feed files live: an SFTP server (paramiko) or a local folder standing in for one.

Nothing here knows Django models except ``transport_for``. Remote paths are absolute POSIX paths
("/home/acme/netsuite/customer/export/file.csv"). Every failure is a ``TransportError`` whose message
tells the operator what happened and what to do; paramiko and OS exceptions never leak out.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import fnmatch
import io
import os
import posixpath
import re
import shutil
import socket
import stat as stat_module
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import paramiko
from paramiko import sftp as sftp_cmd
from paramiko.sftp import int64

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

    def __init__(self, message: str, *, scanned: ScannedHostKey | None = None) -> None:
        super().__init__(message)
        self.scanned = scanned  # what the server showed, for an operator to verify and paste


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
        """Write under a temporary name in folder (created if missing), renamed to name once the block succeeds."""

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

    def _prepare_write(self, folder: str, name: str) -> tuple[str, str]:
        """Check the name, refuse to overwrite, create the folder; return the final and the temporary path."""
        _check_name(name)
        clean = _clean_remote(folder)
        final, tmp = posixpath.join(clean, name), posixpath.join(clean, temp_name(name))
        if self.exists(final):
            raise RemoteFileExists(f"{final} already exists; it was not overwritten. Pick another file name.")
        self.makedirs(clean)
        return final, tmp

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
        final, tmp = self._prepare_write(folder, name)
        local_tmp = self._local(tmp)
        with self._errors(f"Cannot write {final}"):
            f = open(local_tmp, "wb")  # noqa: SIM115 (closed below; a temp left by a killed write is ours)
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


# --- SFTP ------------------------------------------------------------------------------------------

# OpenSSH's sftp-server accepts reads and writes of up to 255 KiB per request (its 256 KiB message limit
# minus headers); other servers get the 32 KiB every SFTP server must accept.
OPENSSH_REQUEST_SIZE = 255 * 1024
SAFE_REQUEST_SIZE = 32 * 1024
# Requests kept in flight: enough to hide the round trip, few enough that a slow reader holds ~8 MB.
MAX_IN_FLIGHT = 32
# A large SSH channel window and packet size let the server stream without waiting for window adjusts.
WINDOW_SIZE = 64 * 1024 * 1024
MAX_PACKET_SIZE = 256 * 1024
# AES-GCM needs no separate MAC pass, so it is the cheapest cipher for paramiko.
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr", "aes192-ctr")
OPERATION_TIMEOUT = 120.0
RSA_ALGORITHMS = ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")


@dataclass(frozen=True)
class SftpConfig:
    """What an SFTP connection needs; secrets are kept out of repr so they never reach a log."""

    host: str
    username: str
    port: int = 22
    password: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)
    private_key_passphrase: str = field(default="", repr=False)
    host_key: str = ""
    connect_timeout: float = 15.0
    keepalive: int = 30
    name: str = ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ScannedHostKey:
    """A host key as a server showed it, for an operator to verify and paste; never trusted by itself."""

    key_type: str
    base64: str
    fingerprint: str

    @property
    def line(self) -> str:
        return f"{self.key_type} {self.base64}"


def _scanned(key: paramiko.PKey) -> ScannedHostKey:
    return ScannedHostKey(key.get_name(), key.get_base64(), key.fingerprint)


def parse_host_keys(text: str) -> list[paramiko.PKey]:
    """Read known_hosts-style lines ('ssh-ed25519 AAAA...', with or without a host name in front)."""
    keys = []
    for raw in (text or "").splitlines():
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        # known_hosts puts host names first; ssh-keyscan and .pub files start with the type.
        for i, token in enumerate(tokens[:-1]):
            if token.startswith(("ssh-", "ecdsa-", "sk-")):
                try:
                    keys.append(paramiko.PKey.from_type_string(token, base64.b64decode(tokens[i + 1])))
                except (ValueError, binascii.Error, paramiko.SSHException) as exc:
                    raise HostKeyError(
                        f"The configured host key line {raw.strip()[:60]!r} is not a valid public key. Paste the "
                        "line exactly as ssh-keyscan prints it, e.g. 'ssh-ed25519 AAAA...'."
                    ) from exc
                break
        else:
            raise HostKeyError(
                f"The configured host key line {raw.strip()[:60]!r} has no key type. Paste the line exactly as "
                "ssh-keyscan prints it, e.g. 'ssh-ed25519 AAAA...'."
            )
    return keys


def _normalise_private_key(text: str) -> str:
    """Restore line breaks a single-line form field may have eaten, so paramiko can parse the key."""
    text = text.replace("\r\n", "\n").strip()
    match = re.fullmatch(r"(-----BEGIN [A-Z0-9 ]+-----)\s*(.*?)\s*(-----END [A-Z0-9 ]+-----)", text, re.S)
    if match and "\n" not in match.group(2) and ":" not in match.group(2):
        body = re.sub(r"\s+", "", match.group(2))
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        text = "\n".join([match.group(1), *lines, match.group(3)])
    return text + "\n"


def load_private_key(text: str, passphrase: str = "") -> paramiko.PKey:
    """Parse an Ed25519, ECDSA or RSA private key in OpenSSH or PEM format."""
    text = _normalise_private_key(text)
    for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return key_class.from_private_key(io.StringIO(text), password=passphrase or None)
        except paramiko.PasswordRequiredException as exc:
            raise AuthFailed(
                "The private key is protected by a passphrase. Enter the passphrase in the connection."
            ) from exc
        except (paramiko.SSHException, ValueError, TypeError, IndexError):
            continue
    raise AuthFailed(
        "The private key cannot be read: it is not an Ed25519, ECDSA or RSA key in OpenSSH or PEM format, or its "
        "passphrase is wrong. Paste the whole key, including the BEGIN and END lines, and check the passphrase."
    )


def _open_socket(config: SftpConfig) -> socket.socket:
    try:
        return socket.create_connection((config.host, config.port), timeout=config.connect_timeout)
    except socket.gaierror as exc:
        raise ConnectFailed(
            f"The server name {config.host!r} cannot be found (DNS). Check the connection's host."
        ) from exc
    except ConnectionRefusedError as exc:
        raise ConnectFailed(
            f"{config.address} refused the connection. Check the port and that the SFTP server is running."
        ) from exc
    except TimeoutError as exc:
        raise ConnectFailed(
            f"{config.address} did not answer within {config.connect_timeout:g} seconds. Check the host, the port "
            "and any firewall in between."
        ) from exc
    except OSError as exc:
        raise ConnectFailed(f"{config.address} cannot be reached ({exc.strerror or exc}). Check the network.") from exc


def _handshake(config: SftpConfig, expected: list[paramiko.PKey] | None) -> paramiko.Transport:
    """Open an SSH transport and run the key exchange, restricted to the configured host key types."""
    sock = _open_socket(config)
    ssh = paramiko.Transport(sock, default_window_size=WINDOW_SIZE, default_max_packet_size=MAX_PACKET_SIZE)
    ssh.banner_timeout = ssh.handshake_timeout = ssh.auth_timeout = config.connect_timeout
    options = ssh.get_security_options()
    options.ciphers = [c for c in PREFERRED_CIPHERS if c in ssh._preferred_ciphers] or options.ciphers
    if expected:
        # Ask only for the key types we can check, or the server may show one we have no line for.
        wanted = []
        for key in expected:
            wanted += RSA_ALGORITHMS if key.get_name() == "ssh-rsa" else [key.get_name()]
        options.key_types = [k for k in dict.fromkeys(wanted) if k in ssh._preferred_keys]
    try:
        ssh.start_client(timeout=config.connect_timeout)
    except paramiko.IncompatiblePeer as exc:
        ssh.close()
        if expected and "host key" in str(exc):
            types = ", ".join(k.get_name() for k in expected)
            raise HostKeyError(
                f"The server at {config.address} has no host key of the configured type ({types}). The connection "
                f"was refused. Ask the server's administrator which key it uses, or run ssh-keyscan -p {config.port} "
                f"{config.host}, verify the fingerprint, and paste that line into the connection's host key."
            ) from exc
        raise ConnectFailed(
            f"The server at {config.address} and the portal share no SSH algorithm. Ask its administrator."
        ) from exc
    except (paramiko.SSHException, EOFError, OSError) as exc:
        ssh.close()
        raise ConnectFailed(
            f"The SSH handshake with {config.address} failed. Check that this host and port run an SFTP server and "
            "that no firewall cuts the connection."
        ) from exc
    return ssh


def scan_host_key(config: SftpConfig) -> ScannedHostKey:
    """Show the host key a server presents, for an operator to verify; this never trusts it."""
    ssh = _handshake(config, None)
    try:
        return _scanned(ssh.get_remote_server_key())
    finally:
        ssh.close()


def _verify_host_key(config: SftpConfig, expected: list[paramiko.PKey], shown: paramiko.PKey) -> None:
    got = _scanned(shown)
    how = (
        f"check that fingerprint with the server's administrator (or compare it with ssh-keyscan -p {config.port} "
        f"{config.host} | ssh-keygen -lf - run from a trusted network), then paste this line into the "
        f"connection's host key: {got.line}"
    )
    if not expected:
        raise HostKeyError(
            f"No host key is configured, so the server at {config.address} was not trusted. It showed the "
            f"{got.key_type} key {got.fingerprint}. {how[0].upper()}{how[1:]}",
            scanned=got,
        )
    if not any(shown.asbytes() == key.asbytes() for key in expected):
        configured = ", ".join(key.fingerprint for key in expected)
        raise HostKeyError(
            f"The server at {config.address} showed the {got.key_type} host key {got.fingerprint}, which is not the "
            f"configured one ({configured}). The connection was refused: the server may have been reinstalled, or "
            f"someone may be intercepting the connection. If the change is genuine: {how}",
            scanned=got,
        )


def _authenticate(config: SftpConfig, ssh: paramiko.Transport) -> None:
    who = f"{config.username!r} at {config.address}"
    if not config.private_key and not config.password:
        raise AuthFailed(f"The connection has neither a private key nor a password for {who}. Enter one.")
    tried = []
    try:
        if config.private_key:
            tried.append("private key")
            try:
                ssh.auth_publickey(config.username, load_private_key(config.private_key, config.private_key_passphrase))
                return
            except paramiko.AuthenticationException:
                if not config.password:
                    raise
        tried.append("password")
        ssh.auth_password(config.username, config.password)
    except paramiko.BadAuthenticationType as exc:
        allowed = ", ".join(exc.allowed_types) or "none"
        raise AuthFailed(
            f"The server refused {who}: it does not accept the {' or '.join(tried)} (it allows: {allowed}). "
            "Enter credentials of the kind it accepts."
        ) from exc
    except paramiko.AuthenticationException as exc:
        raise AuthFailed(
            f"The server refused the {' and the '.join(tried)} for {who}. Check the username, and that the public "
            "key is in the user's authorized_keys on the server (or that the password is current)."
        ) from exc
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise ConnectFailed(f"The connection to {config.address} dropped while logging in. Try again.") from exc


class _Pipeline:
    """Keep many SFTP requests in flight on one channel and collect their answers in order."""

    # Uses SFTPClient's request internals (the ones SFTPFile itself uses), because its own prefetch
    # buffers the whole file when the reader is slower than the network, and its pipelined writes
    # stall by draining every answer at once.

    def __init__(self, sftp: paramiko.SFTPClient, handle: bytes) -> None:
        self.sftp = sftp
        self.handle = handle
        self.answers: dict[int, tuple[int, paramiko.Message]] = {}

    def send(self, command: int, *args: object) -> int:
        return self.sftp._async_request(self, command, self.handle, *args)

    def _async_response(self, t: int, msg: paramiko.Message, num: int) -> None:
        self.answers[num] = (t, msg)

    def wait(self, num: int) -> tuple[int, paramiko.Message]:
        """Return the answer to a request; raise IOError or EOFError for an error status."""
        if num in self.answers:
            t, msg = self.answers.pop(num)
            if t == sftp_cmd.CMD_STATUS:
                self.sftp._convert_status(msg)
            return t, msg
        return self.sftp._read_response(num)


ErrorMapper = Callable[[], contextlib.AbstractContextManager[None]]


class _SftpReader(io.RawIOBase):
    """Stream a remote file with up to MAX_IN_FLIGHT reads outstanding, so memory stays bounded."""

    def __init__(
        self, sftp: paramiko.SFTPClient, handle: bytes, size: int, request_size: int, errors: ErrorMapper
    ) -> None:
        self.pipeline = _Pipeline(sftp, handle)
        self.errors = errors
        self.size = size
        self.request_size = request_size
        self.pos = 0
        self.next_offset = 0
        self.in_flight: deque[tuple[int, int]] = deque()
        self.pending = memoryview(b"")
        self.eof = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while len(self.in_flight) < MAX_IN_FLIGHT and self.next_offset < self.size:
            n = min(self.request_size, self.size - self.next_offset)
            self.in_flight.append((self.pipeline.send(sftp_cmd.CMD_READ, int64(self.next_offset), n), self.next_offset))
            self.next_offset += n
        if not self.in_flight:
            # Past the size seen at open: ask once more, in case the file grew.
            self.in_flight.append((self.pipeline.send(sftp_cmd.CMD_READ, int64(self.pos), self.request_size), self.pos))
            self.next_offset = self.pos + self.request_size
            self.size = max(self.size, self.next_offset)

    def _next_chunk(self) -> bytes:
        while True:
            self._fill()
            num, offset = self.in_flight.popleft()
            try:
                t, msg = self.pipeline.wait(num)
            except EOFError:
                t, msg = None, None
            if offset != self.pos:
                continue  # asked before a short read moved the position; asked again below
            data = msg.get_string() if t == sftp_cmd.CMD_DATA else b""
            if not data:
                self.eof = True
                return b""
            self.pos += len(data)
            if self.pos != self.next_offset and (not self.in_flight or self.in_flight[0][1] != self.pos):
                # A short read: drop what was asked after it and carry on from the real position.
                self.next_offset = self.pos
            return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        if not self.pending:
            if self.eof:
                return 0
            with self.errors():
                self.pending = memoryview(self._next_chunk())
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    def readall(self) -> bytes:
        parts = [bytes(self.pending)]
        self.pending = memoryview(b"")
        with self.errors():
            while not self.eof:
                parts.append(self._next_chunk())
        return b"".join(parts)


class _SftpWriter(io.RawIOBase):
    """Write a remote file with up to MAX_IN_FLIGHT writes outstanding, checking every answer."""

    def __init__(self, sftp: paramiko.SFTPClient, handle: bytes, request_size: int, errors: ErrorMapper) -> None:
        self.pipeline = _Pipeline(sftp, handle)
        self.errors = errors
        self.request_size = request_size
        self.offset = 0
        self.in_flight: deque[int] = deque()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        with self.errors():
            return self._write(memoryview(data).cast("B"))

    def _write(self, view: memoryview) -> int:
        for start in range(0, len(view), self.request_size):
            chunk = bytes(view[start : start + self.request_size])
            self.in_flight.append(self.pipeline.send(sftp_cmd.CMD_WRITE, int64(self.offset), chunk))
            self.offset += len(chunk)
            while len(self.in_flight) > MAX_IN_FLIGHT:
                self.pipeline.wait(self.in_flight.popleft())
        return len(view)

    def drain(self) -> None:
        """Wait for every outstanding write, raising the first error."""
        with self.errors():
            while self.in_flight:
                self.pipeline.wait(self.in_flight.popleft())


class SftpTransport(Transport):
    """An SFTP server through paramiko, its host key checked on every connection."""

    def __init__(self, config: SftpConfig) -> None:
        self.config = config
        expected = parse_host_keys(config.host_key)
        ssh = _handshake(config, expected)
        try:
            _verify_host_key(config, expected, ssh.get_remote_server_key())
            _authenticate(config, ssh)
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

    def list_files(self, folder: str, pattern: str = "*") -> list[RemoteFile]:
        clean = _clean_remote(folder)
        with self._errors(f"Cannot list {clean}"):
            try:
                entries = self.sftp.listdir_attr(clean)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    raise RemoteNotFound(
                        f"The folder {clean} does not exist on {self.config.address}. Create it or correct the "
                        "feed's folder."
                    ) from exc
                raise
        files = [
            RemoteFile(e.filename, posixpath.join(clean, e.filename), e.st_size or 0, float(e.st_mtime or 0))
            for e in entries
            if not is_in_progress(e.filename)
            and matches(e.filename, pattern)
            and e.st_mode is not None
            and stat_module.S_ISREG(e.st_mode)
        ]
        return sorted(files, key=lambda f: (f.mtime, f.name))

    @contextlib.contextmanager
    def open_read(self, path: str) -> Iterator[BinaryIO]:
        clean = _clean_remote(path)
        with self._errors(f"Cannot read {clean}"):
            remote = self.sftp.open(clean, "rb")
            size = remote.stat().st_size or 0
        try:
            # Map errors inside the reader only: the caller's own exceptions pass through untouched.
            raw = _SftpReader(
                self.sftp, remote.handle, size, self.request_size, lambda: self._errors(f"Cannot read {clean}")
            )
            yield io.BufferedReader(raw, buffer_size=self.request_size)
        finally:
            with contextlib.suppress(Exception):
                remote.close()

    @contextlib.contextmanager
    def open_write_atomic(self, folder: str, name: str) -> Iterator[BinaryIO]:
        final, tmp = self._prepare_write(folder, name)
        with self._errors(f"Cannot write {final}"):
            # A temp left by a killed upload is ours to overwrite.
            remote = self.sftp.open(tmp, "wb")
        raw = _SftpWriter(self.sftp, remote.handle, self.request_size, lambda: self._errors(f"Cannot write {final}"))
        try:
            writer = io.BufferedWriter(raw, buffer_size=self.request_size)
            yield writer  # type: ignore[misc]
            writer.flush()
            raw.drain()
            with self._errors(f"Cannot write {final}"):
                remote.close()
            if not self._rename_no_overwrite(tmp, final):
                raise RemoteFileExists(f"{final} appeared while it was being written; it was not overwritten.")
        except BaseException:
            with contextlib.suppress(Exception):
                remote.close()
            with contextlib.suppress(Exception):
                self.sftp.remove(tmp)
            raise

    @property
    def copy_chunk(self) -> int:
        # Uploads read in request-sized blocks straight into the pipelined writer.
        return self.request_size * 4

    def download(self, path: str, local_path: str | os.PathLike[str]) -> None:
        clean = _clean_remote(path)
        local = Path(local_path)
        partial = local.with_name(local.name + ".part")
        with self._errors(f"Cannot read {clean}"):
            remote = self.sftp.open(clean, "rb")
            try:
                size = remote.stat().st_size or 0
                raw = _SftpReader(self.sftp, remote.handle, size, self.request_size, contextlib.nullcontext)
                # Whole answers straight to disk: no buffered reader copying them again.
                with open(partial, "wb") as dst:
                    while chunk := raw._next_chunk():
                        dst.write(chunk)
                os.replace(partial, local)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            finally:
                with contextlib.suppress(Exception):
                    remote.close()

    def stat(self, path: str) -> RemoteFile:
        clean = _clean_remote(path)
        with self._errors(f"Cannot read {clean}"):
            st = self.sftp.stat(clean)
        if st.st_mode is None or not stat_module.S_ISREG(st.st_mode):
            raise TransportError(f"{clean} is not a regular file.")
        return RemoteFile(posixpath.basename(clean), clean, st.st_size or 0, float(st.st_mtime or 0))

    def exists(self, path: str) -> bool:
        clean = _clean_remote(path)
        with self._errors(f"Cannot check {clean}"):
            try:
                self.sftp.stat(clean)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    return False
                raise
        return True

    def makedirs(self, folder: str) -> None:
        clean = _clean_remote(folder)
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

    def _rename_no_overwrite(self, path: str, new_path: str) -> bool:
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

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sftp.close()
        with contextlib.suppress(Exception):
            self.ssh.close()

    def __repr__(self) -> str:
        return f"SftpTransport({self.config.username}@{self.config.address})"


def sftp_config_for(connection: SftpConnection) -> SftpConfig:
    """Build the SFTP config an SftpConnection describes; refuse one whose stored secrets cannot be decrypted."""
    from integration_portal.secrets import secrets_unreadable_message

    unreadable = secrets_unreadable_message(connection)
    if unreadable:
        raise ConnectFailed(unreadable)
    return SftpConfig(
        host=connection.host,
        port=connection.port,
        username=connection.username,
        password=connection.password or "",
        private_key=connection.private_key or "",
        private_key_passphrase=connection.private_key_passphrase or "",
        host_key=connection.host_key,
        connect_timeout=float(connection.connect_timeout or 15),
        keepalive=connection.keepalive or 0,
        name=connection.name,
    )


def transport_for(connection: SftpConnection) -> Transport:
    """Open the transport an SftpConnection describes (local folder or SFTP server)."""
    if connection.transport == "local":
        if not connection.local_root:
            raise ConnectFailed(f"The connection {connection.name} has no local folder. Set its local root.")
        return LocalFolderTransport(connection.local_root)
    if not connection.host:
        raise ConnectFailed(f"The connection {connection.name} has no host. Enter the SFTP server's host name.")
    return SftpTransport(sftp_config_for(connection))
