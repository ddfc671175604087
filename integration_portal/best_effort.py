"""Best-effort writes that never hold up the request that makes them.

A bookkeeping write (when a token was last used) must not make a read wait for another transaction's lock, nor
fail it: it is tried at once, and skipped when the database is busy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

# How long PostgreSQL may wait for a row or table lock before giving the write up.
LOCK_TIMEOUT_MS = 100


def write_without_waiting(write: Callable[[], Any], *, what: str, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Run ``write`` in its own transaction (or savepoint) now, or skip it if a lock is held; never raise."""
    connection = connections[using]
    saved_busy_timeout = None
    try:
        if connection.vendor == "sqlite":
            # SQLite waits up to the busy timeout (20 s, settings) for the write lock: not for this write.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout")
                saved_busy_timeout = int(cursor.fetchone()[0])
                cursor.execute("PRAGMA busy_timeout = 0")
        with transaction.atomic(using=using):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
            write()
        return True
    except DatabaseError as exc:
        logger.info("Skipped %s: the database is busy (%s).", what, type(exc).__name__)
        return False
    finally:
        if saved_busy_timeout is not None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"PRAGMA busy_timeout = {saved_busy_timeout}")
            except DatabaseError:
                logger.warning("Could not restore SQLite's busy timeout after %s.", what)
