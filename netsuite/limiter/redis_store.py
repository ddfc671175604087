"""The slot store in Redis (when ``REDIS_URL`` is set): leases in one sorted set per connection.

Each request slot in use is a member of ``netsuite:slots:<connection id>`` scored with the time its lease
ends (Redis's own clock, so workers' clocks never matter). A Lua script drops expired leases and adds a new
one only while fewer than the share are held, atomically; a holder renews its leases the same way. A process
that dies leaves leases that simply expire, and the key expires with the last of them.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import redis

from ..client import NetSuiteError

# Redis's clock in milliseconds, and the key's expiry moved to its last lease, shared by the scripts.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
_EXPIRE_WITH_LAST_LEASE = """
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
"""
# KEYS[1] the set; ARGV: share, lease in ms, member. Returns 1 when claimed.
_CLAIM = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
"""
    + _EXPIRE_WITH_LAST_LEASE
    + "return 1"
)
# KEYS[1] the set; ARGV: lease in ms, holder prefix. Renews the holder's unexpired leases; returns how many.
_RENEW = (
    _NOW
    + """
local kept = 0
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  if string.sub(member, 1, string.len(ARGV[2])) == ARGV[2] then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), member)
    kept = kept + 1
  end
end
"""
    + _EXPIRE_WITH_LAST_LEASE
    + "return kept"
)
# KEYS[1] the set; ARGV: holder prefix. Gives back every lease of the holder.
_RELEASE_HOLDER = """
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, 1, string.len(ARGV[1])) == ARGV[1] then redis.call('ZREM', KEYS[1], member) end
end
return 1
"""

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _client(url: str) -> redis.Redis:
    with _clients_lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return _clients[url]


class LimiterUnavailable(NetSuiteError):
    """Redis, which counts the requests in flight across workers, did not answer."""

    def __init__(self, exc: BaseException):
        # The URL is not repeated: it may hold a password.
        super().__init__(
            "LIMITER_UNAVAILABLE",
            f"The Redis server that counts NetSuite requests across workers (REDIS_URL) did not answer "
            f"({type(exc).__name__}). Check that Redis is running; nothing was sent to NetSuite.",
        )


class RedisSlots:
    """The ``SlotStore`` of a connection as Redis leases: at most ``share`` at once, across processes."""

    def __init__(
        self,
        *,
        url: str,
        connection_id: int,
        share: int,
        lease_seconds: float,
        max_wait_seconds: float = 600.0,
        key_prefix: str = "netsuite:slots",
    ) -> None:
        self.connection_id = connection_id
        self.share = max(1, share)
        self.lease_ms = int(lease_seconds * 1000)
        self.max_wait_seconds = max_wait_seconds
        self.key = f"{key_prefix}:{connection_id}"
        self._redis = _client(url)
        self._claim = self._redis.register_script(_CLAIM)
        self._renew = self._redis.register_script(_RENEW)
        self._release_holder = self._redis.register_script(_RELEASE_HOLDER)

    def _call(self, script, *args: Any) -> int:
        try:
            return int(script(keys=[self.key], args=list(args)))
        except redis.RedisError as exc:
            raise LimiterUnavailable(exc) from None

    def try_acquire(self, token: str = "") -> tuple[str, str] | None:
        """Claim a free slot now; return (lease, holder token), or None when all are taken."""
        token = token or uuid.uuid4().hex
        member = f"{token}:{uuid.uuid4().hex[:12]}"
        if self._call(self._claim, self.share, self.lease_ms, member):
            return member, token
        return None

    def release(self, member: str, token: str) -> None:
        if member.startswith(token + ":"):
            try:
                self._redis.zrem(self.key, member)
            except redis.RedisError as exc:
                raise LimiterUnavailable(exc) from None

    def renew_holder(self, token: str) -> int:
        """Extend the holder's leases that have not expired; return how many it still holds."""
        return self._call(self._renew, self.lease_ms, token + ":")

    def release_holder(self, token: str) -> None:
        self._call(self._release_holder, token + ":")
