"""A run's request slots: claimed once from the store, renewed while the run works, given back when it ends."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connections

from .store import SlotStore, SlotWaitTimeout, wait_message


class LeasedSlots:
    """Up to ``wanted`` slots of a connection held by one run, for every request the run sends.

    One thread of its own, on its own database connection, claims the slots (waiting for the first), renews
    their lease every third of it, claims more while it holds fewer than wanted, and frees them on ``close()``.
    Requests only take a permit from an in-process semaphore. A request starts only while the lease is sure to
    outlive it (renewed less than ``lease - request timeout`` ago), so a stalled renewal can never let another
    process take a slot that is still in use.

    A permit is given back when NetSuite has finished the request, not when the run stopped waiting for it (see
    ``netsuite.client``): ``close()`` waits for requests still running in NetSuite, at most ``drain_seconds``,
    renewing their leases meanwhile, before it gives the slots back.
    """

    GROW_EVERY = 0.5

    def __init__(
        self,
        *,
        store: SlotStore,
        wanted: int,
        lease_seconds: float,
        request_seconds: float,
        drain_seconds: float = 900.0,
        keep_waiting: Callable[[], bool] | None = None,
    ) -> None:
        self._db = store
        # Asked about once a second while no slot is free: False ends the wait with no slot (``held`` 0).
        self._keep_waiting = keep_waiting
        self.wanted = max(1, min(wanted, store.share))
        self.token = uuid.uuid4().hex
        self.drain_seconds = drain_seconds
        self._usable = max(1.0, lease_seconds - request_seconds - 1)
        self._renew_every = self._usable / 3
        self._permits = threading.Semaphore(0)
        self._lock = threading.Condition()
        self._held = 0
        self._in_use = 0
        self._debt = 0  # permits to swallow as requests end, after slots were lost
        self._valid_until = 0.0
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> int:
        return self._held

    @property
    def store(self) -> SlotStore:
        return self._db

    def open(self) -> LeasedSlots:
        """Claim the first slot (waiting as long as the store's ``max_wait_seconds``, or until ``keep_waiting``
        says no: then ``held`` is 0) and as many more as are free."""
        self._thread = threading.Thread(target=self._run, name="netsuite-slots", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self.close()
            raise self._error
        return self

    def close(self) -> None:
        """Wait for the requests NetSuite is still running (at most ``drain_seconds``), then give every slot back."""
        deadline = time.monotonic() + self.drain_seconds
        with self._lock:
            while self._in_use and self._thread is not None and self._error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(min(left, 0.5))
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
        with self._lock:
            self._in_use += 1
        try:
            while time.monotonic() >= self._valid_until:
                # The renewal is late (the database was busy): wait rather than outlive the lease.
                self._raise_if_broken()
                time.sleep(0.05)
            yield
        finally:
            with self._lock:
                self._in_use -= 1
                if self._debt:
                    self._debt -= 1
                else:
                    self._permits.release()
                self._lock.notify_all()

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
            asked = time.monotonic()
            while not self._held:
                self._claim(time.monotonic())
                if self._held:
                    break
                if time.monotonic() > deadline:
                    raise SlotWaitTimeout(wait_message(self._db.max_wait_seconds))
                if self._keep_waiting is not None and time.monotonic() - asked > 1.0:
                    asked = time.monotonic()
                    if not self._keep_waiting():
                        return
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
