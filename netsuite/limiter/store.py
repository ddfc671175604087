"""Where a connection's request slots are counted across processes: the interface, and its database rows.

A store hands out at most ``share`` leases of one connection at once. A lease has a holder token and an expiry;
a process that dies leaves leases that simply expire. Claiming re-checks the condition on the row (or key) it
changes, so two claimants never both win. ``redis_store.RedisSlots`` is the same interface in Redis.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any, Protocol

from django.db.models import Q
from django.utils import timezone

from ..client import NetSuiteError
from ..models import RequestSlot


class SlotStore(Protocol):
    """Leases on a connection's request slots, shared by every process that sends to the account."""

    share: int
    max_wait_seconds: float

    def try_acquire(self, token: str = "") -> tuple[Any, str] | None:
        """Claim a free slot now for holder ``token``; return (lease, token), or None when all are taken."""

    def release(self, lease: Any, token: str) -> None:
        """Give one lease back (ignored unless ``token`` holds it)."""

    def renew_holder(self, token: str) -> int:
        """Extend every unexpired lease of the holder; return how many it still holds."""

    def release_holder(self, token: str) -> None:
        """Give back every lease of the holder."""


class SlotWaitTimeout(NetSuiteError):
    """No request slot became free in time."""

    def __init__(self, message: str):
        super().__init__("NO_REQUEST_SLOT", message)


def wait_message(seconds: float) -> str:
    return (
        f"No NetSuite request slot became free in {seconds:g} seconds: other workers hold the connection's whole "
        "concurrency share."
    )


class DatabaseSlots:
    """The slots as rows (``RequestSlot``), claimed by one conditional UPDATE each.

    Free means no holder, or a lease that expired because its process died. The UPDATE re-checks the condition on
    the row it changes, on SQLite (one writer at a time) as on PostgreSQL (the second UPDATE re-reads the
    committed row).
    """

    def __init__(
        self, *, connection_id: int, share: int, lease_seconds: float, max_wait_seconds: float = 600.0
    ) -> None:
        self.connection_id = connection_id
        self.share = max(1, share)
        self.lease = timedelta(seconds=lease_seconds)
        self.max_wait_seconds = max_wait_seconds
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
        return RequestSlot.objects.filter(connection_id=self.connection_id, holder=token).update(
            expires_at=timezone.now() + self.lease
        )

    def release_holder(self, token: str) -> None:
        RequestSlot.objects.filter(connection_id=self.connection_id, holder=token).update(holder="", expires_at=None)
