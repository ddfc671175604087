"""Email digests of new failures: operators are told without watching the queue.

Each subscriber gets, at most once per run of the digest job, one email listing the failures first seen since
their last digest (for the connectors they chose), grouped by problem, with links to the queue filtered to them.
A run with nothing new sends nothing. ``covered_until`` moves in the same transaction that sends, with the row
locked (SKIP LOCKED: two runs never mail the same subscriber twice); a crash between sending and committing sends
that digest again rather than losing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from customers.errors import ErrorCode
from customers.models import ExternalSystem, SyncFailure

from .models import AlertSubscription

DIGEST_JOB = "send_failure_digests"
EXAMPLES_PER_GROUP = 5


def alert_subscription_for(*, user) -> AlertSubscription | None:
    return AlertSubscription.objects.filter(user=user).prefetch_related("connectors").first()


def alert_subscription_save(*, user, is_active: bool, connectors: list[ExternalSystem]) -> AlertSubscription:
    """Create or change the user's subscription; a new one covers only failures from now on."""
    subscription, _ = AlertSubscription.objects.get_or_create(user=user, defaults={"covered_until": timezone.now()})
    subscription.is_active = is_active
    subscription.save(update_fields=["is_active"])
    subscription.connectors.set(connectors)
    return subscription


@dataclass
class DigestGroup:
    system: ExternalSystem
    record_type: str
    code: str
    count: int
    examples: list[SyncFailure]
    url: str

    @property
    def title(self) -> str:
        return ErrorCode.coerce(self.code).title


def queue_url(**params) -> str:
    base = settings.PORTAL_BASE_URL.rstrip("/")
    return f"{base}{reverse('admin:console_failedrecord_changelist')}?{urlencode(params)}"


def digest_groups(*, since: datetime, until: datetime, system_ids: list[int]) -> list[DigestGroup]:
    """New failures first seen in (since, until], by connector, record type and code, the largest group first."""
    new = SyncFailure.objects.filter(first_seen_at__gt=since, first_seen_at__lte=until)
    if system_ids:
        new = new.filter(external_system_id__in=system_ids)
    rows = (
        new.values_list("external_system_id", "record_type", "error_code")
        .annotate(n=Count("id"))
        .order_by("-n", "error_code")
    )
    systems = ExternalSystem.objects.in_bulk({r[0] for r in rows})
    groups = []
    for system_id, record_type, code, count in rows:
        examples = list(
            new.filter(external_system_id=system_id, record_type=record_type, error_code=code).order_by("pk")[
                :EXAMPLES_PER_GROUP
            ]
        )
        url = queue_url(
            state="all",
            external_system__id__exact=system_id,
            record_type__exact=record_type,
            error_code=code,
            first_seen_at__gte=since.isoformat(),
        )
        groups.append(DigestGroup(systems[system_id], record_type, code, count, examples, url))
    return groups


def digest_send(subscription: AlertSubscription, *, now: datetime) -> int:
    """Mail the subscriber the failures new since their last digest; return how many were in it (0: no email)."""
    system_ids = [s.pk for s in subscription.connectors.all()]
    groups = digest_groups(since=subscription.covered_until, until=now, system_ids=system_ids)
    total = sum(g.count for g in groups)
    if total:
        context = {
            "user": subscription.user,
            "groups": groups,
            "total": total,
            "since": subscription.covered_until,
            "all_url": queue_url(state="all", first_seen_at__gte=subscription.covered_until.isoformat()),
            "settings_url": settings.PORTAL_BASE_URL.rstrip("/") + reverse("admin:console_alerts"),
        }
        subject = f"[Customer sync portal] {total} new failure{'s' if total != 1 else ''}"
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("console/email/digest.txt", context),
            to=[subscription.user.email],
        )
        message.attach_alternative(render_to_string("console/email/digest.html", context), "text/html")
        message.send()
        subscription.last_sent_at = now
    subscription.covered_until = now
    subscription.save(update_fields=["covered_until", "last_sent_at"])
    return total


def digests_send(*, progress=None) -> tuple[int, int]:
    """Send every active subscriber with an email address their digest; return (emails sent, failures told)."""
    now = timezone.now()
    candidates = list(
        AlertSubscription.objects.filter(is_active=True).exclude(user__email="").values_list("pk", flat=True)
    )
    if progress is not None:
        progress.set_total(len(candidates))
    sent = told = 0
    for pk in candidates:
        with transaction.atomic():
            locked = AlertSubscription.objects.filter(pk=pk, is_active=True)
            if connection.features.has_select_for_update_skip_locked:
                locked = locked.select_for_update(skip_locked=True)
            subscription = locked.select_related("user").first()
            if subscription is None:
                continue  # another run has it now
            count = digest_send(subscription, now=now)
        sent += bool(count)
        told += count
        if progress is not None:
            progress.advance(1)
    return sent, told
