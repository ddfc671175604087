"""The console's reads. Each runs a fixed number of queries on indexed columns, whatever the table sizes."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.apps import apps
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django_q.models import Schedule

from customers.errors import ErrorCode
from customers.models import (
    RESYNCABLE_RECORD_TYPES,
    CustomerSync,
    ExternalSystem,
    SyncFailure,
    SyncFailureGroup,
    SyncLog,
)
from customers.selectors import SyncBucket, sync_bucket
from integration_portal.formats import local_datetime
from jobs.models import JobRun
from jobs.registry import JOBS, JobSpec, job_importing_history

from .models import DashboardSnapshot

COUNT_JOB = "count_dashboard"
CHART_DAYS = 14
# A schedule this late (beyond its own interval) means the cluster is not running it.
OVERDUE_GRACE = timedelta(minutes=10)
# Counts older than the count job's interval plus this are called out as stale on the dashboard.
STALE_GRACE = timedelta(minutes=5)
# An exported customer still without NetSuite's ID after this long is called out: a script or a file is stuck.
AWAITING_ID_GRACE = timedelta(hours=2)

FREQUENCY_PRESETS: dict[int, str] = {
    15: "Every 15 minutes",
    30: "Every 30 minutes",
    60: "Hourly",
    240: "Every 4 hours",
    1440: "Daily",
}


def frequency_label(minutes: int) -> str:
    """Say how often a job runs, as the Jobs page's frequency list does."""
    if minutes in FREQUENCY_PRESETS:
        return FREQUENCY_PRESETS[minutes]
    return "Every minute" if minutes == 1 else f"Every {minutes} minutes"


@dataclass
class ConnectorCounts:
    """One connector's selected customers in buckets that add up to its total; open failures besides."""

    system: ExternalSystem
    synced: int = 0
    awaiting_id: int = 0
    pending: int = 0
    blocked: int = 0
    in_error: int = 0
    # Not a bucket: queue entries (one customer may have several, a file row none), shown apart.
    open_failures: int = 0
    awaiting_id_late: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, bucket.value) for bucket in SyncBucket)

    @property
    def buckets(self) -> list[tuple[str, str, int]]:
        """(bucket, label, count) in the dashboard's column order."""
        return [(b.value, b.label, getattr(self, b.value)) for b in SyncBucket]


# Each bucket is a field of ConnectorCounts named by its value.
COUNT_FIELDS = (*SyncBucket.values, "open_failures", "awaiting_id_late")


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
    took_ms: int = 0
    failures_14d: int = 0
    chart_max: int = 0
    open_failures: int = 0

    @property
    def age(self) -> timedelta:
        return timezone.now() - self.counted_at

    @property
    def age_text(self) -> str:
        seconds = int(self.age.total_seconds())
        if seconds < 60:
            return f"{max(seconds, 0)} second{'s' if seconds != 1 else ''}"
        return timesince(self.counted_at)


def dashboard_counts_compute() -> dict:
    """Count sync states per connector, open failures and failures per day: the count job's work, not a page's.

    These are GROUP BYs over every sync state and every recent failure, so they grow with the tables;
    the count job stores the result (``dashboard_snapshot_take``) and the dashboard reads that.
    """
    now = timezone.now()
    connectors: dict[int, dict[str, int]] = {}

    def of(system_id: int) -> dict[str, int]:
        return connectors.setdefault(system_id, dict.fromkeys(COUNT_FIELDS, 0))

    # One GROUP BY for every connector's statuses and validity; each group falls in exactly one bucket.
    rows = (
        CustomerSync.objects.filter(enabled=True)
        .values_list("external_system_id", "status", "is_ready")
        .annotate(n=Count("id"))
        .order_by()
    )
    for system_id, status, is_ready, n in rows:
        of(system_id)[sync_bucket(status=status, is_ready=is_ready).value] += n
    # Exported long ago and still no ID: the (system, status) index narrows it to the customers awaiting an ID.
    late_rows = (
        CustomerSync.objects.filter(
            enabled=True, status=CustomerSync.Status.EXPORTED, last_attempt_at__lt=now - AWAITING_ID_GRACE
        )
        .values_list("external_system_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for system_id, n in late_rows:
        of(system_id)["awaiting_id_late"] = n
    # The failure service keeps these counts: no count over the failures themselves.
    open_rows = (
        SyncFailureGroup.objects.filter(open_count__gt=0)
        .values_list("external_system_id")
        .annotate(n=Sum("open_count"))
        .order_by()
    )
    open_total = 0
    for system_id, n in open_rows:
        open_total += n
        if system_id is not None:
            of(system_id)["open_failures"] = n
    start = timezone.localdate(now) - timedelta(days=CHART_DAYS - 1)
    start_at = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    # New problems per day (first seen), not failed attempts: a failure met again every run is one problem, and
    # 14 days of attempts at a large shop are millions of rows (14.5 s to count at 1,000,000 on SQLite).
    per_day = dict(
        SyncFailure.objects.filter(first_seen_at__gte=start_at)
        .annotate(day=TruncDate("first_seen_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    days = [start + timedelta(days=i) for i in range(CHART_DAYS)]
    return {
        "connectors": {str(pk): counts for pk, counts in connectors.items()},
        "days": [[d.isoformat(), per_day.get(d, 0)] for d in days],
        "open_failures": open_total,
    }


def dashboard_counts(*, systems: list[ExternalSystem]) -> DashboardCounts | None:
    """The newest counts the count job stored, for the given connectors; None before its first run. One query."""
    snapshot = DashboardSnapshot.objects.order_by("-counted_at").first()
    if snapshot is None:
        return None
    stored = snapshot.counts.get("connectors", {})
    connectors = [
        ConnectorCounts(system=s, **{k: v for k, v in stored.get(str(s.pk), {}).items() if k in COUNT_FIELDS})
        for s in systems
    ]
    days = [DayBar(day=date.fromisoformat(d), failures=n) for d, n in snapshot.counts.get("days", [])]
    return DashboardCounts(
        counted_at=snapshot.counted_at,
        connectors=connectors,
        days=days,
        took_ms=snapshot.took_ms,
        failures_14d=sum(d.failures for d in days),
        chart_max=max([d.failures for d in days] + [0]),
        open_failures=snapshot.counts.get("open_failures", 0),
    )


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
    # Queued and running runs, newest first (a job runs once per connection, so there may be several).
    active: list[JobRun] = field(default_factory=list)

    @property
    def running(self) -> JobRun | None:
        return next((r for r in self.active if r.state == JobRun.Status.RUNNING), None)

    @property
    def queued(self) -> JobRun | None:
        return next((r for r in self.active if r.status == JobRun.Status.QUEUED), None)

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

    @property
    def frequency_text(self) -> str:
        return frequency_label(self.frequency_minutes).lower() if self.frequency_minutes else ""

    @property
    def frequency_choices(self) -> list[tuple[int, str]]:
        """The presets, and the job's own default where that is none of them (the count job's every minute)."""
        minutes = {*FREQUENCY_PRESETS, self.spec.default_minutes}
        return [(m, frequency_label(m)) for m in sorted(minutes)]


def job_states() -> list[JobState]:
    """Each registered job with its schedule, its last run and its queued or running runs: 2 queries + 1 per job."""
    schedules = {s.name: s for s in Schedule.objects.filter(name__in=list(JOBS))}
    active: dict[str, list[JobRun]] = {}
    for run in active_runs():
        if run.state != JobRun.Status.INTERRUPTED:  # its process is gone: shown as its last run, not as going on
            active.setdefault(run.job, []).append(run)
    states = []
    for spec in JOBS.values():
        # The newest run by the (job, -started_at) index.
        last = JobRun.objects.filter(job=spec.key).select_related("external_system", "requested_by").first()
        states.append(
            JobState(spec=spec, schedule=schedules.get(spec.key), last_run=last, active=active.get(spec.key, []))
        )
    return states


def job_states_by_key() -> dict[str, JobState]:
    return {state.spec.key: state for state in job_states()}


def active_runs(*, limit: int = 100) -> list[JobRun]:
    """The queued and running runs (the status index), newest first; interrupted ones go at the next sweep."""
    return list(
        JobRun.objects.filter(status__in=[JobRun.Status.QUEUED, JobRun.Status.RUNNING])
        .select_related("external_system", "requested_by")
        .order_by("-started_at", "-id")[:limit]
    )


def runs_by_id(*, ids: list[int]) -> list[JobRun]:
    """The given runs (a run list's page), for its refresh."""
    return list(JobRun.objects.filter(pk__in=ids[:200]).select_related("external_system", "requested_by"))


@dataclass
class Warning:
    message: str
    link: str = ""
    link_text: str = ""


def counts_stale(*, counts: DashboardCounts | None, jobs: list[JobState]) -> bool:
    """Whether the stored counts are older than the count job's interval allows (or were never taken)."""
    if counts is None:
        return True
    state = next((s for s in jobs if s.spec.key == COUNT_JOB), None)
    every = timedelta(minutes=(state.frequency_minutes if state else None) or 1)
    return counts.age > every + STALE_GRACE


def job_link(spec: JobSpec) -> str:
    """The job's row on the Jobs page, where its Run now is."""
    return f"{reverse('admin:console_jobs')}#job-{spec.key}"


def connection_failures_open() -> QuerySet[SyncFailure]:
    """The connections NetSuite or Shopify refuses now, newest first (read on every dashboard view: a partial index
    of their own, ``sync_failure_open_conn``, keeps them apart from the many open customer failures)."""
    return (
        SyncFailure.objects.filter(record_type=SyncLog.RecordType.CONNECTION, resolved_at__isnull=True)
        .select_related("external_system")
        .order_by("-last_seen_at")
    )


def _history_imported_since(run: JobRun) -> bool:
    """Whether the run's connector finished its historical import after the run started: a refusal then (its
    reason: the import was not done yet) no longer needs anyone's action, and telling the operator to run the
    import again would send them to a job that is done."""
    system = run.external_system
    completed = system.historical_import_completed_at if system is not None else None
    return completed is not None and run.started_at is not None and completed > run.started_at


def dashboard_warnings(
    *, systems: list[ExternalSystem], jobs: list[JobState], counts: DashboardCounts | None
) -> list[Warning]:
    """What needs an operator: stale counts, historical import not done, overdue or failed jobs, connections.

    Each warning links to a page that exists, and names a job by its title.
    """
    now = timezone.now()
    by_key = {state.spec.key: state for state in jobs}
    warnings = []
    if counts is not None and counts_stale(counts=counts, jobs=jobs):
        count_job = by_key.get(COUNT_JOB)
        warnings.append(
            Warning(
                f"The customer counts below were taken {counts.age_text} ago and the count job has "
                "not run since: check that the job cluster (manage.py qcluster) is running, or press Recount now.",
                job_link(count_job.spec) if count_job else reverse("admin:console_jobs"),
                count_job.spec.title if count_job else "Jobs",
            )
        )
    waiting_for_history = set()
    for system in systems:
        if (
            not system.is_active
            or system.transport == ExternalSystem.Transport.SOURCE
            or system.historical_import_completed_at is not None
        ):
            continue
        waiting_for_history.add(system.pk)
        spec = job_importing_history(transport=system.transport)
        state = by_key.get(spec.key) if spec else None
        why = (
            f"{system.name}: NetSuite's existing customers have not been imported yet, so no customer is sent to it "
            "(otherwise NetSuite would get duplicates)."
        )
        if state is None:
            warnings.append(
                Warning(
                    f"{why} No installed job imports them for a {system.get_transport_display()} connector: import "
                    "them, then set the connector's historical import as completed.",
                    reverse("admin:customers_externalsystem_change", args=[system.pk]),
                    system.name,
                )
            )
        elif state.active:
            warnings.append(
                Warning(f"{why} {spec.title} is under way; this goes once it has finished.", job_link(spec), spec.title)
            )
        else:
            warnings.append(
                Warning(f"{why} Press Run now on {spec.title} and let it finish.", job_link(spec), spec.title)
            )
    by_system = {c.system.pk: c for c in counts.connectors} if counts is not None else {}
    for system in systems:
        late = by_system[system.pk].awaiting_id_late if system.pk in by_system else 0
        if late and system.transport == ExternalSystem.Transport.FILE:
            warnings.append(
                Warning(
                    f"{system.name}: {late} customer{'s were' if late != 1 else ' was'} exported to NetSuite more "
                    f"than {AWAITING_ID_GRACE.seconds // 3600} hours ago and "
                    f"{'have' if late != 1 else 'has'} no NetSuite ID yet: check that HC_SC_ImportCustomer and "
                    "HC_MR_ExportedCustomerCSV run, and the export/error folder.",
                    _awaiting_link(system),
                    "Awaiting ID",
                )
            )
    refused_connections = list(connection_failures_open()[:10])
    refused_by_system = {failure.external_system_id: failure for failure in reversed(refused_connections)}
    for state in jobs:
        if state.overdue:
            warnings.append(
                Warning(
                    f"{state.spec.title} should have run at {local_datetime(state.schedule.next_run)} but has not: "
                    "check that the job cluster (manage.py qcluster) is running.",
                    job_link(state.spec),
                    state.spec.title,
                )
            )
        queued = state.queued
        if queued is not None and queued.queued_at and queued.queued_at < now - OVERDUE_GRACE:
            warnings.append(
                Warning(
                    f"{state.spec.title} was queued at {local_datetime(queued.queued_at)} and has not started: "
                    "check that the job cluster (manage.py qcluster) is running.",
                    job_link(state.spec),
                    state.spec.title,
                )
            )
        run = state.last_run
        if run is None or run.state not in (JobRun.Status.FAILED, JobRun.Status.REFUSED, JobRun.Status.INTERRUPTED):
            continue
        if run.status == JobRun.Status.REFUSED and run.external_system_id in waiting_for_history:
            continue  # refused for want of the historical import, which the warning above asks for
        if run.status == JobRun.Status.REFUSED and _history_imported_since(run):
            continue  # refused before the historical import was done; its next run goes through
        refused = refused_by_system.get(run.external_system_id)
        if run.status == JobRun.Status.FAILED and refused is not None and refused.last_seen_at >= run.started_at:
            continue  # it met a connection NetSuite (or Shopify) refuses: the connection's warning below says so once
        where = f" for {run.external_system.name}" if run.external_system else ""
        warnings.append(
            Warning(
                f"The last run of {state.spec.title}{where} ({local_datetime(run.started_at)}) "
                f"{run.get_state_display().lower()}: {run.state_message or 'no reason given.'}",
                reverse("admin:console_jobrunrecord_change", args=[run.pk]),
                "Run details",
            )
        )
    for failure in refused_connections:
        warnings.append(
            Warning(
                f"{failure.external_system.name}: {failure.message}",
                reverse("admin:console_failedrecord_changelist") + f"?record_type__exact={failure.record_type}",
                "Failed Record Queue",
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


def _awaiting_link(system: ExternalSystem) -> str:
    """The sync list narrowed to the system's customers awaiting an ID, as the counts table links it."""
    url = reverse("admin:customers_customersync_changelist")
    return f"{url}?external_system__id__exact={system.pk}&status__exact={CustomerSync.Status.EXPORTED}"


def latest_attempts(*, limit: int = 10) -> list[SyncLog]:
    """The newest sync attempts (any trigger), so a selective export or a RESYNC shows at once."""
    return list(SyncLog.objects.select_related("external_system", "created_by").order_by("-created_at", "-id")[:limit])


# -- the Failed Record Queue's groups -------------------------------------------------------------------------

GROUPS_ON_QUEUE = 12
RESYNC_GROUP_JOB = "resync_failure_group"


@dataclass
class FailureGroup:
    """The open failures of one connector, record type and problem."""

    external_system: ExternalSystem
    record_type: str
    error_code: str
    open_count: int = 0

    @property
    def title(self) -> str:
        return ErrorCode.coerce(self.error_code).title

    @property
    def record_type_label(self) -> str:
        return SyncLog.RecordType(self.record_type).label if self.record_type in SyncLog.RecordType.values else ""

    @property
    def resyncable(self) -> bool:
        return self.record_type in RESYNCABLE_RECORD_TYPES

    @property
    def queue_url(self) -> str:
        url = reverse("admin:console_failedrecord_changelist")
        return (
            f"{url}?external_system__id__exact={self.external_system.pk}&record_type__exact={self.record_type}"
            f"&error_code={self.error_code}"
        )

    def open_failures(self) -> QuerySet[SyncFailure]:
        return SyncFailure.objects.filter(
            external_system=self.external_system,
            record_type=self.record_type,
            error_code=self.error_code,
            resolved_at__isnull=True,
        ).order_by("pk")

    def describe(self) -> str:
        kind = self.record_type_label.lower()
        return f"group \u201c{self.title}\u201d ({kind} failures with {self.external_system.name})"

    def as_kwargs(self) -> dict:
        return {"system_id": self.external_system.pk, "record_type": self.record_type, "error_code": self.error_code}

    @classmethod
    def get(cls, *, system_id: int, record_type: str, error_code: str) -> FailureGroup:
        system = ExternalSystem.objects.filter(pk=system_id).first()
        if system is None or record_type not in SyncLog.RecordType.values or error_code not in ErrorCode.__members__:
            raise ValueError("That group of failures does not exist (any more): reload the queue and try again.")
        row = SyncFailureGroup.objects.filter(
            external_system=system, record_type=record_type, error_code=error_code
        ).first()
        return cls(system, record_type, error_code, row.open_count if row else 0)

    @classmethod
    def from_post(cls, data) -> FailureGroup:
        system_id = data.get("system", "")
        if not system_id.isdigit():
            raise ValueError("That group of failures does not exist (any more): reload the queue and try again.")
        return cls.get(
            system_id=int(system_id), record_type=data.get("record_type", ""), error_code=data.get("code", "")
        )


def failure_groups(*, limit: int | None = None) -> list[FailureGroup]:
    """Groups with open failures, the largest first: one query on the counts the failure service keeps."""
    rows = (
        SyncFailureGroup.objects.filter(open_count__gt=0)
        .select_related("external_system")
        .order_by("-open_count", "error_code", "pk")
    )
    if limit is not None:
        rows = rows[:limit]
    return [FailureGroup(r.external_system, r.record_type, r.error_code, r.open_count) for r in rows]
