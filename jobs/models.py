"""A record of every run of a scheduled job, with its progress while it runs."""

from django.conf import settings
from django.db import models


class JobRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        PARTLY_FAILED = "partly_failed", "Partly failed"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"

    job = models.CharField(max_length=60, db_index=True, help_text="Registry key, e.g. export_customers.")
    external_system = models.ForeignKey(
        "customers.ExternalSystem", null=True, blank=True, on_delete=models.SET_NULL, related_name="job_runs"
    )
    trigger = models.CharField(max_length=12, default="scheduled")
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.RUNNING, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    rows_done = models.PositiveBigIntegerField(default=0)
    rows_failed = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "-started_at"], name="job_run_job_started")]

    def __str__(self) -> str:
        return f"{self.job} #{self.pk} ({self.get_status_display()})"

    @property
    def duration(self):
        if self.finished_at:
            return self.finished_at - self.started_at
        return None
