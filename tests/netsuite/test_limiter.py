"""The concurrency share counted across processes: slot rows claimed by one UPDATE, leased by runs."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from netsuite.limiter import (
    DatabaseSlots,
    LeasedSlots,
    ProcessLimiter,
    SlotWaitTimeout,
    database_is_process_private,
    slots_for_run,
)
from netsuite.models import RequestSlot

from .conftest import peak_of_runs


def test_slots_are_handed_out_up_to_the_share_only(connection):
    store = DatabaseSlots(connection_id=connection.pk, share=2, lease_seconds=60)
    first, second = store.try_acquire(), store.try_acquire()
    assert first and second and first[0] != second[0]
    assert store.try_acquire() is None
    store.release(*first)
    third = store.try_acquire()
    assert third is not None and third[0] == first[0]


def test_a_release_by_someone_else_is_ignored(connection):
    store = DatabaseSlots(connection_id=connection.pk, share=1, lease_seconds=60)
    pk, _token = store.try_acquire()
    store.release(pk, "not-the-holder")
    assert store.try_acquire() is None


def test_a_lease_left_by_a_dead_process_expires(connection):
    store = DatabaseSlots(connection_id=connection.pk, share=1, lease_seconds=60)
    assert store.try_acquire() is not None
    RequestSlot.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert store.try_acquire() is not None


def test_a_smaller_share_leaves_the_upper_slots_unused(connection):
    big = DatabaseSlots(connection_id=connection.pk, share=4, lease_seconds=60)
    claims = {RequestSlot.objects.get(pk=pk).number: (pk, token) for pk, token in [big.try_acquire() for _ in range(4)]}
    small = DatabaseSlots(connection_id=connection.pk, share=1, lease_seconds=60)
    big.release(*claims[3])
    assert small.try_acquire() is None
    big.release(*claims[0])
    assert small.try_acquire() is not None


def test_in_memory_test_database_uses_the_process_limiter(connection, settings):
    settings.REDIS_URL = ""
    if not database_is_process_private():
        pytest.skip("a database other processes can reach needs shared leases")
    with slots_for_run(connection=connection) as limiter:
        assert isinstance(limiter, ProcessLimiter)


def _needs_shared_database() -> None:
    from django.db import connection as db

    if db.vendor == "sqlite":
        pytest.skip("shared-cache in-memory SQLite has table locks; runs on PostgreSQL and in the benchmark")


def leased(connection, *, share: int, wanted: int, **kwargs) -> LeasedSlots:
    store = DatabaseSlots(
        connection_id=connection.pk, share=share, lease_seconds=60, max_wait_seconds=kwargs.pop("max_wait", 600)
    )
    return LeasedSlots(store=store, wanted=wanted, lease_seconds=60, request_seconds=5, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_runs_in_threads_never_hold_more_slots_than_the_share(connection):
    _needs_shared_database()
    share = 3
    # A run per thread, as separate processes would have: only the database is shared.
    assert peak_of_runs(lambda: leased(connection, share=share, wanted=share), runs=6) <= share
    assert RequestSlot.objects.exclude(holder="").count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_run_holds_its_slots_until_it_closes_and_another_run_gets_the_rest(connection):
    _needs_shared_database()
    first = leased(connection, share=3, wanted=2).open()
    try:
        assert first.held == 2
        assert RequestSlot.objects.filter(holder=first.token).count() == 2
        second = leased(connection, share=3, wanted=3)
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
    with leased(connection, share=1, wanted=1), pytest.raises(SlotWaitTimeout, match="concurrency share"):
        leased(connection, share=1, wanted=1, max_wait=0.1).open()


@pytest.mark.django_db(transaction=True)
def test_a_run_stops_waiting_when_told_there_is_nothing_left_to_do(connection):
    _needs_shared_database()
    with leased(connection, share=1, wanted=1):
        started = time.monotonic()
        with leased(connection, share=1, wanted=1, keep_waiting=lambda: False) as waiting:
            assert waiting.held == 0
        assert time.monotonic() - started < 5


@pytest.mark.django_db(transaction=True)
def test_closing_waits_for_a_request_netsuite_is_still_running(connection):
    _needs_shared_database()
    slots = leased(connection, share=1, wanted=1).open()
    slot = slots.slot()
    slot.__enter__()  # a request the run stopped waiting for, its answer still to come
    released = threading.Timer(0.3, slot.__exit__, args=(None, None, None))
    released.start()
    started = time.monotonic()
    slots.close()
    assert time.monotonic() - started >= 0.25
    assert RequestSlot.objects.exclude(holder="").count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_lost_lease_shrinks_the_run(connection):
    _needs_shared_database()
    with leased(connection, share=2, wanted=2) as slots:
        # As if the lease had expired and another process had taken one slot.
        taken = RequestSlot.objects.filter(holder=slots.token).first()
        RequestSlot.objects.filter(pk=taken.pk).update(holder="someone-else")
        slots._renew()
        assert slots.held == 1
        with slots.slot():
            # One permit left for this run: a second request waits.
            assert not slots._permits.acquire(timeout=0.05)
