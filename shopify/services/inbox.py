"""The webhook inbox: verify and keep each delivery, acknowledge it at once, apply it on the cluster exactly once.

Receiving (the web request, well inside Shopify's 5 seconds, shopify.dev/docs/apps/build/webhooks): the shop is
the X-Shopify-Shop-Domain header; the HMAC of the raw body is checked by Shopify's own ``shopifyapp`` package
against the connection's client secret and, during a rotation, the previous one (Shopify may go on signing with
the old secret for up to an hour: shopify.dev/docs/apps/build/webhooks/verify-deliveries). A delivery that
fails is answered 401 and nothing is kept. A verified one is stored under (shop, topic, X-Shopify-Event-Id): the
event ID is the same for every delivery of one event (shopify.dev/docs/apps/build/webhooks/ignore-duplicates), and
the topic keeps apart deliveries of several topics that one merchant action may share it among. A duplicate is
answered 200 and not stored again. Once the row is committed, a task draining the shop's inbox is queued, unless
one is queued or running already (``ShopifyConnection.inbox_queued_at``; see ``inbox_drain``): a burst of deliveries
costs a few tasks, not one each, and one drain per shop runs at a time.

Processing (the drain task, or the sweep for what a lost task left waiting): the waiting entries are taken in
batches (``BATCH``, locked with SKIP LOCKED, so two drains share them); in ONE transaction a batch's objects are
applied together (``shopify_objects_apply``, as reconciliation applies its lines) and each entry is marked with
its own outcome. A batch that fails as a whole is applied again entry by entry, each in its own savepoint, so one
bad entry cannot hold the others back. A worker killed halfway rolls the batch back and its entries wait for the
next attempt, so each event takes effect exactly once. An entry the portal cannot read is kept with its reason,
never dropped, and shows in the Failed Record Queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from shopify_app import verify_webhook_req

from customers.models import SyncLog
from customers.services import Attempt, attempts_record
from integration_portal.bulk import update_objects

from ..mapping import BULK_FINISH_TOPIC, TOPICS, UnreadablePayload, objects_from_webhook, parse_time, record_label
from ..models import InboxEvent, ShopifyConnection
from .apply import APPLY_FAILED, UNREADABLE, ApplyResult, shopify_objects_apply

logger = logging.getLogger(__name__)

# Entries applied together in one transaction.
BATCH = 200
# When deliveries came in while a batch short of BATCH was applied, the drain waits this long before the next: during
# a burst the entries arriving meanwhile are applied together (a batch costs about 20 ms plus 0.7 ms an entry on
# PostgreSQL), which leaves the CPUs to the web server acknowledging the burst. Without the wait the drain ran batch
# after batch of a few entries and the acknowledgement p99 was about 120 ms; 0.2 s gave 21-36 ms in 5 runs of 6, and
# 0.5 s fewer but longer stalls (26-100 ms) (bench/shopify_webhooks.py ack, bench/RESULTS.md). An entry waits at most
# this much longer; a lone delivery is applied at once.
LINGER_SECONDS = 0.2
# A drain queued this long ago and not started yet is taken for lost (a cluster killed with it): the next delivery
# queues another. So a lost task delays the inbox this long at most.
QUEUED_TRUST = timedelta(seconds=60)

OPERATION = "shopify webhook"
RECORD_TYPES = {
    "customer": SyncLog.RecordType.CUSTOMER,
    "company": SyncLog.RecordType.COMPANY,
    "location": SyncLog.RecordType.COMPANY,
    "contact": SyncLog.RecordType.CONTACT,
}


@dataclass(frozen=True)
class Receipt:
    """The answer to a webhook delivery."""

    status: int
    message: str
    event: InboxEvent | None = None
    duplicate: bool = False


def _header(headers: Mapping[str, str], name: str) -> str:
    return (headers.get(name) or "").strip()


def webhook_receive(*, headers: Mapping[str, str], body: bytes, url: str = "") -> Receipt:
    """Verify a delivery and keep it in the inbox; queue its processing after commit."""
    shop = _header(headers, "X-Shopify-Shop-Domain").lower()
    connection = ShopifyConnection.objects.filter(shop_domain=shop, is_active=True).first() if shop else None
    if connection is None or not connection.client_secret:
        return Receipt(401, "Unknown shop, or no client secret is set for it.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # The package signs text; Shopify's payloads are UTF-8 JSON, so a body that is not cannot be Shopify's.
        return Receipt(401, "The body is not UTF-8, so its signature cannot be checked.")
    verdict = verify_webhook_req(
        {"method": "POST", "headers": dict(headers), "url": url, "body": text},
        {
            "client_id": connection.shop_domain,
            "client_secret": connection.client_secret,
            "old_client_secret": connection.previous_client_secret or None,
        },
    )
    if not verdict.ok:
        # Whatever the package's reason (no header, wrong HMAC), the delivery is not Shopify's: 401, nothing kept.
        return Receipt(401, "Unauthorized")
    # Deliveries older than the Event-Id header have none; their Webhook-Id is unique per delivery instead.
    event_id = _header(headers, "X-Shopify-Event-Id") or _header(headers, "X-Shopify-Webhook-Id")
    if not event_id:
        return Receipt(400, "The delivery has neither X-Shopify-Event-Id nor X-Shopify-Webhook-Id.")
    try:
        with transaction.atomic():
            event = InboxEvent.objects.create(
                connection=connection,
                event_id=event_id[:100],
                topic=_header(headers, "X-Shopify-Topic")[:100],
                webhook_id=_header(headers, "X-Shopify-Webhook-Id")[:100],
                api_version=_header(headers, "X-Shopify-API-Version")[:20],
                triggered_at=parse_time(_header(headers, "X-Shopify-Triggered-At")),
                body=text,
            )
            transaction.on_commit(lambda: inbox_enqueue(connection_pk=connection.pk))
    except IntegrityError:
        return Receipt(200, "Duplicate of an event received already; ignored.", duplicate=True)
    return Receipt(200, "Received.", event=event)


def inbox_enqueue(*, connection_pk: int) -> str | None:
    """Queue a task draining the shop's inbox on the django-q2 cluster, unless one is queued already."""
    from django_q.tasks import async_task

    now = timezone.now()
    queued = ShopifyConnection.objects.filter(pk=connection_pk).filter(
        Q(inbox_queued_at__isnull=True) | Q(inbox_queued_at__lt=now - QUEUED_TRUST)
    )
    if not queued.update(inbox_queued_at=now):
        return None  # a drain is queued and has not started: it takes this entry too
    try:
        return async_task(
            "shopify.tasks.process_inbox", connection_pk=connection_pk, task_name=f"Shopify inbox {connection_pk}"
        )
    except Exception:  # the broker is down: the entries are kept, and the next delivery or the sweep takes them
        ShopifyConnection.objects.filter(pk=connection_pk).update(inbox_queued_at=None)
        logger.exception(
            "Could not queue the Shopify inbox of connection %s; the sweep will process it.", connection_pk
        )
        return None


def inbox_drain(*, connection_pk: int) -> int:
    """Apply the shop's waiting inbox entries, batch by batch, until none is left; return how many.

    One drain per shop at a time (a burst leaves the other CPU to the web server acknowledging it): the drain keeps
    ``inbox_queued_at`` fresh while it works, so deliveries meanwhile queue nothing; once the inbox looks empty it
    clears the mark, looks again, and takes the mark back for what came in between (unless a delivery took it and
    queued the next drain). A drain killed halfway leaves the mark to age: after QUEUED_TRUST the next delivery
    queues another, and the sweep takes what waits longer.
    """
    rows = ShopifyConnection.objects.filter(pk=connection_pk)
    waiting = InboxEvent.objects.filter(connection_id=connection_pk, status=InboxEvent.Status.RECEIVED)
    done = 0
    while True:
        while taken := inbox_process_batch(connection_pk=connection_pk):
            done += len(taken)
            rows.update(inbox_queued_at=timezone.now())
            if len(taken) < BATCH and waiting.exists():
                time.sleep(LINGER_SECONDS)  # deliveries keep coming: let the next batch fill up
        rows.update(inbox_queued_at=None)
        if not waiting.exists() or not rows.filter(inbox_queued_at__isnull=True).update(inbox_queued_at=timezone.now()):
            return done


Outcome = tuple[str, str, str, ApplyResult | None, list]


def _key(obj) -> tuple[str, str]:
    return obj.kind, obj.shopify_id


STALE_REASON = "The portal holds a newer change of this object already (Shopify's updated_at): nothing to do."


def _not_applied(event: InboxEvent) -> Outcome | list:
    """The entry's objects to apply, or its outcome when there is nothing to apply (ignored, unreadable)."""
    if event.topic == BULK_FINISH_TOPIC:
        return (
            InboxEvent.Status.IGNORED,
            "Reconciliation polls its bulk operation; this notice needs nothing.",
            "",
            None,
            [],
        )
    if event.topic not in TOPICS:
        return (
            InboxEvent.Status.IGNORED,
            f"The portal does not use {event.topic or 'this'} webhooks; unsubscribe from the topic in Shopify.",
            "",
            None,
            [],
        )
    try:
        objects = objects_from_webhook(event.topic, event.body, triggered_at=event.triggered_at)
    except UnreadablePayload as exc:
        reason = (
            f"The {event.topic} payload cannot be read: {exc} It is kept here; correct it in Shopify (the next "
            "change or a reconciliation brings the object), or ask the team to look at the payload."
        )
        return InboxEvent.Status.UNREADABLE, reason, UNREADABLE, None, []
    event.record = ", ".join(record_label(o.kind, o.shopify_id) for o in objects)[:120]
    return objects


def _outcomes(events: list[InboxEvent]) -> list[Outcome]:
    """Apply the entries' objects together; return each entry's own outcome."""
    plans = [_not_applied(event) for event in events]
    objects = [obj for plan in plans if isinstance(plan, list) for obj in plan]
    result = shopify_objects_apply(connection=events[0].connection, objects=objects) if objects else ApplyResult()
    # An entry's object took effect when the version applied is its own (a later entry of the batch may hold a newer
    # one, or an embedded copy of the same change may be the one applied).
    applied = {(_key(o), o.updated_at, o.deleted) for o in result.applied}
    failed: dict[tuple[str, str], list] = {}
    for failure in result.failures:
        failed.setdefault(_key(failure.obj), []).append(failure)
    outcomes: list[Outcome] = []
    for plan in plans:
        if not isinstance(plan, list):
            outcomes.append(plan)
            continue
        own_failures = [f for obj in plan for f in failed.get(_key(obj), [])]
        own = ApplyResult(
            applied=[o for o in plan if (_key(o), o.updated_at, o.deleted) in applied], failures=own_failures
        )
        if own_failures:
            reason = " ".join(f.message for f in own_failures)
            outcomes.append((InboxEvent.Status.FAILED, reason, own_failures[0].code, own, own_failures))
        elif own.applied:
            outcomes.append((InboxEvent.Status.APPLIED, "", "", own, []))
        else:
            outcomes.append((InboxEvent.Status.STALE, STALE_REASON, "", own, []))
    return outcomes


def _outcome_alone(event: InboxEvent) -> Outcome:
    """Apply one entry in a savepoint of its own; an unexpected error is its outcome, not the batch's."""
    try:
        with transaction.atomic():
            return _outcomes([event])[0]
    except Exception as exc:
        logger.exception("Applying Shopify inbox entry %s failed", event.pk)
        return (
            InboxEvent.Status.FAILED,
            f"Applying it failed ({type(exc).__name__}: {exc}). Process it again from the inbox; if it fails again, "
            "ask the team.",
            APPLY_FAILED,
            None,
            [],
        )


def inbox_process_batch(*, connection_pk: int | None = None, pks: list[int] | None = None) -> list[InboxEvent]:
    """Apply up to BATCH waiting entries (of the connection, or those given) in one transaction, each marked with
    its own outcome; return them (none: nothing was waiting, or other workers hold what is)."""
    with transaction.atomic():
        waiting = (
            InboxEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("connection")
            .filter(status=InboxEvent.Status.RECEIVED)
        )
        if connection_pk is not None:
            waiting = waiting.filter(connection_id=connection_pk)
        if pks is not None:
            waiting = waiting.filter(pk__in=pks)
        events = list(waiting.order_by("pk")[:BATCH])
        by_shop: dict[int, list[InboxEvent]] = {}
        for event in events:
            by_shop.setdefault(event.connection_id, []).append(event)
        for batch in by_shop.values():
            try:
                with transaction.atomic():
                    outcomes = _outcomes(batch)
            except Exception:
                logger.warning("Applying %s Shopify inbox entries together failed; applying them one by one",
                               len(batch), exc_info=True)  # fmt: skip
                outcomes = [_outcome_alone(event) for event in batch]
            _finish(batch, outcomes)
    return events


def _finish(events: list[InboxEvent], outcomes: list[Outcome]) -> None:
    """Mark the entries with their outcomes and record what they came to, set-based (in entry order: the last
    attempt on a record decides)."""
    now = timezone.now()
    attempts: list[Attempt] = []
    for event, (status, reason, code, result, failures) in zip(events, outcomes, strict=True):
        event.status, event.reason, event.error_code = status, reason, code
        event.attempts += 1
        event.processed_at = now
        attempts += _attempts(event, result, failures)
    update_objects(events, ["status", "reason", "error_code", "record", "attempts", "processed_at"])
    attempts_record(attempts, now=now)


def inbox_process(*, event_pk: int) -> str:
    """Apply one waiting inbox entry and mark it done in the same transaction; say what came of it."""
    done = inbox_process_batch(pks=[event_pk])
    if not done:
        return f"Inbox entry {event_pk} is done already or being processed."
    event = done[0]
    return f"{event.topic} {event.event_id}: {event.get_status_display()}."


def _attempts(event: InboxEvent, result: ApplyResult | None, failures: list) -> list[Attempt]:
    """Failures go to the Failed Record Queue under the shop's system; objects applied resolve theirs."""
    system = event.connection.source_system_id
    attempts = [
        Attempt(
            system, RECORD_TYPES[f.obj.kind], record_label(f.obj.kind, f.obj.shopify_id), ok=False, code=f.code,
            message=f.message, trigger=SyncLog.Trigger.EVENT, operation=OPERATION,
        )
        for f in failures
    ]  # fmt: skip
    if event.status in (InboxEvent.Status.UNREADABLE, InboxEvent.Status.FAILED) and not attempts:
        attempts.append(
            Attempt(
                system,
                RECORD_TYPES.get(TOPICS.get(event.topic, ("customer",))[0], SyncLog.RecordType.CUSTOMER),
                event.record or f"Shopify {event.topic} event {event.event_id}",
                ok=False,
                code=event.error_code,
                message=event.reason,
                trigger=SyncLog.Trigger.EVENT,
                operation=OPERATION,
            )
        )
    return attempts + applied_attempts(system, result.applied if result is not None else ())


def applied_attempts(system_id: int, objects) -> list[Attempt]:
    """Successes (not logged: the customers' own changes are) that resolve the objects' open intake failures."""
    return [
        Attempt(system_id, RECORD_TYPES[o.kind], record_label(o.kind, o.shopify_id), ok=True, log=False)
        for o in objects
    ]


def inbox_retry(*, events) -> int:
    """Put unreadable or failed entries back to waiting and queue them (an operator's "Process again")."""
    pks = list(
        InboxEvent.objects.filter(
            pk__in=[e.pk for e in events], status__in=[InboxEvent.Status.UNREADABLE, InboxEvent.Status.FAILED]
        ).values_list("pk", flat=True)
    )
    InboxEvent.objects.filter(pk__in=pks).update(status=InboxEvent.Status.RECEIVED)
    for shop in set(InboxEvent.objects.filter(pk__in=pks).values_list("connection_id", flat=True)):
        transaction.on_commit(lambda shop=shop: inbox_enqueue(connection_pk=shop))
    return len(pks)


def sweep_after() -> timedelta:
    """How long an entry waits before the sweep takes it (its queued task was lost or its worker died)."""
    return timedelta(seconds=settings.SHOPIFY_SWEEP_AFTER_SECONDS)


def inbox_sweep(*, older_than: timedelta | None = None, limit: int = 5000, progress=None) -> int:
    """Process entries still waiting after ``older_than`` (default: ``sweep_after()``); oldest first."""
    older_than = sweep_after() if older_than is None else older_than
    waiting = list(
        InboxEvent.objects.filter(status=InboxEvent.Status.RECEIVED, received_at__lt=timezone.now() - older_than)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if progress is not None:
        progress.set_total(len(waiting))
    for start in range(0, len(waiting), BATCH):
        chunk = waiting[start : start + BATCH]
        inbox_process_batch(pks=chunk)
        if progress is not None:
            progress.advance(len(chunk))
    return len(waiting)
