"""Pulling customers from NetSuite by lastmodifieddate watermark, keyset-paged, a few statements per page."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from customers.models import ExternalSystem, SyncLog

from ...client import AuthError, NetSuiteClient
from ...limiter import slots_for_run
from ...models import NetSuiteConnection
from ..common import client_for
from ..connection import connection_failed, connection_recovered
from ..threads import prefetch_pages
from .apply import _PullApplier
from .query import PULL_OVERLAP, PULL_PAGE_SIZE, pull_query
from .report import PullReport


def customers_pull(
    *,
    connection: NetSuiteConnection,
    since: datetime | None = None,
    trigger: str = SyncLog.Trigger.SCHEDULED,
    user=None,
    progress=None,
    client: NetSuiteClient | None = None,
    full: bool = False,
) -> PullReport:
    """Pull customers changed in NetSuite since the watermark (all of them the first time), page by page.

    The position is saved with each page, in the same transaction, so a pull that is stopped resumes
    where it was; the watermark moves only when a pull completes. NetSuite refusing the login stops the pull
    and puts the connection (once) in the Failed Record Queue.
    """
    try:
        if client is None:
            # One slot leased for the whole pull: the prefetching thread's requests never wait behind the
            # page writes for a slot row (SQLite has one writer at a time).
            with slots_for_run(connection=connection, wanted=1) as limiter:
                client = client_for(connection=connection, limiter=limiter)
                report = _pull(connection, since, trigger, user, progress, client, full)
        else:
            report = _pull(connection, since, trigger, user, progress, client, full)
    except AuthError as exc:
        connection_failed(connection=connection, error=exc, trigger=trigger, user=user)
        raise
    connection_recovered(connection=connection)
    return report


def _pull(connection, since, trigger, user, progress, client: NetSuiteClient, full: bool) -> PullReport:
    tz = ZoneInfo(connection.time_zone or "UTC")
    now = timezone.now()
    if since is not None or full:
        run_since, after_id, started_at = since, None, now
    elif connection.pull_cursor_started_at is not None:
        run_since, after_id = connection.pull_cursor_since, connection.pull_cursor_last_id
        started_at = connection.pull_cursor_started_at
    else:
        run_since, after_id, started_at = connection.pull_watermark, None, now
    NetSuiteConnection.objects.filter(pk=connection.pk).update(
        pull_cursor_since=run_since, pull_cursor_last_id=after_id, pull_cursor_started_at=started_at
    )
    build = pull_query(since=run_since, subsidiary_ids=connection.subsidiary_ids, tz=tz)
    applier = _PullApplier(connection=connection, trigger=trigger, user=user, tz=tz)
    report = applier.report
    first = True
    for page in prefetch_pages(client.suiteql_keyset(build, after_id=after_id, limit=PULL_PAGE_SIZE)):
        if first and progress is not None and page.total is not None:
            progress.set_total(page.total)
        first = False
        if not page.items:
            continue
        with transaction.atomic():
            failed_before = report.failed
            applier.apply(page.items)
            last_id = int(page.items[-1]["id"])
            NetSuiteConnection.objects.filter(pk=connection.pk).update(pull_cursor_last_id=last_id)
        report.pages += 1
        if progress is not None:
            progress.advance(len(page.items), failed=report.failed - failed_before)

    completed_at = timezone.now()
    watermark = started_at - PULL_OVERLAP
    with transaction.atomic():
        NetSuiteConnection.objects.filter(pk=connection.pk).update(
            pull_watermark=watermark,
            pull_cursor_since=None,
            pull_cursor_last_id=None,
            pull_cursor_started_at=None,
            last_pull_completed_at=completed_at,
        )
        if run_since is None:
            # A complete pull of every customer: pushes may now run without creating duplicates.
            opened = ExternalSystem.objects.filter(
                pk=connection.external_system_id, historical_import_completed_at=None
            ).update(historical_import_completed_at=completed_at)
            if opened:
                # The first one: send the customers waiting for it now rather than at the next scheduled run.
                transaction.on_commit(partial(_enqueue_first_push, connection.pk))
    connection.pull_watermark = watermark
    connection.pull_cursor_since = connection.pull_cursor_last_id = connection.pull_cursor_started_at = None
    connection.last_pull_completed_at = completed_at
    report.completed = True
    if progress is not None:
        progress.note(report.summary())
    return report


def _enqueue_first_push(connection_id: int) -> None:
    from django_q.tasks import async_task

    async_task(
        "netsuite.tasks.push_customers",
        connection_id=connection_id,
        task_name="NetSuite push after the first complete pull",
    )
