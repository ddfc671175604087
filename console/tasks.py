"""Thin django-q2 tasks of the console: they take IDs and run a service inside a recorded job run."""

from __future__ import annotations

from jobs.services import job_run, job_runs_settle_interrupted, user_by_id

from .selectors import COUNT_JOB
from .services import dashboard_snapshot_take


def count_dashboard(*, trigger: str = "scheduled", user_id: int | None = None) -> str:
    """Count the dashboard's customers by sync status and failures per day; settle runs whose process stopped."""
    with job_run(job=COUNT_JOB, trigger=trigger, user=user_by_id(user_id)) as progress:
        snapshot = dashboard_snapshot_take()
        # Every minute, so that a killed job's run stops showing as running soon after (the pages say so at once).
        settled = job_runs_settle_interrupted()
        note = f" {settled} run(s) whose process had stopped marked interrupted." if settled else ""
        progress.note(f"Counted in {snapshot.took_ms} ms.{note}")
    return progress.run.message
