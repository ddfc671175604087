"""What can go wrong in a file exchange, each a ``TransportError`` whose message tells the operator what to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScannedHostKey:
    """A host key as a server showed it, for an operator to verify and paste; never trusted by itself."""

    key_type: str
    base64: str
    fingerprint: str

    @property
    def line(self) -> str:
        return f"{self.key_type} {self.base64}"


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


class UnsupportedParamiko(TransportError):
    """The installed paramiko is a version the pipelined transfers were not tested with."""
