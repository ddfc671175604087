"""Checking an SFTP connection on behalf of an operator, and remembering the outcome."""

from __future__ import annotations

from django.utils import timezone

from sftpsync.models import SftpConnection
from sftpsync.services import folders_ensure
from sftpsync.transport import (
    HostKeyError,
    ScannedHostKey,
    TransportError,
    scan_host_key,
    sftp_config_for,
    transport_for,
)


def connection_test(*, connection: SftpConnection) -> tuple[bool, str]:
    """Connect, list every feed folder of the connection, record the outcome and return (ok, message)."""
    ok, message = _try(connection)
    connection.last_tested_at = timezone.now()
    connection.last_test_ok = ok
    connection.last_test_message = message
    connection.save(update_fields=["last_tested_at", "last_test_ok", "last_test_message"])
    return ok, message


def _try(connection: SftpConnection) -> tuple[bool, str]:
    feeds = list(connection.feeds.select_related("sftp_connection").order_by("kind"))
    try:
        with transport_for(connection) as transport:
            # Every folder of both sides: HotWax's scripts create none, so a missing one stops NetSuite's side.
            check = folders_ensure(transport, feeds)
            found = []
            for feed in feeds:
                if feed.folder in dict(check.failed):
                    continue
                files = transport.list_files(feed.folder, feed.file_pattern)
                found.append(f"{feed.kind}: {feed.folder} ({len(files)} waiting)")
    except TransportError as exc:
        return False, f"Connection {connection.name} failed. {exc}"
    where = "the local folder" if connection.transport == SftpConnection.Transport.LOCAL else connection.host
    created = f" Created the missing folders {', '.join(check.created)}." if check.created else ""
    if check.failed:
        cannot = "; ".join(f"{folder} ({reason})" for folder, reason in check.failed)
        return False, (
            f"Connected to {where} as {connection.username}, but these folders do not exist and could not be "
            f"created: {cannot}.{created} Create them on the server (or let {connection.username} create them), or "
            "correct the feeds' remote folders."
        )
    if not feeds:
        return True, f"Connected to {where} as {connection.username}. No feed uses this connection yet."
    return True, f"Connected to {where} as {connection.username}.{created} Feed folders: {'; '.join(found)}."


def connection_scan_host_key(*, connection: SftpConnection) -> ScannedHostKey:
    """Show the host key the server presents, for an operator to verify and paste; nothing is saved."""
    try:
        return scan_host_key(sftp_config_for(connection))
    except HostKeyError as exc:  # the scan asks for any key type, so this only means a broken server
        raise TransportError(str(exc)) from exc
