"""Event-driven push: changed customers are marked pending and pushed by a queued task."""

from __future__ import annotations

from collections.abc import Iterable

from customers.dispatch import sync_refusal
from customers.models import (
    CustomerSync,
    ExternalSystem,
    SyncLog,
)

from .. import selectors
from .push import customers_push


def customers_mark_changed(*, customer_pks: Iterable[int]) -> int:
    """Put synced REST links of changed customers back to pending, so a missed event is caught by the schedule."""
    return CustomerSync.objects.filter(
        customer_id__in=list(customer_pks),
        enabled=True,
        status__in=[CustomerSync.Status.SYNCED, CustomerSync.Status.ERROR],
        external_system__netsuite_connection__is_active=True,
        external_system__transport=ExternalSystem.Transport.REST,
    ).update(status=CustomerSync.Status.PENDING)


def customers_enqueue_push(*, customer_pks: Iterable[int]) -> str | None:
    """Queue an event-driven push of these customers on the django-q2 cluster; return the task ID."""
    pks = sorted(set(customer_pks))
    if not pks or not selectors.connections_active().filter(push_on_change=True).exists():
        return None
    customers_mark_changed(customer_pks=pks)
    from django_q.tasks import async_task

    return async_task(
        "netsuite.tasks.push_changed_customers", customer_pks=pks, task_name=f"NetSuite push of {len(pks)} changed"
    )


def customers_push_changed(*, customer_pks: Iterable[int], trigger: str = SyncLog.Trigger.EVENT) -> str:
    """Send changed customers to every connection that pushes on change; quiet until the first pull is done."""
    pks = list(customer_pks)
    lines = []
    for connection in selectors.connections_active().filter(push_on_change=True):
        refusal = sync_refusal(external_system=connection.external_system)
        if refusal is not None:
            lines.append(refusal.message)
            continue
        linked = list(
            CustomerSync.objects.filter(
                external_system=connection.external_system, customer_id__in=pks, enabled=True
            ).values_list("customer_id", flat=True)
        )
        if linked:
            report = customers_push(connection=connection, customer_pks=linked, trigger=trigger)
            lines.append(f"{connection.external_system.name}: {report.summary()}")
    return " ".join(lines) or "Nothing to push."
