"""The transports against a real SFTP server on 127.0.0.1 (OpenSSH in CI) and against a local folder."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sftpsync.transport import (
    AuthFailed,
    ConnectFailed,
    HostKeyError,
    LocalFolderTransport,
    RemoteFileExists,
    RemoteNotFound,
    SftpConfig,
    SftpTransport,
    Transport,
    TransportError,
    UnsupportedParamiko,
    paramiko_problem,
    parse_host_keys,
    scan_host_key,
    temp_name,
    transport_for,
)
from tests.sftpsync.conftest import SftpServerInfo


@dataclass
class Env:
    """A transport and where its /home/{user} is on this machine."""

    transport: Transport
    home: str  # remote path
    local_home: Path


def _config(server: SftpServerInfo, **changes) -> SftpConfig:
    values = {
        "host": server.host,
        "port": server.port,
        "username": server.user,
        "private_key": server.private_key,
        "host_key": server.host_key_line,
        "connect_timeout": 5.0,
    }
    values.update(changes)
    return SftpConfig(**values)


def _other_public_key(tmp_path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    return (tmp_path / "other.pub").read_text().strip()


@pytest.fixture(params=["local", "sftp"])
def env(request, tmp_path: Path) -> Iterator[Env]:
    """The same tests over a local folder and over the SFTP server."""
    if request.param == "local":
        root = tmp_path / "root"
        (root / "home" / "demo").mkdir(parents=True)
        with LocalFolderTransport(root) as transport:
            yield Env(transport, "/home/demo", root / "home" / "demo")
    else:
        server: SftpServerInfo = request.getfixturevalue("sftp_server")
        local_home: Path = request.getfixturevalue("sftp_home")
        with SftpTransport(_config(server)) as transport:
            yield Env(transport, server.remote_home, local_home)


def _put(env: Env, relative: str, content: bytes, mtime: float | None = None) -> Path:
    """Create a file on the server through the local file system, as NetSuite's side would."""
    path = env.local_home / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    # Owned by the server's user, as if it had uploaded them, so it may move them.
    owner = env.local_home.stat()
    for part in [path, *path.relative_to(env.local_home).parents][:-1]:
        os.chown(env.local_home / part if part != path else path, owner.st_uid, owner.st_gid)
    return path


# --- host keys and log-in ---------------------------------------------------------------------------


def test_unknown_host_key_is_refused_with_the_fingerprint_to_verify(sftp_server: SftpServerInfo) -> None:
    shown = parse_host_keys(sftp_server.host_key_line)[0]
    with pytest.raises(HostKeyError) as caught:
        SftpTransport(_config(sftp_server, host_key=""))
    message = str(caught.value)
    assert "No host key is configured" in message
    assert shown.fingerprint in message
    assert f"ssh-keyscan -p {sftp_server.port} {sftp_server.host}" in message
    assert sftp_server.host_key_line in message  # the line to paste once verified
    assert caught.value.scanned.fingerprint == shown.fingerprint


def test_changed_host_key_is_refused(sftp_server: SftpServerInfo, tmp_path: Path) -> None:
    other = _other_public_key(tmp_path)
    with pytest.raises(HostKeyError) as caught:
        SftpTransport(_config(sftp_server, host_key=other))
    message = str(caught.value)
    assert "not the configured one" in message
    assert parse_host_keys(other)[0].fingerprint in message
    assert parse_host_keys(sftp_server.host_key_line)[0].fingerprint in message


def test_known_hosts_line_with_host_names_is_accepted(sftp_server: SftpServerInfo, tmp_path: Path) -> None:
    lines = f"# keys\n{_other_public_key(tmp_path)}\n[127.0.0.1]:{sftp_server.port} {sftp_server.host_key_line}\n"
    with SftpTransport(_config(sftp_server, host_key=lines)) as transport:
        assert transport.exists(sftp_server.remote_home)


def test_malformed_host_key_is_refused() -> None:
    with pytest.raises(HostKeyError, match="not a valid public key"):
        parse_host_keys("ssh-ed25519 not-base64!")


def test_scan_shows_the_key_without_trusting_it(sftp_server: SftpServerInfo) -> None:
    scanned = scan_host_key(_config(sftp_server, host_key=""))
    assert scanned.line == sftp_server.host_key_line


def test_wrong_key_is_refused_with_a_plain_message(sftp_server: SftpServerInfo, tmp_path: Path) -> None:
    _other_public_key(tmp_path)
    with pytest.raises(AuthFailed) as caught:
        SftpTransport(_config(sftp_server, private_key=(tmp_path / "other").read_text()))
    assert f"refused the private key for '{sftp_server.user}'" in str(caught.value)
    assert "authorized_keys" in str(caught.value)


def test_wrong_password_is_refused(sftp_server: SftpServerInfo) -> None:
    with pytest.raises(AuthFailed, match="refused the password"):
        SftpTransport(_config(sftp_server, private_key="", password="not-it"))


def test_missing_credentials_are_reported(sftp_server: SftpServerInfo) -> None:
    with pytest.raises(AuthFailed, match="neither a private key nor a password"):
        SftpTransport(_config(sftp_server, private_key=""))


@pytest.mark.parametrize("which", ["rsa", "ecdsa"])
def test_rsa_with_passphrase_and_ecdsa_keys_log_in(sftp_server: SftpServerInfo, which: str) -> None:
    key, passphrase = (
        (sftp_server.rsa_key, sftp_server.rsa_passphrase) if which == "rsa" else (sftp_server.ecdsa_key, "")
    )
    with SftpTransport(_config(sftp_server, private_key=key, private_key_passphrase=passphrase)) as transport:
        assert transport.exists(sftp_server.remote_home)


def test_key_pasted_on_one_line_still_works(sftp_server: SftpServerInfo) -> None:
    flattened = " ".join(sftp_server.private_key.split("\n"))
    with SftpTransport(_config(sftp_server, private_key=flattened)) as transport:
        assert transport.exists(sftp_server.remote_home)


def test_missing_passphrase_is_reported(sftp_server: SftpServerInfo) -> None:
    with pytest.raises(AuthFailed, match="passphrase"):
        SftpTransport(_config(sftp_server, private_key=sftp_server.rsa_key))


def test_refused_port_and_unknown_host_are_reported() -> None:
    with pytest.raises(ConnectFailed, match="refused the connection"):
        SftpTransport(SftpConfig(host="127.0.0.1", port=_closed_port(), username="x", password="y"))
    with pytest.raises(ConnectFailed, match="cannot be found"):
        SftpTransport(SftpConfig(host="no-such-host.invalid", username="x", password="y", connect_timeout=5))


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- files ------------------------------------------------------------------------------------------


def test_atomic_write_shows_only_the_temp_name_until_complete(env: Env) -> None:
    folder = f"{env.home}/netsuite/customer/export"
    env.transport.makedirs(folder)
    local_folder = env.local_home / "netsuite/customer/export"
    with env.transport.open_write_atomic(folder, "customers.csv") as f:
        f.write(b"HCCustomerId,externalId\n")
        f.flush()
        assert (local_folder / temp_name("customers.csv")).exists()
        assert not (local_folder / "customers.csv").exists()
        assert env.transport.list_files(folder) == []
        f.write(b"C1,C1\n")
    assert (local_folder / "customers.csv").read_bytes() == b"HCCustomerId,externalId\nC1,C1\n"
    assert not (local_folder / temp_name("customers.csv")).exists()
    assert [r.name for r in env.transport.list_files(folder)] == ["customers.csv"]


def test_failed_write_leaves_neither_final_nor_temp_file(env: Env) -> None:
    folder = f"{env.home}/out"
    env.transport.makedirs(folder)
    with pytest.raises(RuntimeError), env.transport.open_write_atomic(folder, "broken.csv") as f:
        f.write(b"x" * 300_000)
        raise RuntimeError("export crashed halfway")
    assert sorted(p.name for p in (env.local_home / "out").iterdir()) == []


def test_atomic_write_never_overwrites(env: Env) -> None:
    _put(env, "out/taken.csv", b"original")
    with (
        pytest.raises(RemoteFileExists, match="not overwritten"),
        env.transport.open_write_atomic(f"{env.home}/out", "taken.csv") as f,
    ):
        f.write(b"new")
    assert (env.local_home / "out/taken.csv").read_bytes() == b"original"


def test_upload_and_download_round_trip(env: Env, tmp_path: Path) -> None:
    src = tmp_path / "src.csv"
    src.write_bytes(os.urandom(1_234_567))
    path = env.transport.upload_atomic(src, f"{env.home}/up", "file.csv")
    assert path == f"{env.home}/up/file.csv"
    env.transport.download(path, tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_bytes() == src.read_bytes()
    assert env.transport.stat(path).size == 1_234_567


def test_list_skips_uploads_in_progress_hidden_files_and_folders(env: Env) -> None:
    now = time.time()
    _put(env, "in/b.csv", b"b", mtime=now - 10)
    _put(env, "in/a.csv", b"a", mtime=now - 10)
    _put(env, "in/old.CSV", b"old", mtime=now - 100)
    _put(env, "in/notes.txt", b"n")
    for skipped in ("c.csv.part", "d.csv.tmp", ".e.csv", temp_name("f.csv")):
        _put(env, f"in/{skipped}", b"partial")
    (env.local_home / "in/folder.csv").mkdir()
    files = env.transport.list_files(f"{env.home}/in", "*.csv")
    assert [f.name for f in files] == ["old.CSV", "a.csv", "b.csv"]  # oldest first, then by name
    assert files[0].path == f"{env.home}/in/old.CSV"
    assert files[0].size == 3
    assert len(env.transport.list_files(f"{env.home}/in")) == 4


def test_list_of_a_missing_folder_says_so(env: Env) -> None:
    with pytest.raises(RemoteNotFound, match="does not exist"):
        env.transport.list_files(f"{env.home}/nowhere")


def test_move_to_archive_and_failed_creates_folders_and_never_overwrites(env: Env) -> None:
    folder = f"{env.home}/netsuite/customer/import"
    _put(env, "netsuite/customer/import/ids.csv", b"first")
    assert env.transport.move(f"{folder}/ids.csv", f"{folder}/archive") == f"{folder}/archive/ids.csv"
    _put(env, "netsuite/customer/import/ids.csv", b"second")
    assert env.transport.move(f"{folder}/ids.csv", f"{folder}/archive") == f"{folder}/archive/ids-1.csv"
    _put(env, "netsuite/customer/import/bad.csv", b"bad")
    assert env.transport.move(f"{folder}/bad.csv", f"{folder}/failed") == f"{folder}/failed/bad.csv"
    local = env.local_home / "netsuite/customer/import"
    assert (local / "archive/ids.csv").read_bytes() == b"first"
    assert (local / "archive/ids-1.csv").read_bytes() == b"second"
    assert (local / "failed/bad.csv").read_bytes() == b"bad"
    assert sorted(p.name for p in local.iterdir()) == ["archive", "failed"]


def test_move_of_a_vanished_file_says_so(env: Env) -> None:
    with pytest.raises(RemoteNotFound, match="not on the server"):
        env.transport.move(f"{env.home}/gone.csv", f"{env.home}/archive")


def test_streaming_read_of_a_larger_file(env: Env) -> None:
    content = os.urandom(12 * 1024 * 1024 + 17)
    _put(env, "big.csv", content)
    digest = hashlib.sha256()
    with env.transport.open_read(f"{env.home}/big.csv") as f:
        while chunk := f.read(100_000):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(content).hexdigest()


def test_text_lines_can_be_read_through_a_wrapper(env: Env) -> None:
    _put(env, "lines.csv", b"\xef\xbb\xbfa,b\r\n1,2\r\n")
    with env.transport.open_read(f"{env.home}/lines.csv") as f:
        lines = list(io.TextIOWrapper(f, encoding="utf-8-sig", newline=""))
    assert lines == ["a,b\r\n", "1,2\r\n"]


def test_sftp_reads_stream_in_bounded_memory(sftp_server: SftpServerInfo, sftp_home: Path) -> None:
    (sftp_home / "huge.bin").write_bytes(os.urandom(48 * 1024 * 1024))  # root-owned, readable
    with SftpTransport(_config(sftp_server)) as transport:
        tracemalloc.start()
        try:
            with transport.open_read(f"{sftp_server.remote_home}/huge.bin") as f:
                total = 0
                while chunk := f.read(64 * 1024):
                    total += len(chunk)
                    time.sleep(0) if total % (8 << 20) else time.sleep(0.05)  # a slow consumer now and then
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert total == 48 * 1024 * 1024
    assert peak < 24 * 1024 * 1024  # the read-ahead window, not the file


def test_relative_and_escaping_paths_are_refused(env: Env) -> None:
    with pytest.raises(TransportError, match="not absolute"):
        env.transport.exists("home/demo")
    with pytest.raises(TransportError, match=r"contains '\.\.'"):
        env.transport.list_files(f"{env.home}/../../etc")


def test_local_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root/outside").symlink_to(tmp_path)
    with pytest.raises(TransportError, match="outside"):
        LocalFolderTransport(tmp_path / "root").list_files("/outside")


@pytest.mark.django_db
def test_transport_for_builds_either_kind(sftp_connection, local_connection) -> None:
    with transport_for(local_connection) as transport:
        assert isinstance(transport, LocalFolderTransport)
    with transport_for(sftp_connection) as transport:
        assert isinstance(transport, SftpTransport)
        assert transport.exists(f"/home/{sftp_connection.username}")
    assert "private_key" not in repr(transport.config) or "BEGIN" not in repr(transport.config)


def test_the_callers_own_errors_pass_through_unchanged(env: Env) -> None:
    _put(env, "in.csv", b"a\n")
    with pytest.raises(OSError, match="local disk full") as caught, env.transport.open_read(f"{env.home}/in.csv"):
        raise OSError("local disk full")
    assert not isinstance(caught.value, TransportError)
    with pytest.raises(OSError, match="local disk full"), env.transport.open_write_atomic(env.home, "out.csv"):
        raise OSError("local disk full")
    assert not (env.local_home / "out.csv").exists()


# --- names a feed may take ------------------------------------------------------------------------------


def test_a_hostile_servers_names_are_skipped_with_a_reason(
    hostile_sftp_server: SftpServerInfo, caplog: pytest.LogCaptureFixture
) -> None:
    (hostile_sftp_server.home / "in").mkdir()
    (hostile_sftp_server.home / "in" / "good.csv").write_bytes(b"a\n")
    with SftpTransport(_config(hostile_sftp_server)) as transport:
        files = transport.list_files(f"{hostile_sftp_server.remote_home}/in")
    assert [f.path for f in files] == [f"{hostile_sftp_server.remote_home}/in/good.csv"]
    reasons = " ".join(r.getMessage() for r in caplog.records)
    # paramiko's client drops '.' and '..' itself; every other hostile name is skipped with its reason.
    for name in ("/etc/evil.csv", "sub/evil.csv", "nul\\x00.csv", "bell\\x07.csv", "../up.csv"):
        assert name in reasons
    assert "path separator" in reasons and "control" in reasons


def test_control_characters_in_local_names_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "root" / "in"
    folder.mkdir(parents=True)
    (folder / "good.csv").write_bytes(b"a\n")
    (folder / "esc\x1b[31m.csv").write_bytes(b"a\n")
    (folder / "bidi\u202egnp.csv").write_bytes(b"a\n")
    files = LocalFolderTransport(tmp_path / "root").list_files("/in")
    assert [f.name for f in files] == ["good.csv"]
    assert caplog.text.count("Skipped the entry") == 2


# --- the paramiko guard ---------------------------------------------------------------------------------


def test_an_untested_paramiko_fails_loudly(monkeypatch: pytest.MonkeyPatch, sftp_server: SftpServerInfo) -> None:
    import paramiko

    from sftpsync.checks import paramiko_check

    assert paramiko_problem() == "" and paramiko_check(None) == []
    monkeypatch.setattr(paramiko, "__version__", "6.0.0")
    assert "paramiko 6.0.0 is installed" in paramiko_problem()
    with pytest.raises(UnsupportedParamiko, match=r"tested with paramiko 3\.x, 4\.x, 5\.x"):
        SftpTransport(_config(sftp_server))
    [error] = paramiko_check(None)
    assert error.id == "sftpsync.E001" and "6.0.0" in error.msg


def test_a_paramiko_without_the_private_request_calls_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    import paramiko

    monkeypatch.delattr(paramiko.SFTPClient, "_async_request")
    assert "It lacks SFTPClient._async_request" in paramiko_problem()
