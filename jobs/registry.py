"""The scheduled jobs the portal knows, their django-q2 schedules, and running one now."""

from __future__ import annotations

from dataclasses import dataclass

from django_q.models import Schedule
from django_q.tasks import async_task

DEFAULT_MINUTES = 15


@dataclass(frozen=True)
class JobSpec:
    """A job: its django-q2 task (dotted path, takes keyword arguments) and its default frequency."""

    key: str
    title: str
    task: str
    command: str
    description: str = ""
    default_minutes: int = DEFAULT_MINUTES
    scheduled: bool = True
    # False for a job that needs arguments only its own page gives (e.g. which group of failures to resync).
    run_now: bool = True
    # The transport ("rest", "file") whose historical import this job completes: what the console tells an
    # operator to run before a new connector may send anything.
    imports_history_for: str = ""


JOBS: dict[str, JobSpec] = {}


def register_job(spec: JobSpec) -> JobSpec:
    """Make the job known to the console and its schedule created on migrate."""
    JOBS[spec.key] = spec
    return spec


def job_importing_history(*, transport: str) -> JobSpec | None:
    """The job that completes the historical import of connectors of this transport, if one is installed."""
    return next((spec for spec in JOBS.values() if spec.imports_history_for == transport), None)


def schedule_ensure(*, spec: JobSpec) -> Schedule:
    """Create the job's schedule once; an operator's changes to its frequency are kept."""
    schedule, created = Schedule.objects.get_or_create(
        name=spec.key,
        defaults={
            "func": spec.task,
            "schedule_type": Schedule.MINUTES,
            "minutes": spec.default_minutes,
            "repeats": -1,
        },
    )
    if not created and schedule.func != spec.task:
        schedule.func = spec.task
        schedule.save(update_fields=["func"])
    return schedule


def schedules_ensure() -> list[Schedule]:
    return [schedule_ensure(spec=spec) for spec in JOBS.values() if spec.scheduled]


def schedules_ensure_after_migrate(sender, **kwargs) -> None:
    if sender.name == "jobs":
        schedules_ensure()


def job_enqueue(*, key: str, user=None, external_system=None, **kwargs):
    """Queue the job to run now on the django-q2 cluster; return its run record, which shows as queued at once.

    The cluster runs ``jobs.tasks.run_queued``, which runs the job's task in that record (the task's first run
    adopts it); ``kwargs`` go to the job's task.
    """
    from .services import job_run_queue, job_run_unqueued

    spec = JOBS[key]
    kwargs.setdefault("trigger", "on_demand")
    if getattr(user, "is_authenticated", False):
        kwargs["user_id"] = user.pk
    run = job_run_queue(job=spec.key, trigger=kwargs["trigger"], user=user, external_system=external_system)
    try:
        async_task("jobs.tasks.run_queued", job=spec.key, run_id=run.pk, task_name=f"{spec.key} (run now)", **kwargs)
    except Exception as exc:
        job_run_unqueued(run=run, error=exc)
        raise
    return run
