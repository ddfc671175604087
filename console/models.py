"""The console's own views of shared records (the Failed Record Queue, the job runs) and the dashboard's counts."""

from django.conf import settings
from django.db import models

from customers.models import ExternalSystem, SyncFailure
from jobs.models import JobRun


class FailedRecord(SyncFailure):
    """A problem with one record and one connector; the open ones are the Failed Record Queue."""

    class Meta:
        proxy = True
        verbose_name = "failed record"
        verbose_name_plural = "Failed Record Queue"
        permissions = [("can_resync", "Can resync customers and failed records now")]


class JobRunRecord(JobRun):
    """A run of a scheduled job, as the Jobs page and the dashboard link to it."""

    class Meta:
        proxy = True
        verbose_name = "job run"
        verbose_name_plural = "job runs"
        permissions = [("can_run_jobs", "Can run jobs now and change their frequency")]


class Connector(ExternalSystem):
    """A connector as the console guards it: who may test its connections and hand out its API tokens."""

    class Meta:
        proxy = True
        verbose_name = "connector"
        permissions = [
            ("can_test_connections", "Can test connections now (a signed login with the stored credentials)"),
            ("can_manage_api_tokens", "Can create, change and revoke orders API tokens"),
        ]


class DashboardSnapshot(models.Model):
    """The dashboard's counts as the count job last took them; the dashboard reads only the newest."""

    counted_at = models.DateTimeField(db_index=True)
    took_ms = models.PositiveIntegerField(default=0, help_text="How long the counting took.")
    counts = models.JSONField(default=dict, help_text="Status counts per connector and failures per day.")

    class Meta:
        get_latest_by = "counted_at"

    def __str__(self) -> str:
        return f"Dashboard counts of {self.counted_at:%Y-%m-%d %H:%M:%S}"


class AlertSubscription(models.Model):
    """A user's choice to be told of new failures by email, for some connectors or all of them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="failure_alerts")
    is_active = models.BooleanField("send me a digest of new failures", default=True)
    connectors = models.ManyToManyField(
        "customers.ExternalSystem", blank=True, related_name="+", help_text="None selected: every connector."
    )
    # Failures first seen up to this moment were in a digest already (or came before the subscription).
    covered_until = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "failure alert subscription"

    def __str__(self) -> str:
        return f"Failure alerts for {self.user}"
