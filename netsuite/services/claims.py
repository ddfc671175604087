"""Which push worker sends which customer: claims, so that any number of workers share one pending set.

A worker claims the customers it is about to send (a ``PushClaim`` row each, unique per connection and customer)
and releases them when their results are recorded. Claiming the next pending customers locks their sync rows
(PostgreSQL: ``FOR UPDATE SKIP LOCKED``, as the SFTP export claims, so a concurrent worker takes the next ones
instead of waiting; SQLite: the IMMEDIATE transaction serialises writers) and leaves out those already claimed,
those attempted since the push began (so a failure is met once per push, whichever worker met it), and
sub-customers whose parent another worker is sending. A claim expires if its worker dies; a worker renews its own
while it works. Customers in a batch not yet read are claimed by the batch, without expiry, until they are.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from customers.models import CustomerSync
from integration_portal.bulk import insert_rows

from .. import selectors
from ..models import NetSuiteConnection, PushClaim


def claim_seconds() -> float:
    """How long a claim lasts unrenewed (a worker that died frees its customers after this)."""
    return float(getattr(settings, "NETSUITE_CLAIM_SECONDS", 120))


class Claims:
    """The claims of one push worker on one connection."""

    RENEW_EVERY = 30.0

    def __init__(self, *, connection: NetSuiteConnection) -> None:
        self.connection = connection
        self.token = uuid.uuid4().hex
        self.held: set[int] = set()
        self._renewed = time.monotonic()

    def _expiry(self) -> datetime:
        return timezone.now() + timedelta(seconds=claim_seconds())

    def _insert(self, pks: Iterable[int]) -> set[int]:
        """Claim those of ``pks`` nobody holds (taking over expired claims); return the ones claimed now."""
        pks = [pk for pk in dict.fromkeys(pks) if pk not in self.held]
        if not pks:
            return set()
        now = timezone.now()
        mine = PushClaim.objects.filter(connection=self.connection, customer_id__in=pks)
        mine.filter(expires_at__lt=now).delete()
        expiry = self._expiry()
        insert_rows(
            PushClaim,
            ("connection_id", "customer_id", "holder", "expires_at"),
            [(self.connection.pk, pk, self.token, expiry) for pk in pks],
            on_conflict_ignore=True,
        )
        got = set(mine.filter(holder=self.token).values_list("customer_id", flat=True))
        self.held |= got
        return got

    def claim_given(self, pks: Iterable[int]) -> set[int]:
        """Claim these customers, as far as no other worker holds them; return the ones this worker holds."""
        wanted = list(pks)
        with transaction.atomic():
            self._insert(wanted)
        return self.held & set(wanted)

    def claim_due(self, *, cutoff: datetime, limit: int) -> list[int]:
        """Claim up to ``limit`` customers the push should send, oldest change first (parents before children)."""
        now = timezone.now()
        # Claims a dead worker left on customers nobody will claim again (they failed, or were sent).
        PushClaim.objects.filter(connection=self.connection, expires_at__lt=now).delete()
        claimed_by_others = PushClaim.objects.filter(connection=self.connection).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gte=now)
        )
        due = (
            selectors.pushes_due(connection=self.connection)
            .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=cutoff))
            .exclude(Exists(claimed_by_others.filter(customer_id=OuterRef("customer_id"))))
            .exclude(Exists(claimed_by_others.filter(customer_id=OuterRef("customer__parent_id"))))
            .order_by(F("customer__parent_id").asc(nulls_first=True), "customer__modified_at", "customer_id")
        )
        with transaction.atomic():
            rows = list(
                due.select_for_update(skip_locked=True, of=("self",)).values_list("customer_id", flat=True)[:limit]
            )
            got = self._insert(rows)
        return [pk for pk in rows if pk in got]

    def renew(self, *, force: bool = False) -> None:
        """Extend this worker's claims (at most every RENEW_EVERY seconds unless forced)."""
        if not self.held or (not force and time.monotonic() - self._renewed < self.RENEW_EVERY):
            return
        self._renewed = time.monotonic()
        PushClaim.objects.filter(connection=self.connection, holder=self.token).update(expires_at=self._expiry())

    def hand_to_batch(self, pks: Iterable[int], key: str) -> None:
        """Give these customers' claims to a batch: held without expiry until its results are read."""
        pks = list(pks)
        PushClaim.objects.filter(connection=self.connection, holder=self.token, customer_id__in=pks).update(
            holder=key, expires_at=None
        )
        self.held -= set(pks)

    def release(self, pks: Iterable[int] | None = None) -> None:
        """Give back this worker's claims on these customers (all of them when None)."""
        claims = PushClaim.objects.filter(connection=self.connection, holder=self.token)
        if pks is None:
            claims.delete()
            self.held.clear()
            return
        pks = list(pks)
        claims.filter(customer_id__in=pks).delete()
        self.held -= set(pks)


def release_batch_claims(*, connection: NetSuiteConnection, key: str) -> None:
    """Free the customers of a batch whose results have been read."""
    PushClaim.objects.filter(connection=connection, holder=key).delete()


def attempted_since(*, connection: NetSuiteConnection, customer_pks: list[int], since: datetime) -> dict[int, str]:
    """Map those of the customers attempted (and failed) since ``since`` to their last error message."""
    return dict(
        CustomerSync.objects.filter(
            external_system=connection.external_system,
            customer_id__in=customer_pks,
            last_attempt_at__gte=since,
            status=CustomerSync.Status.ERROR,
        ).values_list("customer_id", "last_error_message")
    )


def work_left(*, connection: NetSuiteConnection, since: datetime) -> bool:
    """Tell whether a push worker would find anything to do: customers to claim, or batches nobody owns."""
    from ..models import BatchJob

    now = timezone.now()
    orphans = BatchJob.objects.filter(connection=connection).filter(
        Q(owner="") | Q(owner_until__lt=now) | Q(owner_until__isnull=True)
    )
    if orphans.exists():
        return True
    claimed = PushClaim.objects.filter(connection=connection, customer_id=OuterRef("customer_id")).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gte=now)
    )
    return (
        selectors.pushes_due(connection=connection)
        .exclude(last_attempt_at__gte=since)
        .exclude(Exists(claimed))
        .exists()
    )
