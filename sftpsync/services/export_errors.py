"""What NetSuite's side says about export files, and what it never says: errors, failed/ and IDs that never came.

HC_SC_ImportCustomer reports only whole files: when downloading, submitting or moving a file throws, it writes
``export/error/<Date>-ErrorAddCustomer.csv`` (``fileName,errorMessage``, one unquoted line per file) and moves the
file to ``export/failed/``. Both are read back here and the file's customers put in error. Rows the CSV import
rejects are reported nowhere the portal can read (only on NetSuite's CSV Import Job Status page), so a customer
whose ID has not come back within the export feed's wait is turned into a failure naming that page and the file.
"""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone

from customers.errors import ErrorCode
from customers.models import NETSUITE_CUSTOMER_ID, CustomerSync, PartyIdentification

from .. import formats
from ..models import ExportedCustomer, Feed, FeedFile
from ..transport import RemoteNotFound, transport_for
from .export import ID_NOT_RETURNED
from .failures import FailureGroup, customers_fail
from .folders import EXPORT_ERROR, EXPORT_FAILED
from .ledger import ImportSummary, RowProblem, RunContext, feed_import

OPERATION = "netsuite csv import"
# NetSuite's message for a whole export file (an error file's line), and an export file found in failed/ alone.
ERROR_CODE = ErrorCode.NETSUITE_IMPORT_ERROR
FAILED_CODE = ErrorCode.NETSUITE_FILE_FAILED
# An error file naming a file the portal never wrote.
UNKNOWN_CODE = ErrorCode.UNKNOWN_EXPORT_FILE
ERROR_PATTERN = "*.csv"
# Where NetSuite shows each import job, with a response file of the rows it rejected.
STATUS_PAGE = "Setup > Import/Export > View CSV Import Status"


def _waiting_customers(export: FeedFile, system_id: int, ns_type: str) -> list[int]:
    """The export's customers still without their NetSuite ID and not sent again in a newer file since."""
    pks = list(ExportedCustomer.objects.filter(feed_file=export).values_list("customer_id", flat=True))
    if not pks:
        return []
    done = set(
        CustomerSync.objects.filter(external_system_id=system_id, customer_id__in=pks)
        .exclude(external_id="")
        .values_list("customer_id", flat=True)
    )
    done |= set(
        PartyIdentification.objects.filter(customer_id__in=pks, type=ns_type).values_list("customer_id", flat=True)
    )
    newer = set(
        ExportedCustomer.objects.filter(customer_id__in=pks, feed_file__feed=export.feed)
        .values("customer_id")
        .annotate(last=Max("feed_file_id"))
        .filter(last__gt=export.pk)
        .values_list("customer_id", flat=True)
    )
    return [pk for pk in pks if pk not in done and pk not in newer]


class ExportErrorProcessor:
    """Put the customers of each export file NetSuite reports in an error file in error, with its message."""

    layout = formats.EXPORT_ERROR
    operation = OPERATION

    def __init__(self, *, ctx: RunContext, entry: FeedFile):
        self.ctx = ctx
        self.feed = ctx.feed
        self.system = ctx.feed.external_system
        self.ns_type = self.system.identification_type or NETSUITE_CUSTOMER_ID

    def write_batch(self, rows: list[formats.Row]) -> list[RowProblem]:
        """Resolve each line to an export file of the portal and mark its customers; others are problems."""
        names = {r.values["file_name"] for r in rows}
        exports = {
            f.file_name: f
            for f in FeedFile.objects.filter(feed=self.feed, direction=FeedFile.Direction.OUTBOUND, file_name__in=names)
        }
        problems, groups = [], []
        for row in rows:
            name, message = row.values["file_name"], row.values["message"]
            export = exports.get(name)
            if export is None:
                problems.append(
                    RowProblem(
                        row.line,
                        f"NetSuite reports an error for {name}, but the portal never wrote a file of that name for "
                        f"{self.system.name}, so no customer could be marked: {message}",
                        UNKNOWN_CODE,
                    )
                )
                continue
            text = (
                f"NetSuite's HC_SC_ImportCustomer could not take the export file {name}: {message or '(no message)'}. "
                f"The file is in {posixpath.join(self.feed.folder, EXPORT_FAILED)}; none of its customers was "
                "imported unless NetSuite's CSV import had already been submitted."
            )
            groups.append(
                FailureGroup(ERROR_CODE, text, tuple(_waiting_customers(export, self.system.pk, self.ns_type)), name)
            )
            FeedFile.objects.filter(pk=export.pk).update(status=FeedFile.Status.FAILED, reason=text)
        customers_fail(
            system=self.system, groups=groups, operation=OPERATION, trigger=self.ctx.trigger, user=self.ctx.user
        )
        return problems

    def file_done(self, entry: FeedFile) -> None:
        """Nothing more to record: each batch is complete in itself."""


def export_errors_import(*, ctx: RunContext) -> ImportSummary:
    """Take in the new files of the export feed's error/ folder: the export files NetSuite could not take."""
    feed = ctx.feed
    if feed.kind != Feed.Kind.EXPORT:
        raise ValueError(f"Feed {feed.pk} is not a customer export feed")
    ctx.folder, ctx.file_pattern = posixpath.join(feed.folder, EXPORT_ERROR), ERROR_PATTERN
    try:
        return feed_import(ctx=ctx, processor_factory=lambda entry: ExportErrorProcessor(ctx=ctx, entry=entry))
    except RemoteNotFound:
        return ImportSummary(notes=[f"No error folder {ctx.folder} yet."])


@dataclass
class FollowUp:
    """What reading NetSuite's side of the exports came to."""

    failed_files: list[str] = field(default_factory=list)
    overdue: int = 0

    def describe(self) -> str:
        parts = []
        if self.failed_files:
            parts.append(f"{len(self.failed_files)} export file(s) in failed/: {', '.join(self.failed_files)}.")
        if self.overdue:
            parts.append(f"{self.overdue} customers whose NetSuite ID did not come back in time are now failures.")
        return " ".join(parts)


def export_follow_up(*, feed: Feed, trigger: str, user: Any = None) -> FollowUp:
    """Read export/failed/ and fail the customers whose NetSuite ID is overdue (after the IDs that came back)."""
    result = FollowUp()
    system = feed.external_system
    ns_type = system.identification_type or NETSUITE_CUSTOMER_ID
    failed_folder = posixpath.join(feed.folder, EXPORT_FAILED)
    with transport_for(feed.sftp_connection) as transport:
        try:
            names = {f.name: f.path for f in transport.list_files(failed_folder)}
        except RemoteNotFound:
            names = {}
    groups = []
    for export in FeedFile.objects.filter(
        feed=feed, direction=FeedFile.Direction.OUTBOUND, status=FeedFile.Status.DONE, file_name__in=list(names)
    ).order_by("pk"):
        text = (
            f"NetSuite's HC_SC_ImportCustomer moved the export file {export.file_name} to {failed_folder} without "
            f"importing it (its error file names the cause). Check {STATUS_PAGE} in NetSuite for a job 'Add "
            f"Customer-{export.file_name}'; the customers it did not import are sent again on RESYNC."
        )
        FeedFile.objects.filter(pk=export.pk).update(
            status=FeedFile.Status.FAILED, reason=text, remote_path=names[export.file_name]
        )
        groups.append(
            FailureGroup(FAILED_CODE, text, tuple(_waiting_customers(export, system.pk, ns_type)), export.file_name)
        )
        result.failed_files.append(export.file_name)
    customers_fail(system=system, groups=groups, operation=OPERATION, trigger=trigger, user=user)
    result.overdue = _fail_overdue(feed, trigger, user)
    return result


def _fail_overdue(feed: Feed, trigger: str, user: Any) -> int:
    """Turn customers exported longer ago than the feed's wait, still without their ID, into failures per file."""
    system = feed.external_system
    cutoff = timezone.now() - timedelta(minutes=feed.id_wait_minutes)
    waiting = CustomerSync.objects.filter(
        external_system=system, status=CustomerSync.Status.EXPORTED, external_id="", last_attempt_at__lt=cutoff
    ).values_list("customer_id", flat=True)
    by_file: dict[tuple[int, str], list[int]] = {}
    last = 0
    while part := list(waiting.filter(customer_id__gt=last).order_by("customer_id")[:5000]):
        latest = dict(
            ExportedCustomer.objects.filter(customer_id__in=part, feed_file__feed=feed)
            .values("customer_id")
            .annotate(last=Max("feed_file_id"))
            .values_list("customer_id", "last")
        )
        files = dict(FeedFile.objects.filter(pk__in=set(latest.values())).values_list("pk", "file_name"))
        for pk in part:
            export_pk = latest.get(pk, 0)
            by_file.setdefault((export_pk, files.get(export_pk, "")), []).append(pk)
        last = part[-1]
    hours = f"{feed.id_wait_minutes / 60:g} hours" if feed.id_wait_minutes >= 60 else f"{feed.id_wait_minutes} minutes"
    groups = []
    for (_export_pk, name), pks in sorted(by_file.items()):
        where = f"the export file {name}" if name else "its export file"
        groups.append(
            FailureGroup(
                ID_NOT_RETURNED,
                f"NetSuite has not returned the internal ID {hours} after the customer was exported in {where}. "
                "NetSuite's CSV import rejects rows without telling the portal: open "
                f"{STATUS_PAGE} in NetSuite, find the job 'Add Customer-{name or '<file>'}' and read its response file "
                "for this customer's row; fix the cause (here or in NetSuite), then RESYNC.",
                tuple(pks),
                name,
            )
        )
    return customers_fail(system=system, groups=groups, operation=OPERATION, trigger=trigger, user=user)
