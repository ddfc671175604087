"""The connection's concurrency share, counted across every worker process.

NetSuite's concurrency limit is per account, so a limit inside one process is not enough: the web server, the
django-q2 workers and a management command may all send at once. A run (a push, a pull, a connection test) holds
up to its share of the connection's slots as a ``LeasedSlots`` pool: it claims them from a ``SlotStore`` once,
renews their lease while it works and gives them back at the end (or they expire if its process dies), so no
database write stands between two requests. Inside the run, a request takes a permit from the pool.

The store is the database (``RequestSlot`` rows) or, with ``REDIS_URL`` set, Redis (``RedisSlots``); both give out
at most ``concurrency_share`` leases at once. A database private to this process (in-memory SQLite, as in tests)
needs neither: a semaphore (``ProcessLimiter``) is exact there.

**How long a request holds its slot.** NetSuite keeps working on a request whose client stopped waiting, and the
request counts against the account's limit until NetSuite has finished it (Oracle: "Concurrency Governance and
Session Management": every request counts toward the account limit, and a request that takes more than 15 minutes
times out). So the slot is held for the request's life on NetSuite's side, not for the client's patience: from
sending until NetSuite's answer arrives, even after the connection's request timeout has made the portal give up
waiting (the answer is still read, in the background); until NetSuite closes the connection without answering;
or at most NetSuite's own limit, 15 minutes after sending (``NetSuiteConfig.server_time_limit``). A run that ends
waits for such requests before it gives its slots back. What is not covered: a process killed while NetSuite works
on its request frees the slot when its lease runs out (the connection's request timeout + 30 seconds,
``NETSUITE_LEASE_MARGIN_SECONDS``), which can be before NetSuite is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection as db_connection

from ..models import NetSuiteConnection
from .leases import LeasedSlots
from .process import ProcessLimiter
from .store import DatabaseSlots, SlotStore, SlotWaitTimeout

__all__ = [
    "DatabaseSlots",
    "LeasedSlots",
    "ProcessLimiter",
    "SlotStore",
    "SlotWaitTimeout",
    "database_is_process_private",
    "lease_seconds",
    "slots_for_run",
    "store_for",
]


def database_is_process_private() -> bool:
    """Tell whether the database lives in this process only (in-memory SQLite, as in tests)."""
    name = str(db_connection.settings_dict.get("NAME") or "")
    return db_connection.vendor == "sqlite" and (name == ":memory:" or "mode=memory" in name)


def lease_seconds(connection: NetSuiteConnection) -> float:
    """How long a run's lease lasts unrenewed: one request timeout and a margin for the renewal to come."""
    return connection.request_timeout + float(getattr(settings, "NETSUITE_LEASE_MARGIN_SECONDS", 30))


def store_for(connection: NetSuiteConnection) -> SlotStore:
    """Return where the connection's slots are counted: Redis when ``REDIS_URL`` is set, else the database."""
    if settings.REDIS_URL:
        from .redis_store import RedisSlots

        return RedisSlots(
            url=settings.REDIS_URL,
            connection_id=connection.pk,
            share=connection.concurrency_share,
            lease_seconds=lease_seconds(connection),
        )
    return DatabaseSlots(
        connection_id=connection.pk, share=connection.concurrency_share, lease_seconds=lease_seconds(connection)
    )


@contextmanager
def slots_for_run(
    *, connection: NetSuiteConnection, wanted: int | None = None, keep_waiting: Callable[[], bool] | None = None
) -> Iterator[Any]:
    """Hold up to ``wanted`` (default: the whole share) of the connection's slots for one run's requests.

    ``keep_waiting`` is asked now and then while every slot is taken; when it says no, the run gets no slot
    (``held`` 0) instead of waiting on.
    """
    if database_is_process_private():
        # No other process can reach this database, so this process is the whole world: a semaphore is exact.
        yield ProcessLimiter(connection_id=connection.pk, share=connection.concurrency_share)
        return
    with LeasedSlots(
        store=store_for(connection),
        wanted=wanted or connection.concurrency_share,
        lease_seconds=lease_seconds(connection),
        request_seconds=connection.request_timeout,
        drain_seconds=connection.client_config().server_time_limit,
        keep_waiting=keep_waiting,
    ) as slots:
        yield slots
