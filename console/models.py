"""The console's own views of shared records: the Failed Record Queue and the job runs."""

from customers.models import SyncLog
from jobs.models import JobRun


class FailedRecord(SyncLog):
    """A failed sync attempt; the open ones are the Failed Record Queue."""

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
