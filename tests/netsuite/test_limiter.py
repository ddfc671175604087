"""The concurrency share counted in the database, across processes (lease rows claimed by one UPDATE)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from netsuite.limiter import (
    DatabaseLimiter,
    LeasedSlots,
    ProcessLimiter,
    SlotWaitTimeout,
    database_is_process_private,
    limiter_for,
)
from netsuite.models import RequestSlot


def test_slots_are_handed_out_up_to_the_share_only(connection):
    limiter = DatabaseLimiter(connection_id=connection.pk, share=2, lease_seconds=60)
    first, second = limiter.try_acquire(), limiter.try_acquire()
    assert first and second and first[0] != second[0]
    assert limiter.try_acquire() is None
    limiter.release(*first)
    third = limiter.try_acquire()
    assert third is not None and third[0] == first[0]


def test_a_release_by_someone_else_is_ignored(connection):
    limiter = DatabaseLimiter(connection_id=connection.pk, share=1, lease_seconds=60)
    pk, _token = limiter.try_acquire()
    limiter.release(pk, "not-the-holder")
    assert limiter.try_acquire() is None


def test_a_lease_left_by_a_dead_process_expires(connection):
    limiter = DatabaseLimiter(connection_id=connection.pk, share=1, lease_seconds=60)
    assert limiter.try_acquire() is not None
    RequestSlot.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert limiter.try_acquire() is not None


def test_waiting_gives_up_with_a_clear_message(connection):
    limiter = DatabaseLimiter(connection_id=connection.pk, share=1, lease_seconds=60, max_wait_seconds=0.05)
    limiter.try_acquire()
    with pytest.raises(SlotWaitTimeout, match="concurrency share"):
        limiter.acquire()


def test_a_smaller_share_leaves_the_upper_slots_unused(connection):
    big = DatabaseLimiter(connection_id=connection.pk, share=4, lease_seconds=60)
    claims = {RequestSlot.objects.get(pk=pk).number: (pk, token) for pk, token in [big.try_acquire() for _ in range(4)]}
    small = DatabaseLimiter(connection_id=connection.pk, share=1, lease_seconds=60)
    big.release(*claims[3])
    assert small.try_acquire() is None
    big.release(*claims[0])
    assert small.try_acquire() is not None


def test_in_memory_test_database_uses_the_process_limiter(connection, settings):
    settings.REDIS_URL = ""
    expected = ProcessLimiter if database_is_process_private() else DatabaseLimiter
    assert isinstance(limiter_for(connection=connection), expected)


@pytest.mark.django_db(transaction=True)
def test_threads_never_hold_more_slots_than_the_share(connection):
    from django.db import connection as db

    if db.vendor == "sqlite":
        pytest.skip("shared-cache in-memory SQLite has table locks; runs on PostgreSQL and in the benchmark")
    share = 3
    in_flight, peak, lock = 0, 0, threading.Lock()

    def work() -> None:
        nonlocal in_flight, peak
        # A limiter per thread, as separate processes would have: only the database is shared.
        limiter = DatabaseLimiter(connection_id=connection.pk, share=share, lease_seconds=60)
        limiter._semaphore = threading.BoundedSemaphore(100)
        try:
            for _ in range(5):
                with limiter.slot():
                    with lock:
                        in_flight += 1
                        peak = max(peak, in_flight)
                    time.sleep(0.01)
                    with lock:
                        in_flight -= 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak <= share
    assert RequestSlot.objects.exclude(holder="").count() == 0


def _needs_shared_database() -> None:
    from django.db import connection as db

    if db.vendor == "sqlite":
        pytest.skip("shared-cache in-memory SQLite has table locks; runs on PostgreSQL and in the benchmark")


@pytest.mark.django_db(transaction=True)
def test_a_run_holds_its_slots_until_it_closes_and_another_run_gets_the_rest(connection):
    _needs_shared_database()
    first = LeasedSlots(connection_id=connection.pk, share=3, wanted=2, lease_seconds=60, request_seconds=5).open()
    try:
        assert first.held == 2
        assert RequestSlot.objects.filter(holder=first.token).count() == 2
        second = LeasedSlots(connection_id=connection.pk, share=3, wanted=3, lease_seconds=60, request_seconds=5)
        with second:
            assert second.held == 1  # only one left; it grows once the first run gives its slots back
            with second.slot():
                pass
    finally:
        first.close()
    assert RequestSlot.objects.exclude(holder="").count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_run_waits_for_a_slot_and_gives_up_clearly(connection):
    _needs_shared_database()
    with LeasedSlots(connection_id=connection.pk, share=1, wanted=1, lease_seconds=60, request_seconds=5):
        waiting = LeasedSlots(
            connection_id=connection.pk, share=1, wanted=1, lease_seconds=60, request_seconds=5, max_wait_seconds=0.1
        )
        with pytest.raises(SlotWaitTimeout, match="concurrency share"):
            waiting.open()


@pytest.mark.django_db(transaction=True)
def test_a_lost_lease_shrinks_the_run(connection):
    _needs_shared_database()
    with LeasedSlots(connection_id=connection.pk, share=2, wanted=2, lease_seconds=60, request_seconds=5) as slots:
        # As if the lease had expired and another process had taken one slot.
        taken = RequestSlot.objects.filter(holder=slots.token).first()
        RequestSlot.objects.filter(pk=taken.pk).update(holder="someone-else")
        slots._renew()
        assert slots.held == 1
        with slots.slot():
            # One permit left for this run: a second request waits.
            assert not slots._permits.acquire(timeout=0.05)
