"""Thin django-q2 tasks: they take IDs, run a service (inside a recorded job run for the jobs), return a summary."""

from __future__ import annotations

from jobs.services import job_run, user_by_id

from . import selectors
from .client import ShopifyError
from .services import inbox_process, inbox_sweep, shopify_reconcile
from .services.inbox import inbox_drain

RECONCILE_JOB = "reconcile_shopify"
SWEEP_JOB = "shopify_inbox_sweep"


def process_inbox(*, connection_pk: int) -> str:
    """Apply the shop's waiting webhook inbox entries (queued by the webhook endpoint after commit)."""
    return f"Applied {inbox_drain(connection_pk=connection_pk)} waiting webhook(s)."


def process_event(*, event_pk: int) -> str:
    """Apply one webhook inbox entry (what the endpoint queued before entries were drained in batches)."""
    return inbox_process(event_pk=event_pk)


def sweep_inbox(*, trigger: str = "scheduled", user_id: int | None = None) -> str:
    """Process inbox entries whose queued task was lost; a run is recorded only when there was something to do."""
    from django.utils import timezone

    from .models import InboxEvent
    from .services.inbox import sweep_after

    waiting = InboxEvent.objects.filter(
        status=InboxEvent.Status.RECEIVED, received_at__lt=timezone.now() - sweep_after()
    ).exists()
    if not waiting and trigger == "scheduled":
        return "Nothing waiting."
    with job_run(job=SWEEP_JOB, trigger=trigger, user=user_by_id(user_id)) as progress:
        done = inbox_sweep(progress=progress)
        progress.note(f"Processed {done} waiting webhook(s).")
    return progress.run.message


def reconcile(*, connection_id: int | None = None, trigger: str = "scheduled", user_id: int | None = None) -> str:
    """Reconcile every active Shopify connection (or the one given) with a bulk operation."""
    user = user_by_id(user_id)
    connections = (
        [selectors.connection_get(connection_id=connection_id)]
        if connection_id is not None
        else list(selectors.connections_active())
    )
    lines = []
    failed: list[ShopifyError] = []
    for connection in connections:
        if not connection.has_credentials:
            lines.append(f"{connection}: skipped, no access token.")
            continue
        try:
            with job_run(job=RECONCILE_JOB, trigger=trigger, user=user) as progress:
                report = shopify_reconcile(connection=connection, trigger=trigger, progress=progress)
        except ShopifyError as exc:
            # Its job run says failed and why; one shop refusing must not keep the other shops from reconciling.
            lines.append(f"{connection}: stopped: {exc.message} [{exc.code}]")
            failed.append(exc)
            continue
        lines.append(f"{connection}: {report.summary()}")
    if failed:
        # The task fails (django-q2 keeps it under Failed tasks) once every shop had its turn.
        raise ShopifyError(failed[0].code, " ".join(lines))
    return " ".join(lines) or "No active Shopify connection."
