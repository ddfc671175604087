"""Reads shared by the admin pages and the jobs."""

from __future__ import annotations

from django.db import models
from django.db.models import Q, QuerySet

from .models import Customer, CustomerSync


def customer_syncs_for_display(*, customer: Customer) -> QuerySet[CustomerSync]:
    """Return the customer's sync states with their systems, for the External System tab."""
    return customer.syncs.select_related("external_system").order_by("external_system__name")


def sync_status_label(sync: CustomerSync) -> str:
    """Render one connector's state as the saved search's "External System Sync Status" cell."""
    if not sync.enabled:
        return f"{sync.external_system.name}: not selected"
    text = f"{sync.external_system.name}: {sync.get_status_display()}"
    if sync.status == CustomerSync.Status.ERROR and sync.last_error_message:
        text += f" ({sync.last_error_message[:120]})"
    return text


class SyncBucket(models.TextChoices):
    """Where a customer stands with one connector: every selected customer is in exactly one bucket."""

    SYNCED = "synced", "Synced"
    AWAITING_ID = "awaiting_id", "Awaiting ID"
    PENDING = "pending", "Pending"
    BLOCKED = "blocked", "Blocked by missing data"
    IN_ERROR = "in_error", "In error"


def sync_bucket(*, status: str, is_ready: bool) -> SyncBucket:
    """The bucket of a selected connector's sync state (``is_ready``: the connector has all it needs);
    ``sync_bucket_q`` selects the same rows in SQL."""
    if status == CustomerSync.Status.SYNCED:
        return SyncBucket.SYNCED
    if status == CustomerSync.Status.EXPORTED:
        return SyncBucket.AWAITING_ID
    if not is_ready:
        # Whatever its last attempt said, it cannot go until its data is complete (for this connector).
        return SyncBucket.BLOCKED
    if status == CustomerSync.Status.ERROR:
        return SyncBucket.IN_ERROR
    return SyncBucket.PENDING


_SENT = (CustomerSync.Status.SYNCED, CustomerSync.Status.EXPORTED)
_WAITING = (CustomerSync.Status.PENDING, CustomerSync.Status.NOT_SYNCED)


def sync_bucket_q(bucket: str) -> Q:
    """Select the CustomerSync rows of a bucket (the selected ones only), as ``sync_bucket`` sorts them."""
    where = {
        SyncBucket.SYNCED: Q(status=CustomerSync.Status.SYNCED),
        SyncBucket.AWAITING_ID: Q(status=CustomerSync.Status.EXPORTED),
        SyncBucket.BLOCKED: ~Q(status__in=_SENT) & Q(is_ready=False),
        SyncBucket.IN_ERROR: Q(status=CustomerSync.Status.ERROR, is_ready=True),
        SyncBucket.PENDING: Q(status__in=_WAITING, is_ready=True),
    }[SyncBucket(bucket)]
    return Q(enabled=True) & where
