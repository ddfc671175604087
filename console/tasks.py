"""Thin django-q2 tasks of the console: they take IDs and run a service inside a recorded job run."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from jobs.services import job_run

from .selectors import COUNT_JOB
from .services import dashboard_snapshot_take


def count_dashboard(*, trigger: str = "scheduled", user_id: int | None = None) -> str:
    """Count the dashboard's customers by sync status and failures per day, and store them for it."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    with job_run(job=COUNT_JOB, trigger=trigger, user=user) as progress:
        snapshot = dashboard_snapshot_take()
        progress.note(f"Counted in {snapshot.took_ms} ms.")
    return progress.run.message
