"""Thin django-q2 tasks of the console: they take IDs and run a service inside a recorded job run."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from jobs.services import job_run, user_by_id

from .selectors import COUNT_JOB, RESYNC_GROUP_JOB, FailureGroup
from .services import dashboard_snapshot_take, failed_records_resync

RESYNC_CHUNK = 100


def count_dashboard(*, trigger: str = "scheduled", user_id: int | None = None) -> str:
    """Count the dashboard's customers by sync status and failures per day, and store them for it."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    with job_run(job=COUNT_JOB, trigger=trigger, user=user) as progress:
        snapshot = dashboard_snapshot_take()
        progress.note(f"Counted in {snapshot.took_ms} ms.")
    return progress.run.message


def resync_failure_group(
    *, system_id: int, record_type: str, error_code: str, trigger: str = "on_demand", user_id: int | None = None
) -> str:
    """Resync every open failure of one group, a chunk at a time; each success leaves the queue at once."""
    user = user_by_id(user_id)
    group = FailureGroup.get(system_id=system_id, record_type=record_type, error_code=error_code)
    with job_run(job=RESYNC_GROUP_JOB, external_system=group.external_system, trigger=trigger, user=user) as progress:
        progress.set_total(group.open_count)
        succeeded = failed = 0
        last_pk = 0
        while chunk := list(
            group.open_failures().filter(pk__gt=last_pk).select_related("customer", "external_system")[:RESYNC_CHUNK]
        ):
            last_pk = chunk[-1].pk
            report = failed_records_resync(entries=chunk, user=user)
            succeeded += len(report.succeeded)
            failed += len(report.failed) + len(report.skipped)
            progress.advance(len(report.succeeded), failed=len(report.failed) + len(report.skipped))
        progress.note(f"{group.describe().capitalize()}: {succeeded} resynced, {failed} failed again.")
    return progress.run.message
