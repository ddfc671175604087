"""The console's reads. Each runs a fixed number of queries on indexed columns, whatever the table sizes."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.apps import apps
from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_q.models import Schedule

from customers.models import CustomerSync, ExternalSystem, SyncLog
from jobs.models import JobRun
from jobs.registry import JOBS, JobSpec

COUNTS_CACHE_KEY = "console:dashboard-counts"
# Counting a million sync states takes a table scan; the dashboard recounts at most this often.
COUNTS_TTL_SECONDS = 60
CHART_DAYS = 14
# A schedule this late (beyond its own interval) means the cluster is not running it.
OVERDUE_GRACE = timedelta(minutes=10)


@dataclass
class ConnectorCounts:
    system: ExternalSystem
    synced: int = 0
    pending: int = 0
    awaiting_id: int = 0
    error: int = 0
    not_synced: int = 0
    invalid: int = 0
    open_failures: int = 0

    @property
    def total(self) -> int:
        return self.synced + self.pending + self.awaiting_id + self.error + self.not_synced


@dataclass
class DayBar:
    day: date
    failures: int
    height: float = 0.0
    x: float = 0.0
    y: float = 0.0
    cx: float = 0.0
    width: float = 0.0


@dataclass
class DashboardCounts:
    counted_at: datetime
    connectors: list[ConnectorCounts]
    days: list[DayBar]
    failures_14d: int = 0
    chart_max: int = 0
    open_failures: int = 0
    extra: dict = field(default_factory=dict)


_STATUS_FIELD = {
    CustomerSync.Status.SYNCED: "synced",
    CustomerSync.Status.PENDING: "pending",
    CustomerSync.Status.EXPORTED: "awaiting_id",
    CustomerSync.Status.ERROR: "error",
    CustomerSync.Status.NOT_SYNCED: "not_synced",
}


def _count(systems: list[ExternalSystem]) -> DashboardCounts:
    now = timezone.now()
    by_pk = {s.pk: ConnectorCounts(system=s) for s in systems}
    # One GROUP BY for every connector's statuses and validity.
    rows = (
        CustomerSync.objects.filter(enabled=True)
        .values_list("external_system_id", "status", "customer__is_valid")
        .annotate(n=Count("id"))
        .order_by()
    )
    for system_id, status, is_valid, n in rows:
        counts = by_pk.get(system_id)
        if counts is None:
            continue
        name = _STATUS_FIELD.get(status)
        if name:
            setattr(counts, name, getattr(counts, name) + n)
        if not is_valid:
            counts.invalid += n
    open_rows = (
        SyncLog.objects.filter(outcome=SyncLog.Outcome.FAILED, resolved_at__isnull=True)
        .values_list("external_system_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    open_total = 0
    for system_id, n in open_rows:
        open_total += n
        if system_id in by_pk:
            by_pk[system_id].open_failures = n
    start = timezone.localdate(now) - timedelta(days=CHART_DAYS - 1)
    start_at = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    per_day = dict(
        SyncLog.objects.filter(outcome=SyncLog.Outcome.FAILED, created_at__gte=start_at)
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    dates = [start + timedelta(days=i) for i in range(CHART_DAYS)]
    days = [DayBar(day=d, failures=per_day.get(d, 0)) for d in dates]
    return DashboardCounts(
        counted_at=now,
        connectors=list(by_pk.values()),
        days=days,
        failures_14d=sum(d.failures for d in days),
        chart_max=max([d.failures for d in days] + [0]),
        open_failures=open_total,
    )


def dashboard_counts(*, systems: list[ExternalSystem], recount: bool = False) -> DashboardCounts:
    """Return sync status counts per connector and failures per day, counted at most once a minute."""
    counts = None if recount else cache.get(COUNTS_CACHE_KEY)
    pks = [s.pk for s in systems]
    if counts is None or [c.system.pk for c in counts.connectors] != pks:
        counts = _count(systems)
        cache.set(COUNTS_CACHE_KEY, counts, COUNTS_TTL_SECONDS)
    return counts


def dashboard_counts_forget() -> None:
    """Make the next dashboard recount, after an operator's action changed what it shows."""
    cache.delete(COUNTS_CACHE_KEY)


def chart_bars(days: list[DayBar], *, width: int = 560, height: int = 140, top: int = 16) -> list[DayBar]:
    """Lay the day bars out for the inline SVG chart."""
    biggest = max([d.failures for d in days] + [1])
    slot = width / max(len(days), 1)
    for i, bar in enumerate(days):
        bar.height = round((height - top) * bar.failures / biggest, 1)
        bar.x = round(i * slot + slot * 0.15, 1)
        bar.y = round(height - bar.height, 1)
        bar.cx = round(bar.x + slot * 0.35, 1)
        bar.width = round(slot * 0.7, 1)
    return days


@dataclass
class JobState:
    spec: JobSpec
    schedule: Schedule | None
    last_run: JobRun | None
    running: JobRun | None

    @property
    def frequency_minutes(self) -> int | None:
        if self.schedule is None:
            return None
        if self.schedule.schedule_type == Schedule.MINUTES:
            return self.schedule.minutes
        return {Schedule.HOURLY: 60, Schedule.DAILY: 1440, Schedule.WEEKLY: 10080}.get(self.schedule.schedule_type)

    @property
    def overdue(self) -> bool:
        if self.schedule is None or self.schedule.next_run is None or self.schedule.repeats == 0:
            return False
        late = timedelta(minutes=self.frequency_minutes or 0) + OVERDUE_GRACE
        return self.schedule.next_run < timezone.now() - late


def job_states() -> list[JobState]:
    """Each registered job with its schedule, its last run and its running run: 1 query + 1 per job."""
    schedules = {s.name: s for s in Schedule.objects.filter(name__in=list(JOBS))}
    states = []
    for spec in JOBS.values():
        # The newest two runs (index job, -started_at): the last one, and a running one besides it.
        recent = list(JobRun.objects.filter(job=spec.key).select_related("external_system", "requested_by")[:2])
        last = recent[0] if recent else None
        running = next((r for r in recent if r.status == JobRun.Status.RUNNING), None)
        states.append(JobState(spec=spec, schedule=schedules.get(spec.key), last_run=last, running=running))
    return states


def running_runs() -> list[JobRun]:
    """The runs in progress, for the Jobs page's progress poll."""
    return list(JobRun.objects.filter(status=JobRun.Status.RUNNING).order_by("-started_at")[:50])


@dataclass
class Warning:
    message: str
    link: str = ""
    link_text: str = ""


def dashboard_warnings(*, systems: list[ExternalSystem], jobs: list[JobState]) -> list[Warning]:
    """What needs an operator: historical import not done, overdue schedules, failing connections."""
    warnings = []
    for system in systems:
        if system.is_active and system.historical_import_completed_at is None:
            warnings.append(
                Warning(
                    f"{system.name}: the historical customer import has not been completed, so exports to it are "
                    "refused (otherwise NetSuite would get duplicates). Run the historical import on the Jobs page.",
                    reverse("admin:console_jobs"),
                    "Jobs",
                )
            )
    for state in jobs:
        if state.overdue:
            warnings.append(
                Warning(
                    f"{state.spec.title} should have run at "
                    f"{timezone.localtime(state.schedule.next_run):%Y-%m-%d %H:%M} but has not: "
                    "check that the job cluster (manage.py qcluster) is running.",
                    reverse("admin:console_jobs"),
                    "Jobs",
                )
            )
        run = state.last_run
        if run is not None and run.status in (JobRun.Status.FAILED, JobRun.Status.REFUSED):
            where = f" for {run.external_system.name}" if run.external_system else ""
            warnings.append(
                Warning(
                    f"The last run of {state.spec.title}{where} {run.get_status_display().lower()} at "
                    f"{timezone.localtime(run.started_at):%Y-%m-%d %H:%M}: {run.message or 'no reason given.'}",
                    reverse("admin:console_jobrunrecord_change", args=[run.pk]),
                    "Run details",
                )
            )
    if apps.is_installed("sftpsync"):
        SftpConnection = apps.get_model("sftpsync", "SftpConnection")
        for conn in SftpConnection.objects.filter(last_test_ok=False).only("pk", "name", "last_test_message")[:10]:
            link = ""
            with suppress(NoReverseMatch):  # the SFTP admin may not be registered yet
                link = reverse("admin:sftpsync_sftpconnection_change", args=[conn.pk])
            warnings.append(
                Warning(
                    f"SFTP connection {conn.name} failed its last connection test: {conn.last_test_message}",
                    link,
                    "Connection" if link else "",
                )
            )
    return warnings


def latest_attempts(*, limit: int = 10) -> list[SyncLog]:
    """The newest sync attempts (any trigger), so a selective export or a RESYNC shows at once."""
    return list(SyncLog.objects.select_related("external_system", "created_by").order_by("-created_at", "-id")[:limit])
