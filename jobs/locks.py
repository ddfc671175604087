"""One lock per job and subject across every process: a PostgreSQL advisory lock, else a lock file.

A run of a job (a feed's import, a connection's push) takes the lock of its job and subject (a feed, a connection)
without waiting: ``job_lock`` tells whether it got it, so the caller refuses (or joins the run that holds it) with
a message that says so. A run that dies lets go of its lock with it: PostgreSQL drops an advisory lock with the
session, the operating system drops a ``flock`` with the process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import zlib
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

from .services import JobRefused


def _namespace(name: str) -> int:
    # Advisory locks take two 32-bit keys: the job's name (hashed) and the subject's primary key.
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


@contextlib.contextmanager
def job_lock(name: str, key: int) -> Iterator[bool]:
    """Try to hold the lock of job ``name`` for subject ``key`` during the block; yield whether it was taken."""
    if connection.vendor == "postgresql":
        namespace = _namespace(name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
            taken = bool(cursor.fetchone()[0])
        try:
            yield taken
        finally:
            if taken:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])
        return
    # Without advisory locks (SQLite: one machine) a lock file does the same; the OS drops it on exit.
    folder = Path(settings.VAR_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    database = hashlib.sha256(str(connection.settings_dict.get("NAME") or "db").encode()).hexdigest()[:12]
    with open(folder / f"{name}-{database}-{key}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def job_lock_or_refuse(name: str, key: int, *, busy_message: str) -> Iterator[None]:
    """Hold the lock of job ``name`` for subject ``key`` during the block, or raise JobRefused(busy_message)."""
    with job_lock(name, key) as taken:
        if not taken:
            raise JobRefused(busy_message)
        yield
