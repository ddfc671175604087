"""Which process runs a job, and whether it still does: the two signs a run may have been killed.

A run records the process running it (``worker_identity``) and writes a heartbeat while it runs. A reader on
the same machine and in the same process namespace can tell at once whether that process is gone
(``worker_alive``); any other reader goes by the heartbeat, which stops when the process dies.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

from django.conf import settings

PROC = Path("/proc")


def heartbeat_every() -> timedelta:
    """How often a running job writes its heartbeat (``JOB_HEARTBEAT_SECONDS``)."""
    return timedelta(seconds=getattr(settings, "JOB_HEARTBEAT_SECONDS", 10))


def stale_after() -> timedelta:
    """How long without a heartbeat before a running job counts as interrupted (``JOB_STALE_SECONDS``)."""
    return timedelta(seconds=getattr(settings, "JOB_STALE_SECONDS", 120))


def _pid_namespace() -> str:
    try:
        return os.readlink(PROC / "self" / "ns" / "pid").partition("[")[2].rstrip("]")
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), '' if it is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); a zombie has finished running.
    return "" if fields[0] == "Z" else fields[19]


def worker_identity() -> str:
    """Name this process: ``host:pid``, then its PID namespace and start time where /proc tells them."""
    pid = os.getpid()
    namespace, started = _pid_namespace(), _start_time(pid)
    identity = f"{socket.gethostname()}:{pid}"
    return f"{identity}:{namespace}:{started}" if namespace and started else identity


def worker_label(identity: str) -> str:
    """Say which process runs a job, for an operator: host and process ID."""
    host, _, rest = identity.partition(":")
    pid = rest.partition(":")[0]
    return f"{host}, process {pid}" if pid else identity


def worker_alive(identity: str) -> bool | None:
    """Whether the named process still runs: True or False when this process can see it, None when it cannot."""
    parts = identity.split(":")
    if len(parts) != 4 or parts[0] != socket.gethostname() or not parts[2] or parts[2] != _pid_namespace():
        return None
    started = _start_time(int(parts[1]))
    # A different start time is another process that was given the same ID after the worker died.
    return started == parts[3]
