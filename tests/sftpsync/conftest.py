"""A real SFTP server on 127.0.0.1 for the sftpsync tests.

OpenSSH's sshd when it is installed and we are root (CI): its own config, host key and authorized_keys in
a temp dir, the test user chrooted into a fresh root so parallel sessions never see each other's files.
Otherwise a paramiko SFTP server stands in, so a developer machine without sshd still runs the tests.
"""

from __future__ import annotations

import base64
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import paramiko
import pytest
from paramiko.sftp import SFTP_FAILURE, SFTP_OK
from paramiko.sftp_attr import SFTPAttributes
from paramiko.sftp_handle import SFTPHandle
from paramiko.sftp_server import SFTPServer
from paramiko.sftp_si import SFTPServerInterface

if TYPE_CHECKING:
    from sftpsync.models import SftpConnection

SSHD = "/usr/sbin/sshd"
SFTP_USER = os.environ.get("PORTAL_SFTP_TEST_USER", "portalsftp")
# sshd refuses a chroot whose path has a group- or world-writable component, so not under /tmp.
CHROOT_BASE = Path(os.environ.get("PORTAL_SFTP_TEST_ROOT", "/var/lib/portal-sftp-test"))


@dataclass(frozen=True)
class SftpServerInfo:
    """How to reach the test server, and where its files are on this machine."""

    kind: str  # "openssh" or "paramiko"
    host: str
    port: int
    user: str
    host_key_line: str
    private_key: str  # Ed25519, no passphrase
    private_key_path: Path
    rsa_key: str  # RSA, protected by rsa_passphrase
    rsa_passphrase: str
    ecdsa_key: str
    home: Path  # the local folder that is /home/{user} on the server
    known_hosts_path: Path

    @property
    def remote_home(self) -> str:
        return f"/home/{self.user}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_banner(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            if s.recv(4).startswith(b"SSH-"):
                return True
        time.sleep(0.05)
    return False


def _keygen(path: Path, key_type: str, passphrase: str = "", bits: str = "") -> tuple[str, str]:
    args = ["ssh-keygen", "-q", "-t", key_type, "-N", passphrase, "-C", "portal-test", "-f", str(path)]
    if bits:
        args += ["-b", bits]
    subprocess.run(args, check=True)
    return path.read_text(), path.with_suffix(".pub").read_text().strip()


def _ensure_user(user: str) -> pwd.struct_passwd:
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(
            ["useradd", "--no-create-home", "--home-dir", f"/home/{user}", "--shell", "/bin/sh", user], check=True
        )
    # Without a password the account is locked, and sshd without PAM refuses locked accounts.
    subprocess.run(["usermod", "-p", "*", user], check=True)
    return pwd.getpwnam(user)


def _openssh_usable() -> bool:
    if os.environ.get("PORTAL_SFTP_TEST_SERVER") == "paramiko":  # to exercise the stand-in on purpose
        return False
    return os.geteuid() == 0 and Path(SSHD).exists() and shutil.which("ssh-keygen") is not None


@contextlib.contextmanager
def _openssh_server(workdir: Path, keys: dict[str, tuple[str, str]]) -> Iterator[SftpServerInfo]:
    account = _ensure_user(SFTP_USER)
    CHROOT_BASE.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(CHROOT_BASE, 0o755)  # noqa: S103 (sshd requires a root-owned 0755 chroot path)
    chroot = Path(tempfile.mkdtemp(prefix="run-", dir=CHROOT_BASE))
    os.chmod(chroot, 0o755)  # noqa: S103
    home = chroot / "home" / SFTP_USER
    home.mkdir(parents=True)
    os.chmod(chroot / "home", 0o755)  # noqa: S103
    os.chown(home, account.pw_uid, account.pw_gid)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory

    host_key_path = workdir / "ssh_host_ed25519_key"
    _, host_pub = _keygen(host_key_path, "ed25519")
    host_pub = " ".join(host_pub.split()[:2])  # as ssh-keyscan prints it
    # sshd reads authorized_keys as the test user: let it through the temp dir, but not list it.
    os.chmod(workdir, 0o711)  # noqa: S103
    (workdir / "authorized_keys").write_text("".join(pub + "\n" for _, pub in keys.values()))
    os.chmod(workdir / "authorized_keys", 0o644)
    log = workdir / "sshd.log"
    for _attempt in range(5):
        port = _free_port()
        config = workdir / "sshd_config"
        config.write_text(
            f"""Port {port}
ListenAddress 127.0.0.1
HostKey {host_key_path}
PidFile {workdir}/sshd.pid
UsePAM no
PermitRootLogin no
AllowUsers {SFTP_USER}
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
AuthorizedKeysFile {workdir}/authorized_keys
StrictModes no
Subsystem sftp internal-sftp
ForceCommand internal-sftp
ChrootDirectory {chroot}
MaxStartups 100:30:200
MaxSessions 50
LogLevel VERBOSE
"""
        )
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config), "-E", str(log)])
        if _wait_for_banner(port):
            break
        proc.terminate()
        proc.wait(5)
    else:
        raise RuntimeError(f"sshd did not start; see {log}:\n{log.read_text() if log.exists() else ''}")
    try:
        yield _server_info("openssh", workdir, keys, port, host_pub, home)
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        shutil.rmtree(chroot, ignore_errors=True)


# --- paramiko stand-in, for machines without sshd --------------------------------------------------


class _StubHandle(SFTPHandle):
    def stat(self):
        return SFTPAttributes.from_stat(os.fstat(self.readfile.fileno() if self.readfile else self.writefile.fileno()))


class _StubSftp(SFTPServerInterface):
    """Serve a local folder as the server's '/', with OpenSSH's no-overwrite rename."""

    def __init__(self, server, *args, root: str, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.root = root

    def _local(self, path: str) -> str:
        return os.path.join(self.root, self.canonicalize(path).lstrip("/"))

    def list_folder(self, path):
        try:
            folder = self._local(path)
            return [SFTPAttributes.from_stat(os.lstat(os.path.join(folder, n)), n) for n in os.listdir(folder)]
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)

    def stat(self, path):
        try:
            return SFTPAttributes.from_stat(os.stat(self._local(path)))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)

    lstat = stat

    def open(self, path, flags, attr):
        local = self._local(path)
        try:
            fd = os.open(local, flags | getattr(os, "O_BINARY", 0), 0o644)
            mode = (
                "ab"
                if flags & os.O_APPEND
                else ("r+b" if flags & os.O_RDWR else ("wb" if flags & os.O_WRONLY else "rb"))
            )
            f = os.fdopen(fd, mode)
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        handle = _StubHandle(flags)
        handle.filename = local
        handle.readfile = f if "r" in mode or "+" in mode else None
        handle.writefile = f if mode != "rb" else None
        return handle

    def remove(self, path):
        try:
            os.remove(self._local(path))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        return SFTP_OK

    def rename(self, oldpath, newpath):
        try:
            os.link(self._local(oldpath), self._local(newpath))
            os.unlink(self._local(oldpath))
        except FileExistsError:
            return SFTP_FAILURE
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        return SFTP_OK

    def mkdir(self, path, attr):
        try:
            os.mkdir(self._local(path))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        return SFTP_OK

    def rmdir(self, path):
        try:
            os.rmdir(self._local(path))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        return SFTP_OK


class _StubServer(paramiko.ServerInterface):
    def __init__(self, user: str, authorized: list[paramiko.PKey]) -> None:
        self.user = user
        self.authorized = {k.asbytes() for k in authorized}

    def get_allowed_auths(self, username):
        return "publickey,password"

    def check_auth_publickey(self, username, key):
        ok = username == self.user and key.asbytes() in self.authorized
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_password(self, username, password):
        return paramiko.AUTH_FAILED  # like OpenSSH with the password '*'

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED


def _server_info(
    kind: str, workdir: Path, keys: dict[str, tuple[str, str]], port: int, host_line: str, home: Path
) -> SftpServerInfo:
    """Describe a started server to the tests, with a known_hosts file for OpenSSH's own client."""
    known_hosts = workdir / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_line}\n")
    return SftpServerInfo(
        kind=kind,
        host="127.0.0.1",
        port=port,
        user=SFTP_USER,
        host_key_line=host_line,
        private_key=keys["ed25519"][0],
        private_key_path=workdir / "client_ed25519",
        rsa_key=keys["rsa"][0],
        rsa_passphrase="correct horse",
        ecdsa_key=keys["ecdsa"][0],
        home=home,
        known_hosts_path=known_hosts,
    )


class HostileSftp(_StubSftp):
    """A server that lists names no feed may take: absolute, nested, dot-dot, with NUL or control characters."""

    HOSTILE_NAMES = ("/etc/evil.csv", "sub/evil.csv", "..", "nul\x00.csv", "bell\x07.csv", "../up.csv")

    def list_folder(self, path):
        found = super().list_folder(path)
        if isinstance(found, int):
            return found
        template = next((a for a in found if a.filename.endswith(".csv")), None)
        if template is None:
            return found
        hostile = []
        for name in self.HOSTILE_NAMES:
            attr = SFTPAttributes.from_stat(os.lstat(os.path.join(self._local(path), template.filename)), name)
            hostile.append(attr)
        return found + hostile


@contextlib.contextmanager
def _paramiko_server(
    workdir: Path, keys: dict[str, tuple[str, str]], interface: type[SFTPServerInterface] = _StubSftp
) -> Iterator[SftpServerInfo]:
    root = workdir / "root"
    home = root / "home" / SFTP_USER
    home.mkdir(parents=True)
    _keygen(workdir / "host_ed25519", "ed25519")
    host_key = paramiko.Ed25519Key.from_private_key_file(str(workdir / "host_ed25519"))
    host_line = f"{host_key.get_name()} {host_key.get_base64()}"
    authorized = [
        paramiko.PKey.from_type_string(pub.split()[0], base64.b64decode(pub.split()[1])) for _, pub in keys.values()
    ]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(50)
    port = listener.getsockname()[1]
    stop = threading.Event()
    transports: list[paramiko.Transport] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            t = paramiko.Transport(conn)
            t.add_server_key(host_key)
            t.set_subsystem_handler("sftp", SFTPServer, interface, root=str(root))
            with contextlib.suppress(Exception):
                t.start_server(server=_StubServer(SFTP_USER, authorized))
                transports.append(t)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield _server_info("paramiko", workdir, keys, port, host_line, home)
    finally:
        stop.set()
        listener.close()
        for t in transports:
            t.close()


@pytest.fixture(scope="session")
def sftp_server() -> Iterator[SftpServerInfo]:
    """Start an SFTP server on 127.0.0.1 for the whole test session."""
    workdir = Path(tempfile.mkdtemp(prefix="portal-sftp-"))
    keys = {
        "ed25519": _keygen(workdir / "client_ed25519", "ed25519"),
        "rsa": _keygen(workdir / "client_rsa", "rsa", "correct horse", "3072"),
        "ecdsa": _keygen(workdir / "client_ecdsa", "ecdsa", "", "256"),
    }
    server = _openssh_server if _openssh_usable() else _paramiko_server
    try:
        with server(workdir, keys) as info:
            yield info
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def hostile_sftp_server(tmp_path: Path) -> Iterator[SftpServerInfo]:
    """A paramiko SFTP server whose listings add hostile names beside the real files of a folder."""
    keys = {
        "ed25519": _keygen(tmp_path / "client_ed25519", "ed25519"),
        "rsa": _keygen(tmp_path / "client_rsa", "rsa", "correct horse", "3072"),
        "ecdsa": _keygen(tmp_path / "client_ecdsa", "ecdsa", "", "256"),
    }
    with _paramiko_server(tmp_path, keys, HostileSftp) as info:
        yield info


@pytest.fixture
def sftp_home(sftp_server: SftpServerInfo) -> Path:
    """Empty the test user's home on the server and return its local path."""
    for child in sftp_server.home.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    return sftp_server.home


@pytest.fixture
def sftp_connection(db, sftp_server: SftpServerInfo, sftp_home: Path) -> SftpConnection:
    """A saved SFTP connection to the test server, with its host key and Ed25519 key, and an empty home."""
    from sftpsync.models import SftpConnection

    return SftpConnection.objects.create(
        name="Test SFTP",
        transport=SftpConnection.Transport.SFTP,
        host=sftp_server.host,
        port=sftp_server.port,
        username=sftp_server.user,
        private_key=sftp_server.private_key,
        host_key=sftp_server.host_key_line,
        connect_timeout=5,
        keepalive=10,
    )


@pytest.fixture
def local_connection(db, tmp_path: Path) -> SftpConnection:
    """A saved local-folder connection whose root is a fresh tmp_path."""
    from sftpsync.models import SftpConnection

    root = tmp_path / "sftp-root"
    root.mkdir()
    return SftpConnection.objects.create(
        name="Local folder",
        transport=SftpConnection.Transport.LOCAL,
        username="demo",
        local_root=str(root),
    )
