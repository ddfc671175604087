"""Where feed files live: an SFTP server (paramiko) or a local folder standing in for one.

One module per concern: ``errors`` (what can go wrong), ``names`` (which remote names a feed may touch),
``base`` (the operations a feed needs), ``local`` (a local folder), ``keys`` (host keys, login, handshake),
``paramiko_internals`` (the pipelined transfers on paramiko's private calls, version-guarded) and ``sftp``
(the SFTP server). Nothing here knows Django models except ``transport_for``. Every failure is a
``TransportError`` whose message tells the operator what happened and what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Transport
from .errors import (
    AuthFailed,
    ConnectFailed,
    HostKeyError,
    RemoteFileExists,
    RemoteNotFound,
    ScannedHostKey,
    TransportError,
    UnsupportedParamiko,
)
from .keys import SftpConfig, load_private_key, parse_host_keys, scan_host_key
from .local import LocalFolderTransport
from .names import RemoteFile, is_in_progress, matches, numbered_names, temp_name, unsafe_name_reason
from .paramiko_internals import TESTED_MAJORS, paramiko_problem
from .sftp import SftpTransport

if TYPE_CHECKING:
    from sftpsync.models import SftpConnection


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


__all__ = [
    "TESTED_MAJORS",
    "AuthFailed",
    "ConnectFailed",
    "HostKeyError",
    "LocalFolderTransport",
    "RemoteFile",
    "RemoteFileExists",
    "RemoteNotFound",
    "ScannedHostKey",
    "SftpConfig",
    "SftpTransport",
    "Transport",
    "TransportError",
    "UnsupportedParamiko",
    "is_in_progress",
    "load_private_key",
    "matches",
    "numbered_names",
    "paramiko_problem",
    "parse_host_keys",
    "scan_host_key",
    "sftp_config_for",
    "temp_name",
    "transport_for",
    "unsafe_name_reason",
]
