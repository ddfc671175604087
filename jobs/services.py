"""Run a job with a JobRun record: progress in the database (for the console) and on a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

from .models import JobRun


def user_by_id(user_id: int | None):
    """Return the user a queued task names as who asked (None for scheduled runs or a deleted user)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


def parse_since(value: str | None):
    """Read a command's --since (ISO 8601; a time without zone is in the portal's zone); raise ValueError saying why."""
    from django.utils.dateparse import parse_datetime

    if not value:
        return None
    when = parse_datetime(value)
    if when is None:
        raise ValueError(f"--since {value!r} is not an ISO 8601 date and time, e.g. 2024-03-05T10:00:00Z.")
    if timezone.is_naive(when):
        when = timezone.make_aware(when, timezone.get_default_timezone())
    return when


class JobRefused(Exception):
    """Raised by a job that must not run now; the message tells the operator why and what to do."""


class JobProgress:
    """Count rows done and failed; write to the database at most once a second."""

    flush_every_seconds = 1.0

    def __init__(self, run: JobRun, *, show_progress: bool):
        self.run = run
        self._last_flush = 0.0
        self._bar = None
        if show_progress:
            from tqdm import tqdm

            self._bar = tqdm(total=run.rows_total, desc=run.job, unit="row", file=sys.stderr, dynamic_ncols=True)

    def set_total(self, total: int | None) -> None:
        self.run.rows_total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()
        self.flush(force=True)

    def advance(self, done: int = 1, *, failed: int = 0) -> None:
        self.run.rows_done += done
        self.run.rows_failed += failed
        if self._bar is not None:
            self._bar.update(done)
        self.flush()

    def note(self, message: str) -> None:
        self.run.message = message
        self.flush(force=True)

    def flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_flush >= self.flush_every_seconds:
            self._last_flush = now
            self.run.heartbeat_at = timezone.now()
            JobRun.objects.filter(pk=self.run.pk).update(
                rows_total=self.run.rows_total,
                rows_done=self.run.rows_done,
                rows_failed=self.run.rows_failed,
                message=self.run.message,
                heartbeat_at=self.run.heartbeat_at,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


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
    """Record a run of ``job`` around the block; its outcome follows the rows failed or the exception."""
    run = JobRun.objects.create(
        job=job,
        external_system=external_system,
        trigger=trigger,
        rows_total=total,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        heartbeat_at=timezone.now(),
    )
    progress = JobProgress(run, show_progress=show_progress)
    try:
        yield progress
    except JobRefused as exc:
        _finish(run, JobRun.Status.REFUSED, str(exc))
        raise
    except BaseException as exc:
        _finish(run, JobRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    else:
        status = JobRun.Status.PARTLY_FAILED if run.rows_failed else JobRun.Status.DONE
        _finish(run, status, run.message)
    finally:
        progress.close()


def _finish(run: JobRun, status: str, message: str) -> None:
    run.status = status
    run.message = message
    run.finished_at = timezone.now()
    JobRun.objects.filter(pk=run.pk).update(
        status=status,
        message=message,
        finished_at=run.finished_at,
        rows_total=run.rows_total,
        rows_done=run.rows_done,
        rows_failed=run.rows_failed,
    )
