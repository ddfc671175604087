"""Thin django-q2 tasks of the console: they take IDs and run a service inside a recorded job run."""

from __future__ import annotations

from jobs.services import job_run, job_runs_settle_interrupted, user_by_id

from .alerts import DIGEST_JOB, digests_send
from .selectors import COUNT_JOB, RESYNC_GROUP_JOB, FailureGroup
from .services import dashboard_snapshot_take, failed_records_resync

RESYNC_CHUNK = 100


def count_dashboard(*, trigger: str = "scheduled", user_id: int | None = None) -> str:
    """Count the dashboard's customers by sync status and failures per day; settle runs whose process stopped."""
    with job_run(job=COUNT_JOB, trigger=trigger, user=user_by_id(user_id)) as progress:
        snapshot = dashboard_snapshot_take()
        # Every minute, so that a killed job's run stops showing as running soon after (the pages say so at once).
        settled = job_runs_settle_interrupted()
        note = f" {settled} run(s) whose process had stopped marked interrupted." if settled else ""
        progress.note(f"Counted in {snapshot.took_ms} ms.{note}")
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
        described = group.describe()  # str.capitalize() would lower-case the rest: "netsuite (rest)"
        progress.note(f"{described[:1].upper()}{described[1:]}: {succeeded} resynced, {failed} failed again.")
    return progress.run.message


def send_failure_digests(*, trigger: str = "scheduled", user_id: int | None = None) -> str:
    """Email each subscribed operator the failures new since their last digest."""
    with job_run(job=DIGEST_JOB, trigger=trigger, user=user_by_id(user_id)) as progress:
        sent, told = digests_send(progress=progress)
        subscribers = progress.run.rows_total or 0
        if sent:
            progress.note(f"{sent} digest email(s) sent, about {told} new failure(s).")
        elif not subscribers:
            progress.note(
                "No one with an email address is subscribed to failure emails, so none was sent: subscribe under "
                "Email alerts, with an email address on your user."
            )
        else:
            progress.note(f"No new failures for the {subscribers} subscriber(s): no email sent.")
    return progress.run.message
