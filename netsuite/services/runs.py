"""A scheduled or on-demand push of a connection: one push at a time, which other workers join, never double.

The first worker takes the push's job lock (``jobs.locks``) and notes when the push began; a worker that finds the
lock taken joins that push instead of starting another. Every worker then claims the pending customers chunk by
chunk (``claims``) and sends what it claimed, so N workers share one pending set: each customer is sent by one of
them, and a customer attempted since the push began is not attempted again by any of them, so each problem is met
and logged once per push. A worker waits for a request slot before it claims anything, and stops waiting once
nothing is left to claim.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from datetime import datetime

from django.db.models import Max, Q
from django.utils import timezone

from customers.dispatch import sync_refusal
from jobs.locks import job_lock
from jobs.services import JobRefused

from .. import selectors
from ..limiter import slots_for_run
from ..models import BatchJob, NetSuiteConnection, PushClaim
from .claims import Claims, work_left
from .common import client_for
from .push import PushReport, customers_push

PUSH_LOCK = "netsuite-push"
# Customers claimed at a time: per-record pushes, and bulk loads (50 batches of 100 in flight at once).
CLAIM_CHUNK = 2000
BULK_CHUNK = 5000


def customers_push_scheduled(*, connection: NetSuiteConnection, trigger: str, user=None, progress=None) -> PushReport:
    """Send the pending and changed customers of the connection; refuse as every way of sending does (dispatch's
    guards); join a push of the connection that is already running rather than start a second one."""
    refusal = sync_refusal(external_system=connection.external_system)
    if refusal is not None:
        raise JobRefused(refusal.message)
    with job_lock(PUSH_LOCK, connection.pk) as leader:
        rows = NetSuiteConnection.objects.filter(pk=connection.pk)
        if leader:
            since = timezone.now()
            rows.update(push_started_at=since)
        else:
            since = rows.values_list("push_started_at", flat=True).first() or timezone.now()
        try:
            report = _push_pass(connection=connection, since=since, trigger=trigger, user=user, progress=progress)
        finally:
            if leader:
                rows.update(push_started_at=None)
    if not leader:
        report.notes.insert(
            0,
            f"Joined the push of {connection.external_system.name} already running since "
            f"{timezone.localtime(since):%H:%M:%S}; this worker sent the customers that push had not claimed.",
        )
    if progress is not None:
        progress.note(report.summary())
    return report


def _push_pass(*, connection: NetSuiteConnection, since, trigger: str, user, progress) -> PushReport:
    due = selectors.pushes_due(connection=connection).exclude(last_attempt_at__gte=since).count()
    if progress is not None:
        progress.set_total(due)
    bulk = bool(connection.batch_threshold) and due > connection.batch_threshold
    claims = Claims(connection=connection)
    report = PushReport()
    with slots_for_run(
        connection=connection, keep_waiting=lambda: work_left(connection=connection, since=since)
    ) as limiter:
        if getattr(limiter, "held", 1) == 0:
            # No slot: every due customer is held elsewhere (right after a killed push, by its claims and batches).
            held = _held_elsewhere(connection=connection, since=since)
            report.notes.append(
                _held_note(*held) if held else "Nothing was left to send: other workers took every pending customer."
            )
            return report
        client = client_for(connection=connection, limiter=limiter)
        first = True
        try:
            while report.stopped is None:
                pks = claims.claim_due(cutoff=since, limit=BULK_CHUNK if bulk else CLAIM_CHUNK)
                if not pks and not first:
                    break
                part = customers_push(
                    connection=connection, customer_pks=pks, trigger=trigger, user=user, progress=progress,
                    client=client, claims=claims, since=since, bulk=bulk, resume_batches=first,
                )  # fmt: skip
                claims.release()
                report.merge(part)
                first = False
                if not pks:
                    break
        finally:
            claims.release()
            client.close()
    held = _held_elsewhere(connection=connection, since=since)
    if held and report.stopped is None:
        report.notes.append(_held_note(*held))
    return report


def _held_note(count: int, until: datetime | None) -> str:
    # The count and the time first: the Jobs page shows the start of a run's message.
    if until is None:
        return (
            f"{count:,} customer(s) due were left out: another push holds them (one running now, or one stopped "
            "without letting go). That push sends them, or the next run after it lets go does."
        )
    return (
        f"{count:,} customer(s) due were left out: another push holds them until {timezone.localtime(until):%H:%M:%S} "
        "(one running now, or one stopped without letting go). That push sends them, or the next run after that time "
        "does."
    )


def _held_elsewhere(*, connection: NetSuiteConnection, since: datetime) -> tuple[int, datetime | None] | None:
    """The due customers another worker's live claims hold, and when the last of those holds ends.

    A customer in a batch whose results are not read yet is claimed by the batch (no expiry): its hold ends when the
    batch's owner lets go of it (``BatchJob.owner_until``), after which the next push reads the batch's results."""
    now = timezone.now()
    live = PushClaim.objects.filter(connection=connection).filter(Q(expires_at__gte=now) | Q(expires_at__isnull=True))
    held = (
        selectors.pushes_due(connection=connection)
        .exclude(last_attempt_at__gte=since)
        .filter(customer_id__in=live.values("customer_id"))
    )
    count = held.count()
    if not count:
        return None
    until = live.aggregate(until=Max("expires_at"))["until"]
    keys = []
    for holder in live.filter(expires_at__isnull=True).values_list("holder", flat=True).distinct():
        with suppress(ValueError):
            keys.append(uuid.UUID(holder))
    if keys:
        batches = BatchJob.objects.filter(connection=connection, idempotency_key__in=keys)
        owned = batches.aggregate(until=Max("owner_until"))["until"]
        until = max(t for t in (until, owned) if t is not None) if until or owned else None
    return count, until
