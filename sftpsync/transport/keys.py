"""Reaching an SFTP server safely: its host key pinned and checked, the login, and the SSH handshake."""

from __future__ import annotations

import base64
import binascii
import io
import re
import socket
from dataclasses import dataclass, field

import paramiko

from .errors import AuthFailed, ConnectFailed, HostKeyError, ScannedHostKey
from .paramiko_internals import supported_ciphers, supported_key_types

# A large SSH channel window and packet size let the server stream without waiting for window adjusts.
WINDOW_SIZE = 64 * 1024 * 1024
MAX_PACKET_SIZE = 256 * 1024
# AES-GCM needs no separate MAC pass, so it is the cheapest cipher for paramiko.
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr", "aes192-ctr")
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


def scanned(key: paramiko.PKey) -> ScannedHostKey:
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


def handshake(config: SftpConfig, expected: list[paramiko.PKey] | None) -> paramiko.Transport:
    """Open an SSH transport and run the key exchange, restricted to the configured host key types."""
    sock = _open_socket(config)
    ssh = paramiko.Transport(sock, default_window_size=WINDOW_SIZE, default_max_packet_size=MAX_PACKET_SIZE)
    ssh.banner_timeout = ssh.handshake_timeout = ssh.auth_timeout = config.connect_timeout
    options = ssh.get_security_options()
    options.ciphers = supported_ciphers(ssh, PREFERRED_CIPHERS) or options.ciphers
    if expected:
        # Ask only for the key types we can check, or the server may show one we have no line for.
        wanted = []
        for key in expected:
            wanted += RSA_ALGORITHMS if key.get_name() == "ssh-rsa" else [key.get_name()]
        options.key_types = supported_key_types(ssh, wanted)
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
    ssh = handshake(config, None)
    try:
        return scanned(ssh.get_remote_server_key())
    finally:
        ssh.close()


def verify_host_key(config: SftpConfig, expected: list[paramiko.PKey], shown: paramiko.PKey) -> None:
    got = scanned(shown)
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


def authenticate(config: SftpConfig, ssh: paramiko.Transport) -> None:
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
