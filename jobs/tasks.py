"""The django-q2 task that runs a job queued by Run now (``jobs.registry.job_enqueue``)."""

from __future__ import annotations

from .registry import JOBS
from .services import job_run_queued


def run_queued(*, job: str, run_id: int, **kwargs):
    """Run the registered job ``job`` in the queued run record ``run_id``; kwargs go to the job's task."""
    return job_run_queued(job=job, run_id=run_id, task=JOBS[job].task, **kwargs)
