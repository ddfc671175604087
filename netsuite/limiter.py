"""The connection's concurrency share, counted across every worker process, as lease rows in the database.

NetSuite's concurrency limit is per account, so a limit inside one process is not enough: the web
server, the django-q2 workers and a management command may all send at once. Each connection has
``concurrency_share`` slot rows; a request claims a free one with one conditional UPDATE (free means no
holder, or a lease that expired because its process died), and gives it back when its answer has
arrived. The UPDATE re-checks the condition on the row it changes, so two claimants never both win,
on SQLite (one writer at a time) as on PostgreSQL (the second UPDATE re-reads the committed row).

Inside a process a semaphore of the same size comes first, so threads of one push wait on each other
without polling the database.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection as db_connection
from django.db.models import Q
from django.utils import timezone

from .models import NetSuiteConnection, RequestSlot

_semaphores: dict[tuple[int, int], threading.BoundedSemaphore] = {}
_semaphores_lock = threading.Lock()


def _process_semaphore(connection_id: int, share: int) -> threading.BoundedSemaphore:
    with _semaphores_lock:
        key = (connection_id, share)
        if key not in _semaphores:
            _semaphores[key] = threading.BoundedSemaphore(share)
        return _semaphores[key]


class ProcessLimiter:
    """At most ``share`` requests in flight from this process (enough when no other process can send)."""

    def __init__(self, *, connection_id: int, share: int) -> None:
        self._semaphore = _process_semaphore(connection_id, max(1, share))

    def slot(self) -> threading.BoundedSemaphore:
        return self._semaphore


class SlotWaitTimeout(Exception):
    """No request slot became free in time."""


class DatabaseLimiter:
    """Hand out at most ``share`` request slots of a connection at once, across processes."""

    def __init__(
        self, *, connection_id: int, share: int, lease_seconds: float, max_wait_seconds: float = 600.0
    ) -> None:
        self.connection_id = connection_id
        self.share = max(1, share)
        self.lease = timedelta(seconds=lease_seconds)
        self.max_wait_seconds = max_wait_seconds
        self._semaphore = _process_semaphore(connection_id, self.share)
        self._rows_ready = False

    def _ensure_rows(self) -> None:
        if not self._rows_ready:
            RequestSlot.objects.bulk_create(
                [RequestSlot(connection_id=self.connection_id, number=n) for n in range(self.share)],
                ignore_conflicts=True,
            )
            self._rows_ready = True

    def _free(self, now):
        return RequestSlot.objects.filter(connection_id=self.connection_id, number__lt=self.share).filter(
            Q(holder="") | Q(expires_at__lt=now)
        )

    def try_acquire(self) -> tuple[int, str] | None:
        """Claim a free slot now; return (slot id, holder token), or None when all are taken."""
        self._ensure_rows()
        token = uuid.uuid4().hex
        now = timezone.now()
        candidates = list(self._free(now).values_list("pk", flat=True))
        random.shuffle(candidates)
        for pk in candidates:
            if self._free(now).filter(pk=pk).update(holder=token, expires_at=now + self.lease):
                return pk, token
        return None

    def release(self, pk: int, token: str) -> None:
        RequestSlot.objects.filter(pk=pk, holder=token).update(holder="", expires_at=None)

    def acquire(self) -> tuple[int, str]:
        deadline = time.monotonic() + self.max_wait_seconds
        wait = 0.005
        while True:
            claimed = self.try_acquire()
            if claimed:
                return claimed
            if time.monotonic() > deadline:
                raise SlotWaitTimeout(
                    f"No NetSuite request slot became free in {self.max_wait_seconds:g} seconds: other workers "
                    "hold the connection's whole concurrency share."
                )
            time.sleep(wait * random.uniform(0.5, 1.5))
            wait = min(wait * 2, 0.2)

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._semaphore:
            pk, token = self.acquire()
            try:
                yield
            finally:
                self.release(pk, token)


def database_is_process_private() -> bool:
    """Tell whether the database lives in this process only (in-memory SQLite, as in tests)."""
    name = str(db_connection.settings_dict.get("NAME") or "")
    return db_connection.vendor == "sqlite" and (name == ":memory:" or "mode=memory" in name)


def limiter_for(*, connection: NetSuiteConnection):
    """Return the limiter that keeps this connection within its concurrency share."""
    if database_is_process_private():
        # No other process can reach this database, so this process is the whole world: a semaphore is exact.
        return ProcessLimiter(connection_id=connection.pk, share=connection.concurrency_share)
    return DatabaseLimiter(
        connection_id=connection.pk,
        share=connection.concurrency_share,
        lease_seconds=connection.request_timeout + 30,
    )
