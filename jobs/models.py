"""A record of every run of a scheduled job, with its progress while it runs."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from .workers import stale_after, worker_alive, worker_label

INTERRUPTED_MESSAGE = (
    "The process running this job stopped before it finished (it was killed, or its machine or the job cluster "
    "stopped). Nothing is lost: the next run, scheduled or Run now, carries on with what is left."
)


class JobRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        PARTLY_FAILED = "partly_failed", "Partly failed"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"
        INTERRUPTED = "interrupted", "Interrupted"

    job = models.CharField(max_length=60, db_index=True, help_text="Registry key, e.g. export_customers.")
    external_system = models.ForeignKey(
        "customers.ExternalSystem", null=True, blank=True, on_delete=models.SET_NULL, related_name="job_runs"
    )
    trigger = models.CharField(max_length=12, default="scheduled")
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.RUNNING, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="When Run now queued it, if it did.")
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    rows_done = models.PositiveBigIntegerField(default=0, help_text="Rows processed, the failed ones included.")
    rows_failed = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="The process that runs it: host:pid[:ns:start].")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "-started_at"], name="job_run_job_started")]

    def __str__(self) -> str:
        return f"{self.job} #{self.pk} ({self.get_state_display()})"

    @property
    def duration(self):
        if self.finished_at:
            return self.finished_at - self.started_at
        return None

    def state_at(self, now: datetime) -> str:
        """The status as of ``now``: a running run whose process is gone, or silent too long, is interrupted."""
        if self.status != self.Status.RUNNING:
            return self.status
        alive = worker_alive(self.worker) if self.worker else None
        if alive is not None:
            return self.Status.RUNNING if alive else self.Status.INTERRUPTED
        last_sign = self.heartbeat_at or self.started_at
        return self.Status.INTERRUPTED if last_sign < now - stale_after() else self.Status.RUNNING

    @property
    def state(self) -> str:
        return self.state_at(timezone.now())

    def get_state_display(self) -> str:
        return self.Status(self.state).label

    @property
    def state_message(self) -> str:
        """The message, or why the run counts as interrupted when no sweep has said so yet."""
        if self.status == self.Status.RUNNING and self.state == self.Status.INTERRUPTED:
            return INTERRUPTED_MESSAGE
        return self.message

    @property
    def is_active(self) -> bool:
        return self.state in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def rows_succeeded(self) -> int:
        return max(self.rows_done - self.rows_failed, 0)

    @property
    def has_rows(self) -> bool:
        """Whether the run counted rows at all (the count job, say, does not)."""
        return self.rows_total is not None or self.rows_done > 0

    @property
    def rows_text(self) -> str:
        """Rows done of the total, and how many failed, e.g. "250 of 1,000 rows, 3 failed"."""
        done = f"{self.rows_done:,}"
        total = f" of {self.rows_total:,}" if self.rows_total is not None else ""
        failed = f", {self.rows_failed:,} failed" if self.rows_failed else ""
        return f"{done}{total} rows{failed}"

    @property
    def worker_label(self) -> str:
        return worker_label(self.worker) if self.worker else ""
