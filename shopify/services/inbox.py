"""The webhook inbox: verify and keep each delivery, acknowledge it at once, apply it on the cluster exactly once.

Receiving (the web request, well inside Shopify's 5 seconds, shopify.dev/docs/apps/build/webhooks): the shop is
the X-Shopify-Shop-Domain header; the HMAC of the raw body is checked by Shopify's own ``shopifyapp`` package
against the connection's client secret and, during a rotation, the previous one (Shopify may go on signing with
the old secret for up to an hour: shopify.dev/docs/apps/build/webhooks/verify-deliveries). A delivery that
fails is answered 401 and nothing is kept. A verified one is stored under (shop, X-Shopify-Event-Id), which is the
same for every delivery of one event (shopify.dev/docs/apps/build/webhooks/ignore-duplicates): a duplicate is
answered 200 and not stored again. Its processing is queued once the row is committed.

Processing (a django-q2 task, or the sweep for what a lost task left waiting): in ONE transaction the entry is
locked, its objects applied (``shopify_objects_apply``) and the entry marked done. A worker killed halfway rolls
everything back and the entry waits for the next attempt, so each event takes effect exactly once. An entry the
portal cannot read is kept with its reason, never dropped, and shows in the Failed Record Queue.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from shopify_app import verify_webhook_req

from customers.models import SyncLog
from customers.services import Attempt, attempts_record

from ..mapping import BULK_FINISH_TOPIC, TOPICS, UnreadablePayload, objects_from_webhook, parse_time, record_label
from ..models import InboxEvent, ShopifyConnection
from .apply import APPLY_FAILED, UNREADABLE, ApplyResult, shopify_objects_apply

logger = logging.getLogger(__name__)

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
            transaction.on_commit(lambda: inbox_enqueue(event_pk=event.pk))
    except IntegrityError:
        return Receipt(200, "Duplicate of an event received already; ignored.", duplicate=True)
    return Receipt(200, "Received.", event=event)


def inbox_enqueue(*, event_pk: int) -> str | None:
    """Queue the processing of one inbox entry on the django-q2 cluster."""
    from django_q.tasks import async_task

    try:
        return async_task("shopify.tasks.process_event", event_pk=event_pk, task_name=f"Shopify event {event_pk}")
    except Exception:  # the broker is down: the entry is kept and the sweep takes it
        logger.exception("Could not queue Shopify inbox entry %s; the sweep will process it.", event_pk)
        return None


def _outcome(event: InboxEvent) -> tuple[str, str, str, ApplyResult | None, list]:
    """Apply the entry; return status, reason, error code, the result and what to log as failed."""
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
    result = shopify_objects_apply(connection=event.connection, objects=objects)
    if result.failures:
        reason = " ".join(f.message for f in result.failures)
        return InboxEvent.Status.FAILED, reason, result.failures[0].code, result, result.failures
    if result.applied:
        return InboxEvent.Status.APPLIED, "", "", result, []
    return (
        InboxEvent.Status.STALE,
        "The portal holds a newer change of this object already (Shopify's updated_at): nothing to do.",
        "",
        result,
        [],
    )


def inbox_process(*, event_pk: int) -> str:
    """Apply one waiting inbox entry and mark it done in the same transaction; say what came of it."""
    with transaction.atomic():
        event = (
            InboxEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("connection")
            .filter(pk=event_pk, status=InboxEvent.Status.RECEIVED)
            .first()
        )
        if event is None:
            return f"Inbox entry {event_pk} is done already or being processed."
        try:
            with transaction.atomic():
                status, reason, code, result, failures = _outcome(event)
        except Exception as exc:
            logger.exception("Applying Shopify inbox entry %s failed", event.pk)
            status, reason, code, result, failures = (
                InboxEvent.Status.FAILED,
                f"Applying it failed ({type(exc).__name__}: {exc}). Process it again from the inbox; if it "
                "fails again, ask the team.",
                APPLY_FAILED,
                None,
                [],
            )
        event.status, event.reason, event.error_code = status, reason, code
        event.attempts += 1
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "reason", "error_code", "record", "attempts", "processed_at"])
        _log(event, result, failures)
    return f"{event.topic} {event.event_id}: {event.get_status_display()}."


def _log(event: InboxEvent, result: ApplyResult | None, failures: list) -> None:
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
    attempts += applied_attempts(system, result.applied if result is not None else ())
    attempts_record(attempts)


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
    for pk in pks:
        transaction.on_commit(lambda pk=pk: inbox_enqueue(event_pk=pk))
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
    for pk in waiting:
        inbox_process(event_pk=pk)
        if progress is not None:
            progress.advance(1)
    return len(waiting)
