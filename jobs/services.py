"""Run a job with a JobRun record: progress in the database (for the console) and on a terminal.

A run is queued (Run now made its record), running (rows done of a total set as early as the job knows it),
then done, partly failed (some rows failed, some succeeded), failed (an error, or every row failed), refused
(it must not run now, and says why) or interrupted (its process stopped: killed, or its machine stopped).

While the job runs, a reporter thread with its own database connection writes the heartbeat, and the
progress whenever the job is inside a transaction of its own: a write in that transaction would stay
invisible until the job commits, and on PostgreSQL would lock the run row against the heartbeat.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DatabaseError, connection, connections
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import INTERRUPTED_MESSAGE, JobRun
from .workers import heartbeat_every, worker_identity

logger = logging.getLogger(__name__)

# The run record that Run now made for the task running in this context; the first job_run adopts it.
_queued_run: ContextVar[int | None] = ContextVar("queued_run", default=None)


def user_by_id(user_id: int | None):
    """Return the user a queued task names as who asked (None for scheduled runs or a deleted user)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


def parse_since(value: str | None):
    """Read a command's --since (ISO 8601; a time without zone is in the portal's zone); raise ValueError saying why."""
    from django.utils.dateparse import parse_datetime

    if not value:
        return None
    try:
        when = parse_datetime(value)
    except ValueError as exc:  # shaped like one, but no such time ("month must be in 1..12")
        why = f"--since {value!r} is not an ISO 8601 date and time ({exc}), e.g. 2024-03-05T10:00:00Z."
        raise ValueError(why) from None
    if when is None:
        raise ValueError(f"--since {value!r} is not an ISO 8601 date and time, e.g. 2024-03-05T10:00:00Z.")
    if timezone.is_naive(when):
        when = timezone.make_aware(when, timezone.get_default_timezone())
    return when


class JobRefused(Exception):
    """Raised by a job that must not run now; the message tells the operator why and what to do."""


class JobProgress:
    """Count rows done (processed, failed ones included) and failed; write them at most once a second.

    Set the total as soon as it is known, before the work starts where a count is cheap: ``set_total(n)``,
    or ``add_total(n)`` for each part whose size becomes known on the way (a file once downloaded).
    The console and the terminal's progress bar then show "done of total".
    """

    flush_every_seconds = 1.0

    def __init__(self, run: JobRun, *, show_progress: bool, title: str = ""):
        self.run = run
        self._last_flush = 0.0
        self._lock = threading.Lock()
        self._dirty = False
        # Transactions already open when the run started (a test's, say) are not the job's own.
        self._outer_depth = len(connection.atomic_blocks)
        self._bar = None
        if show_progress:
            from tqdm import tqdm

            self._bar = tqdm(
                total=run.rows_total, desc=title or run.job, unit="row", file=sys.stderr, dynamic_ncols=True
            )

    def set_total(self, total: int | None) -> None:
        """Say how many rows the run will process in all."""
        with self._lock:
            self.run.rows_total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()
        self.flush(force=True)

    def add_total(self, rows: int) -> None:
        """Add rows that became known on the way (a file once downloaded) to the total."""
        self.set_total((self.run.rows_total or 0) + rows)

    def advance(self, done: int = 1, *, failed: int = 0) -> None:
        """Count ``done`` rows processed, ``failed`` of them failed."""
        with self._lock:
            self.run.rows_done += done
            self.run.rows_failed += failed
        if self._bar is not None:
            self._bar.update(done)
            if failed:
                self._bar.set_postfix(failed=self.run.rows_failed, refresh=False)
        self.flush()

    def note(self, message: str) -> None:
        self.run.message = message
        self.flush(force=True)

    def flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not (force or now - self._last_flush >= self.flush_every_seconds):
            return
        self._last_flush = now
        if len(connection.atomic_blocks) > self._outer_depth:
            # Inside the job's own transaction: the reporter thread writes it, outside that transaction.
            self._dirty = True
            return
        self._write(using_reporter=False)

    def _write(self, *, using_reporter: bool) -> None:
        with self._lock:
            self._dirty = False
            self.run.heartbeat_at = timezone.now()
            values = {
                "rows_total": self.run.rows_total,
                "rows_done": self.run.rows_done,
                "rows_failed": self.run.rows_failed,
                "message": self.run.message,
                "heartbeat_at": self.run.heartbeat_at,
            }
        runs = JobRun.objects.filter(pk=self.run.pk)
        # The reporter never undoes an ending (the run's own thread writes it, after stopping the reporter).
        (runs.filter(status=JobRun.Status.RUNNING) if using_reporter else runs).update(**values)

    def report(self, *, beat_due: bool) -> None:
        """Write what the job's own thread could not (the reporter thread's turn); never raise."""
        if not (self._dirty or beat_due):
            return
        try:
            self._write(using_reporter=True)
        except DatabaseError as exc:  # a busy SQLite file: the next turn tries again
            logger.debug("Job run %s: progress not written this time: %s", self.run.pk, exc)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class _Reporter(threading.Thread):
    """Write a running job's heartbeat, and its progress while the job is inside its own transaction."""

    def __init__(self, progress: JobProgress):
        super().__init__(name=f"job-run-{progress.run.pk}-reporter", daemon=True)
        self.progress = progress
        self.stopped = threading.Event()

    def run(self) -> None:
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            # Only tests use an in-memory database (no other process could see it): its shared cache has table
            # locks, so a second connection's writes would fail or get in the way of the job's own.
            return
        every = heartbeat_every().total_seconds()
        last_beat = time.monotonic()
        try:
            while not self.stopped.wait(min(self.progress.flush_every_seconds, every)):
                beat_due = time.monotonic() - last_beat >= every
                self.progress.report(beat_due=beat_due)
                if beat_due:
                    last_beat = time.monotonic()
        finally:
            connections.close_all()  # this thread's own connections only

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=30)


def _start(*, job: str, external_system, trigger: str, user, total: int | None) -> JobRun:
    """Adopt the run Run now queued for this task, or create one; either way it is running from now on."""
    now = timezone.now()
    running = {
        "external_system": external_system,
        "trigger": trigger,
        "rows_total": total,
        "heartbeat_at": now,
        "worker": worker_identity(),
    }
    queued_id = _queued_run.get()
    if queued_id is not None:
        adopted = JobRun.objects.filter(pk=queued_id, job=job, status=JobRun.Status.QUEUED).update(
            status=JobRun.Status.RUNNING, started_at=now, **running
        )
        if adopted:
            # A task that runs the job once per connection adopts the queued run for the first one only.
            _queued_run.set(None)
            return JobRun.objects.get(pk=queued_id)
    return JobRun.objects.create(
        job=job, requested_by=user if getattr(user, "is_authenticated", False) else None, **running
    )


@contextmanager
def job_run(
    *,
    job: str,
    external_system=None,
    trigger: str = "scheduled",
    user=None,
    total: int | None = None,
    show_progress: bool = False,
) -> Iterator[JobProgress]:
    """Record a run of ``job`` around the block; its outcome follows the rows failed or the exception.

    Give ``total`` when it is known before the run starts; otherwise call ``progress.set_total`` as soon as
    the job can count cheaply, before the work itself.
    """
    from .registry import JOBS

    run = _start(job=job, external_system=external_system, trigger=trigger, user=user, total=total)
    spec = JOBS.get(job)
    progress = JobProgress(run, show_progress=show_progress, title=spec.title if spec else job)
    reporter = _Reporter(progress)
    reporter.start()
    try:
        yield progress
    except JobRefused as exc:
        reporter.stop()
        _finish(run, JobRun.Status.REFUSED, str(exc))
        raise
    except (KeyboardInterrupt, SystemExit):
        reporter.stop()
        _finish(run, JobRun.Status.INTERRUPTED, INTERRUPTED_MESSAGE)
        raise
    except BaseException as exc:
        reporter.stop()
        _finish(run, JobRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    else:
        reporter.stop()
        _finish(run, outcome_status(rows_done=run.rows_done, rows_failed=run.rows_failed), run.message)
    finally:
        progress.close()


def outcome_status(*, rows_done: int, rows_failed: int) -> str:
    """How a run that completed ended: done, partly failed (some rows succeeded) or failed (none did)."""
    if not rows_failed:
        return JobRun.Status.DONE
    # Rows done include the failed ones; a job that counted only its successes as done still adds up here.
    return JobRun.Status.PARTLY_FAILED if rows_done > rows_failed else JobRun.Status.FAILED


def _finish(run: JobRun, status: str, message: str) -> None:
    run.status = status
    run.message = message
    run.finished_at = timezone.now()
    JobRun.objects.filter(pk=run.pk).update(
        status=status,
        message=message,
        finished_at=run.finished_at,
        heartbeat_at=run.finished_at,
        rows_total=run.rows_total,
        rows_done=run.rows_done,
        rows_failed=run.rows_failed,
    )


def job_run_queue(*, job: str, trigger: str, user=None, external_system=None) -> JobRun:
    """Make the record of a run that Run now is about to queue: it shows as queued until a worker adopts it."""
    now = timezone.now()
    return JobRun.objects.create(
        job=job,
        status=JobRun.Status.QUEUED,
        trigger=trigger,
        external_system=external_system,
        queued_at=now,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )


def job_run_unqueued(*, run: JobRun, error: Exception) -> None:
    """End a run whose task could not be queued, saying so (the broker did not answer)."""
    message = (
        f"The job could not be queued ({type(error).__name__}: {error}). Check that the task queue answers "
        "(Redis at REDIS_URL, or the database), then press Run now again."
    )
    _finish(run, JobRun.Status.FAILED, message)


def job_run_queued(*, job: str, run_id: int, task: str, **kwargs):
    """Run a queued job's task in the record Run now made (the cluster calls this through jobs.tasks)."""
    token = _queued_run.set(run_id)
    try:
        result = import_string(task)(**kwargs)
    except BaseException as exc:
        _settle_unadopted(run_id, JobRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    else:
        # The task found nothing to run (no connection, no feed): the queued run ends with what it said.
        _settle_unadopted(run_id, JobRun.Status.DONE, str(result or "") or "Nothing to run.")
        return result
    finally:
        _queued_run.reset(token)


def _settle_unadopted(run_id: int, status: str, message: str) -> None:
    now = timezone.now()
    JobRun.objects.filter(pk=run_id, status=JobRun.Status.QUEUED).update(
        status=status, message=message, started_at=now, finished_at=now
    )


def job_runs_settle_interrupted() -> int:
    """Mark interrupted the running runs whose process is gone or silent too long; return how many."""
    now = timezone.now()
    running = JobRun.objects.filter(status=JobRun.Status.RUNNING).only(
        "pk", "status", "worker", "heartbeat_at", "started_at"
    )
    settled = 0
    for run in running.order_by("pk")[:1000]:
        if run.state_at(now) == JobRun.Status.INTERRUPTED:
            settled += JobRun.objects.filter(pk=run.pk, status=JobRun.Status.RUNNING).update(
                status=JobRun.Status.INTERRUPTED,
                finished_at=run.heartbeat_at or run.started_at,
                message=INTERRUPTED_MESSAGE,
            )
    return settled
