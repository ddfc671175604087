"""The one place that relies on paramiko's private parts, guarded so an untested paramiko fails loudly.

Pipelined transfers use SFTPClient's request internals (``_async_request``, ``_read_response``,
``_convert_status``: the ones SFTPFile itself uses), because SFTPFile's own prefetch buffers the whole file when
the reader is slower than the network and its pipelined writes stall by draining every answer at once. The
handshake reads Transport's ``_preferred_ciphers`` and ``_preferred_keys`` to offer only what paramiko supports.
None of this is public API: ``paramiko_problem`` refuses a paramiko whose major version was not tested, or that
lacks one of these, and the SFTP transport and Django's system checks report it instead of misbehaving.
"""

from __future__ import annotations

import contextlib
import io
from collections import deque
from collections.abc import Callable

import paramiko
from paramiko import sftp as sftp_cmd
from paramiko.sftp import int64

from .errors import UnsupportedParamiko

# The paramiko major versions the transport tests (tests/sftpsync/test_transport.py) passed with; requirements.txt
# pins the same range. Run those tests under a new major version before adding it here.
TESTED_MAJORS = (3, 4, 5)
_SFTP_CLIENT_PRIVATE = ("_async_request", "_read_response", "_convert_status")
_TRANSPORT_PRIVATE = ("_preferred_ciphers", "_preferred_keys")
# Requests kept in flight: enough to hide the round trip, few enough that a slow reader holds ~8 MB.
MAX_IN_FLIGHT = 32


def paramiko_problem() -> str:
    """Return why the installed paramiko cannot be used, or an empty string."""
    version = getattr(paramiko, "__version__", "unknown")
    try:
        major = int(version.split(".")[0])
    except ValueError:
        major = -1
    missing = [f"SFTPClient.{n}" for n in _SFTP_CLIENT_PRIVATE if not hasattr(paramiko.SFTPClient, n)]
    missing += [f"Transport.{n}" for n in _TRANSPORT_PRIVATE if not hasattr(paramiko.Transport, n)]
    if major not in TESTED_MAJORS or missing:
        lacking = f" It lacks {', '.join(missing)}." if missing else ""
        return (
            f"paramiko {version} is installed, but the SFTP transfers were tested with paramiko "
            f"{', '.join(f'{m}.x' for m in TESTED_MAJORS)} only, and rely on its private request calls.{lacking} "
            "Install a tested version (requirements.txt), or run tests/sftpsync/test_transport.py with this one "
            "and add its major version to sftpsync/transport/paramiko_internals.py."
        )
    return ""


def require_supported_paramiko() -> None:
    """Raise UnsupportedParamiko when the installed paramiko was not tested."""
    problem = paramiko_problem()
    if problem:
        raise UnsupportedParamiko(problem)


def supported_ciphers(ssh: paramiko.Transport, preferred: tuple[str, ...]) -> list[str]:
    """Return the preferred ciphers this paramiko offers, in the preferred order."""
    return [c for c in preferred if c in ssh._preferred_ciphers]


def supported_key_types(ssh: paramiko.Transport, wanted: list[str]) -> list[str]:
    """Return the host key types this paramiko can check, in the wanted order."""
    return [k for k in dict.fromkeys(wanted) if k in ssh._preferred_keys]


class Pipeline:
    """Keep many SFTP requests in flight on one channel and collect their answers in order."""

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


class SftpReader(io.RawIOBase):
    """Stream a remote file with up to MAX_IN_FLIGHT reads outstanding, so memory stays bounded."""

    def __init__(
        self, sftp: paramiko.SFTPClient, handle: bytes, size: int, request_size: int, errors: ErrorMapper
    ) -> None:
        self.pipeline = Pipeline(sftp, handle)
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

    def next_chunk(self) -> bytes:
        """Return the next whole answer (b'' at the end), without copying it through a buffer."""
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
                self.pending = memoryview(self.next_chunk())
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    def readall(self) -> bytes:
        parts = [bytes(self.pending)]
        self.pending = memoryview(b"")
        with self.errors():
            while not self.eof:
                parts.append(self.next_chunk())
        return b"".join(parts)


class SftpWriter(io.RawIOBase):
    """Write a remote file with up to MAX_IN_FLIGHT writes outstanding, checking every answer."""

    def __init__(self, sftp: paramiko.SFTPClient, handle: bytes, request_size: int, errors: ErrorMapper) -> None:
        self.pipeline = Pipeline(sftp, handle)
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
