"""The concurrency share counted in Redis: leases in a sorted set, claimed and renewed by Lua scripts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings

from netsuite.limiter import LeasedSlots, SlotWaitTimeout, slots_for_run
from netsuite.limiter.redis_store import LimiterUnavailable, RedisSlots

from .conftest import peak_of_runs

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs a Redis server: set REDIS_URL"),
]


@pytest.fixture
def make_limiter() -> Iterator[Callable[..., RedisSlots]]:
    """Build limiters under a key prefix of the test's own, deleted afterwards."""
    prefix = f"test:netsuite:slots:{uuid.uuid4().hex[:12]}"
    made: list[RedisSlots] = []

    def make(*, share: int, lease_seconds: float = 60, connection_id: int = 1, **kwargs) -> RedisSlots:
        limiter = RedisSlots(
            url=settings.REDIS_URL,
            connection_id=connection_id,
            share=share,
            lease_seconds=lease_seconds,
            key_prefix=prefix,
            **kwargs,
        )
        made.append(limiter)
        return limiter

    yield make
    client = redis.Redis.from_url(settings.REDIS_URL)
    for limiter in made:
        client.delete(limiter.key)


def test_slots_are_handed_out_up_to_the_share_only(make_limiter):
    limiter = make_limiter(share=2)
    first, second = limiter.try_acquire(), limiter.try_acquire()
    assert first and second and first[0] != second[0]
    assert limiter.try_acquire() is None
    limiter.release(*first)
    assert limiter.try_acquire() is not None


def test_a_release_by_someone_else_is_ignored(make_limiter):
    limiter = make_limiter(share=1)
    member, _token = limiter.try_acquire()
    limiter.release(member, "not-the-holder")
    assert limiter.try_acquire() is None


def test_a_lease_left_by_a_dead_process_expires_and_so_does_the_key(make_limiter):
    limiter = make_limiter(share=1, lease_seconds=0.2)
    assert limiter.try_acquire() is not None
    assert limiter.try_acquire() is None
    time.sleep(0.3)
    assert limiter.try_acquire() is not None
    time.sleep(0.3)
    assert not limiter._redis.exists(limiter.key)


def test_a_smaller_share_counts_the_leases_of_a_bigger_one(make_limiter):
    big = make_limiter(share=3)
    claims = [big.try_acquire() for _ in range(3)]
    small = make_limiter(share=2)
    assert small.try_acquire() is None
    big.release(*claims[0])
    assert small.try_acquire() is None  # still two in flight
    big.release(*claims[1])
    assert small.try_acquire() is not None


def test_waiting_gives_up_with_a_clear_message(make_limiter):
    store = make_limiter(share=1, max_wait_seconds=0.05)
    store.try_acquire()
    with pytest.raises(SlotWaitTimeout, match="concurrency share"):
        LeasedSlots(store=store, wanted=1, lease_seconds=60, request_seconds=5).open()


def test_runs_in_threads_never_hold_more_slots_than_the_share(make_limiter):
    share = 3

    def open_run() -> LeasedSlots:
        # A run per thread, as separate processes would have: only Redis is shared.
        return LeasedSlots(store=make_limiter(share=share), wanted=share, lease_seconds=60, request_seconds=5)

    assert peak_of_runs(open_run, runs=8) <= share
    check = make_limiter(share=share)
    assert check._redis.zcard(check.key) == 0


def test_a_run_holds_its_slots_in_redis_until_it_closes(make_limiter):
    backend = make_limiter(share=3)
    first = LeasedSlots(store=backend, wanted=2, lease_seconds=60, request_seconds=5)
    with first:
        assert first.held == 2
        other = make_limiter(share=3)
        second = LeasedSlots(store=other, wanted=3, lease_seconds=60, request_seconds=5)
        with second:
            assert second.held == 1
            with second.slot():
                pass
        # As if the lease had run out and another process had taken one slot: the run shrinks.
        member = backend._redis.zrange(backend.key, 0, 0)[0]
        backend._redis.zadd(backend.key, {member: 0})
        first._renew()
        assert first.held == 1
    assert backend._redis.zcard(backend.key) == 0


def test_no_redis_is_a_clear_error():
    limiter = RedisSlots(url="redis://127.0.0.1:1/0", connection_id=1, share=1, lease_seconds=60)
    with pytest.raises(LimiterUnavailable, match="REDIS_URL") as raised:
        limiter.try_acquire()
    assert "127.0.0.1:1" not in raised.value.message


@pytest.mark.django_db
def test_redis_url_switches_the_limiters(connection, monkeypatch):
    from netsuite import limiter

    monkeypatch.setattr(limiter, "database_is_process_private", lambda: False)
    assert isinstance(limiter.store_for(connection), RedisSlots)
    with slots_for_run(connection=connection, wanted=2) as slots:
        assert isinstance(slots._db, RedisSlots)
        assert slots.held == 2
        key = slots._db.key
        assert slots._db._redis.zcard(key) == 2
    assert slots._db._redis.zcard(key) == 0
