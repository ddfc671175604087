"""The three file jobs as the scheduler, the console's Run now and the commands start them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from customers.models import ExternalSystem
from jobs.services import JobRefused, job_run

from ..models import Feed
from .export import customers_export, invalid_customers_log
from .export_errors import export_errors_import, export_follow_up
from .historical import historical_import
from .ledger import RunContext
from .party_ident import party_ident_import

HISTORICAL_JOB = "import_historical_customers"
EXPORT_JOB = "export_customers"
PARTY_IDENT_JOB = "import_party_identifications"


class FeedNotFound(Exception):
    """No feed matches what was asked; the message says what to configure."""


@dataclass
class JobOutcome:
    """What one run of a job did per feed, worded for a terminal or the task result."""

    lines: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.lines + self.refused) or "No feed to run."


def feeds_for(*, kind: str, connection: str | None = None, scheduled: bool = False) -> list[Feed]:
    """Return the feeds of a kind, narrowed to an external system code or SFTP connection name."""
    feeds = Feed.objects.filter(kind=kind).select_related("sftp_connection", "external_system").order_by("pk")
    if connection:
        feeds = feeds.filter(Q(external_system__code=connection) | Q(sftp_connection__name=connection))
        found = list(feeds)
        if not found:
            raise FeedNotFound(
                f"No {Feed.Kind(kind).label} feed belongs to '{connection}' (an external system code or an SFTP "
                "connection name). Add the feed under Feeds, or check the name."
            )
        return found
    if scheduled:
        feeds = feeds.filter(
            enabled=True, external_system__is_active=True, external_system__transport=ExternalSystem.Transport.FILE
        )
    return list(feeds)


def _one_feed(feeds: list[Feed], kind: str) -> Feed:
    if len(feeds) != 1:
        names = ", ".join(f.external_system.code for f in feeds) or "none"
        raise FeedNotFound(
            f"--file needs exactly one {Feed.Kind(kind).label} feed, and there are {len(feeds)} ({names}). "
            "Name one with --connection."
        )
    return feeds[0]


def run_inbound(
    *,
    job: str,
    kind: str,
    trigger: str = "scheduled",
    user: Any = None,
    connection: str | None = None,
    local_file: str | None = None,
    show_progress: bool = False,
) -> JobOutcome:
    """Run an inbound feed job (historical or created IDs) for each matching feed, or one local file."""
    service = historical_import if kind == Feed.Kind.HISTORICAL else party_ident_import
    feeds = feeds_for(kind=kind, connection=connection, scheduled=trigger == "scheduled" and not connection)
    if local_file:
        feeds = [_one_feed(feeds, kind)]
    outcome = JobOutcome()
    for feed in feeds:
        try:
            with job_run(
                job=job, external_system=feed.external_system, trigger=trigger, user=user, show_progress=show_progress
            ) as progress:
                ctx = RunContext(feed=feed, trigger=trigger, user=user, progress=progress, job_run_id=progress.run.pk)
                summary = service(ctx=ctx, local_file=local_file)
                text = summary.describe()
                if kind == Feed.Kind.PARTY_IDENT and not local_file:
                    text += _export_errors(feed, trigger, user, progress)
                progress.note(text)
                outcome.lines.append(f"{feed.external_system.name}: {text}")
        except JobRefused as exc:
            outcome.refused.append(str(exc))
    return outcome


def _export_errors(feed: Feed, trigger: str, user: Any, progress: Any) -> str:
    """Read NetSuite's import errors for the system, after its IDs, so customers given an ID meanwhile are spared."""
    export = (
        Feed.objects.filter(external_system=feed.external_system, kind=Feed.Kind.EXPORT, enabled=True)
        .select_related("sftp_connection", "external_system")
        .first()
    )
    if export is None:
        return ""
    ctx = RunContext(feed=export, trigger=trigger, user=user, progress=progress, job_run_id=progress.run.pk)
    try:
        summary = export_errors_import(ctx=ctx)
    except JobRefused as exc:
        return f" NetSuite's import errors were not read: {exc}"
    text = f" NetSuite import errors: {summary.describe()}" if summary.files else ""
    follow_up = export_follow_up(feed=export, trigger=trigger, user=user).describe()
    return f"{text} {follow_up}".rstrip() if follow_up else text


def run_export(
    *, trigger: str = "scheduled", user: Any = None, connection: str | None = None, show_progress: bool = False
) -> JobOutcome:
    """Run the customer export for each matching feed."""
    feeds = feeds_for(kind=Feed.Kind.EXPORT, connection=connection, scheduled=trigger == "scheduled" and not connection)
    outcome = JobOutcome()
    for feed in feeds:
        try:
            with job_run(
                job=EXPORT_JOB,
                external_system=feed.external_system,
                trigger=trigger,
                user=user,
                show_progress=show_progress,
            ) as progress:
                if not feed.enabled and trigger == "scheduled":
                    raise JobRefused(
                        f"The export feed for {feed.external_system.name} is disabled; enable it in Feeds."
                    )
                result = customers_export(
                    feed=feed, trigger=trigger, user=user, progress=progress, job_run_id=progress.run.pk
                )
                skipped = invalid_customers_log(feed=feed, trigger=trigger, user=user)
                text = result.describe()
                if skipped:
                    text += f" {skipped} customers with new problems were skipped (see the failed record queue)."
                progress.note(text)
                outcome.lines.append(f"{feed.external_system.name}: {text}")
        except JobRefused as exc:
            outcome.refused.append(str(exc))
    return outcome
