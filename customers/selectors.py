"""Reads shared by the admin pages and the jobs."""

from __future__ import annotations

from django.db.models import QuerySet

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
