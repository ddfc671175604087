"""The connection's concurrency share, counted across every worker process, as lease rows in the database.

NetSuite's concurrency limit is per account, so a limit inside one process is not enough: the web
server, the django-q2 workers and a management command may all send at once. Each connection has
``concurrency_share`` slot rows; a request claims a free one with one conditional UPDATE (free means no
holder, or a lease that expired because its process died), and gives it back when its answer has
arrived. The UPDATE re-checks the condition on the row it changes, so two claimants never both win,
on SQLite (one writer at a time) as on PostgreSQL (the second UPDATE re-reads the committed row).

Inside a process a semaphore of the same size comes first, so threads of one push wait on each other
without polling the database.

A run that sends many requests (a push, a pull) holds its slots as a ``LeasedSlots`` pool instead: it
claims up to its share once, renews the lease while it works and gives the slots back at the end (or they
expire if its process dies), so no database write stands between two requests.

With ``REDIS_URL`` set, the leases live in Redis instead of slot rows (``redis_limiter.RedisLimiter``).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from .client import NetSuiteError
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


class SlotWaitTimeout(NetSuiteError):
    """No request slot became free in time."""

    def __init__(self, message: str):
        super().__init__("NO_REQUEST_SLOT", message)


def _wait_message(seconds: float) -> str:
    return (
        f"No NetSuite request slot became free in {seconds:g} seconds: other workers hold the connection's whole "
        "concurrency share."
    )


class PollingSlots:
    """Shared-slot limiting for one request at a time: wait for a slot by polling, with growing jittered waits.

    Subclasses hold ``_semaphore`` (this process's share) and ``max_wait_seconds``, and implement
    ``try_acquire() -> (slot, token) | None`` and ``release(slot, token)`` on their shared store.
    """

    def acquire(self) -> tuple[Any, str]:
        deadline = time.monotonic() + self.max_wait_seconds
        wait = 0.005
        while True:
            claimed = self.try_acquire()
            if claimed:
                return claimed
            if time.monotonic() > deadline:
                raise SlotWaitTimeout(_wait_message(self.max_wait_seconds))
            time.sleep(wait * random.uniform(0.5, 1.5))
            wait = min(wait * 2, 0.2)

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._semaphore:
            claimed, token = self.acquire()
            try:
                yield
            finally:
                self.release(claimed, token)


class DatabaseLimiter(PollingSlots):
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

    def try_acquire(self, token: str = "") -> tuple[int, str] | None:
        """Claim a free slot now; return (slot id, holder token), or None when all are taken."""
        self._ensure_rows()
        token = token or uuid.uuid4().hex
        now = timezone.now()
        candidates = list(self._free(now).values_list("pk", flat=True))
        random.shuffle(candidates)
        for pk in candidates:
            if self._free(now).filter(pk=pk).update(holder=token, expires_at=now + self.lease):
                return pk, token
        return None

    def release(self, pk: int, token: str) -> None:
        RequestSlot.objects.filter(pk=pk, holder=token).update(holder="", expires_at=None)

    def renew_holder(self, token: str) -> int:
        """Extend every lease the holder has; return how many it still holds."""
        return RequestSlot.objects.filter(connection_id=self.connection_id, holder=token).update(
            expires_at=timezone.now() + self.lease
        )

    def release_holder(self, token: str) -> None:
        RequestSlot.objects.filter(connection_id=self.connection_id, holder=token).update(holder="", expires_at=None)


class LeasedSlots:
    """Up to ``wanted`` slots of a connection held by one run, for every request the run sends.

    One thread of its own, on its own database connection, claims the slots (waiting for the first), renews
    their lease every third of it, claims more while it holds fewer than wanted, and frees them on
    ``close()``. Requests only take a permit from an in-process semaphore. A request starts only while the
    lease is sure to outlive it (renewed less than ``lease - request timeout`` ago), so a stalled renewal
    can never let another process take a slot that is still in use.
    """

    GROW_EVERY = 0.5

    def __init__(
        self,
        *,
        connection_id: int,
        share: int,
        wanted: int,
        lease_seconds: float,
        request_seconds: float,
        max_wait_seconds: float = 600.0,
        backend: Any = None,
    ) -> None:
        # Where the leases live: slot rows by default, or a RedisLimiter built with the same arguments.
        self._db = backend or DatabaseLimiter(
            connection_id=connection_id, share=share, lease_seconds=lease_seconds, max_wait_seconds=max_wait_seconds
        )
        self.wanted = max(1, min(wanted, self._db.share))
        self.token = uuid.uuid4().hex
        self._usable = max(1.0, lease_seconds - request_seconds - 1)
        self._renew_every = self._usable / 3
        self._permits = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._held = 0
        self._debt = 0  # permits to swallow as requests end, after slots were lost
        self._valid_until = 0.0
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> int:
        return self._held

    def open(self) -> LeasedSlots:
        """Claim the first slot (waiting as long as ``max_wait_seconds``) and as many more as are free."""
        self._thread = threading.Thread(target=self._run, name="netsuite-slots", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self.close()
            raise self._error
        return self

    def close(self) -> None:
        """Give every slot back."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> LeasedSlots:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def slot(self) -> Iterator[None]:
        while not self._permits.acquire(timeout=0.5):
            self._raise_if_broken()
        try:
            while time.monotonic() >= self._valid_until:
                # The renewal is late (the database was busy): wait rather than outlive the lease.
                self._raise_if_broken()
                time.sleep(0.05)
            yield
        finally:
            with self._lock:
                if self._debt:
                    self._debt -= 1
                else:
                    self._permits.release()

    def _raise_if_broken(self) -> None:
        if self._error is not None:
            raise self._error
        if self._stop.is_set():
            raise SlotWaitTimeout("The NetSuite request slots of this run were given back already.")

    # -- the slots' own thread --

    def _add(self, count: int) -> None:
        with self._lock:
            self._held += count
        for _ in range(count):
            self._permits.release()

    def _claim(self, started: float) -> None:
        while self._held < self.wanted and self._db.try_acquire(self.token):
            self._add(1)
            if self._held == 1:
                self._valid_until = started + self._usable

    def _renew(self) -> None:
        started = time.monotonic()
        kept = self._db.renew_holder(self.token)
        with self._lock:
            lost = self._held - kept
            if lost > 0:
                # Another process took slots whose lease ran out: use fewer from now on.
                self._held = kept
                for _ in range(lost):
                    if not self._permits.acquire(blocking=False):
                        self._debt += 1
        self._valid_until = started + self._usable

    def _run(self) -> None:
        try:
            deadline = time.monotonic() + self._db.max_wait_seconds
            wait = 0.005
            while not self._held:
                self._claim(time.monotonic())
                if self._held:
                    break
                if time.monotonic() > deadline:
                    raise SlotWaitTimeout(_wait_message(self._db.max_wait_seconds))
                if self._stop.wait(wait * random.uniform(0.5, 1.5)):
                    return
                wait = min(wait * 2, 0.2)
            self._ready.set()
            renewed = time.monotonic()
            while not self._stop.wait(self.GROW_EVERY if self._held < self.wanted else self._renew_every / 4):
                if time.monotonic() - renewed >= self._renew_every:
                    renewed = time.monotonic()
                    self._renew()
                if self._held < self.wanted:
                    self._claim(time.monotonic())
        except BaseException as exc:
            self._error = exc
        finally:
            try:
                self._db.release_holder(self.token)
            finally:
                self._ready.set()
                connections.close_all()


def database_is_process_private() -> bool:
    """Tell whether the database lives in this process only (in-memory SQLite, as in tests)."""
    name = str(db_connection.settings_dict.get("NAME") or "")
    return db_connection.vendor == "sqlite" and (name == ":memory:" or "mode=memory" in name)


@contextmanager
def slots_for_run(*, connection: NetSuiteConnection, wanted: int | None = None) -> Iterator[Any]:
    """Hold up to ``wanted`` (default: the whole share) of the connection's slots for one run's requests."""
    if database_is_process_private():
        yield limiter_for(connection=connection)
        return
    with LeasedSlots(
        connection_id=connection.pk,
        share=connection.concurrency_share,
        wanted=wanted or connection.concurrency_share,
        lease_seconds=connection.request_timeout + 30,
        request_seconds=connection.request_timeout,
        backend=_redis_limiter(connection),
    ) as slots:
        yield slots


def _redis_limiter(connection: NetSuiteConnection):
    """Return a Redis-backed limiter when ``REDIS_URL`` is set, else None."""
    if not settings.REDIS_URL:
        return None
    from .redis_limiter import RedisLimiter

    return RedisLimiter(
        url=settings.REDIS_URL,
        connection_id=connection.pk,
        share=connection.concurrency_share,
        lease_seconds=connection.request_timeout + 30,
    )


def limiter_for(*, connection: NetSuiteConnection):
    """Return the limiter that keeps this connection within its concurrency share."""
    if database_is_process_private():
        # No other process can reach this database, so this process is the whole world: a semaphore is exact.
        return ProcessLimiter(connection_id=connection.pk, share=connection.concurrency_share)
    return _redis_limiter(connection) or DatabaseLimiter(
        connection_id=connection.pk,
        share=connection.concurrency_share,
        lease_seconds=connection.request_timeout + 30,
    )
