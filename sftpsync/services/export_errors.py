"""NetSuite's import errors (export/error/*.csv from HC_SC_ImportCustomer): the customers it rejected, and why.

HC_SC_ImportCustomer writes ``fileName,errorMessage`` rows: ``Line N: ...`` for a rejected row of an export file,
or a message without a line when it rejected the whole file. Each row leads back, through the ledger's outbound
entry and the line kept with each exported customer, to the customer: it is marked in error with NetSuite's
message and enters the Failed Record Queue, where RESYNC sends it again once it is fixed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Max

from customers.errors import ErrorCode
from customers.models import NETSUITE_CUSTOMER_ID, Customer, CustomerSync, PartyIdentification
from customers.services import attempts_record, customer_attempt
from integration_portal import bulk as sql

from .. import formats
from ..models import ExportedCustomer, Feed, FeedFile
from ..transport import transport_for
from .ledger import ImportSummary, RowProblem, RunContext, feed_import

UNKNOWN_CODE = ErrorCode.UNKNOWN_EXPORT_ROW
OPERATION = "netsuite csv import"
ERROR_SUBFOLDER = "error"
ERROR_PATTERN = "*.csv"
# Old SQLite builds allow 999 parameters per statement.
CHUNK = sql.IN_CHUNK
_LINE = re.compile(r"\s*line\s+(\d+)\s*[:.,-]?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Rejection:
    """One customer NetSuite rejected: from which export file and line, and NetSuite's words."""

    customer_pk: int
    export: FeedFile
    line: int | None
    detail: str


def _split(message: str) -> tuple[int | None, str]:
    """Split NetSuite's message into its line number (None: the whole file) and the rest."""
    match = _LINE.match(message)
    if match is None:
        return None, message.strip()
    return int(match.group(1)), message[match.end() :].strip() or message.strip()


def _chunks(values: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class ExportErrorProcessor:
    """Mark the customers NetSuite rejected in error, with its message, once."""

    layout = formats.EXPORT_ERROR
    operation = OPERATION

    def __init__(self, *, ctx: RunContext, entry: FeedFile):
        self.ctx = ctx
        self.feed = ctx.feed
        self.system = ctx.feed.external_system
        self.sys_type = self.system.identification_type or NETSUITE_CUSTOMER_ID
        self.entry = entry

    def write_batch(self, rows: list[formats.Row]) -> list[RowProblem]:
        """Resolve each error row to its customers and mark them; rows that lead nowhere are problems."""
        if not rows:
            return []
        names = {r.values["file_name"].strip() for r in rows}
        exports = {
            f.file_name: f
            for f in FeedFile.objects.filter(
                feed=self.feed, direction=FeedFile.Direction.OUTBOUND, file_name__in=names
            ).order_by("pk")
        }
        by_pk = {f.pk: f for f in exports.values()}
        problems: list[RowProblem] = []
        by_line: dict[tuple[int, int], tuple[formats.Row, str]] = {}
        whole: list[tuple[formats.Row, FeedFile, str]] = []
        for row in rows:
            name, message = row.values["file_name"].strip(), row.values["message"].strip()
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
            line, detail = _split(message)
            if line is None:
                whole.append((row, export, detail))
            else:
                by_line[(export.pk, line)] = (row, detail)

        rejections: list[Rejection] = []
        found: set[tuple[int, int]] = set()
        per_file: dict[int, list[int]] = {}
        for export_pk, line in by_line:
            per_file.setdefault(export_pk, []).append(line)
        for export_pk, lines in per_file.items():
            for part in _chunks(lines):
                for customer_pk, line in ExportedCustomer.objects.filter(
                    feed_file_id=export_pk, line__in=part
                ).values_list("customer_id", "line"):
                    found.add((export_pk, line))
                    rejections.append(Rejection(customer_pk, by_pk[export_pk], line, by_line[(export_pk, line)][1]))
        for (export_pk, line), (row, detail) in by_line.items():
            if (export_pk, line) not in found:
                name = by_pk[export_pk].file_name
                problems.append(
                    RowProblem(
                        row.line,
                        f"NetSuite rejected line {line} of {name}, but the portal has no customer on that line of "
                        f"the file, so none was marked: {detail}",
                        UNKNOWN_CODE,
                    )
                )
        named = {(r.export.pk, r.customer_pk) for r in rejections}
        for _row, export, detail in whole:
            # A customer whose own line NetSuite named keeps that more telling message.
            for customer_pk in ExportedCustomer.objects.filter(feed_file=export).values_list("customer_id", flat=True):
                if (export.pk, customer_pk) not in named:
                    rejections.append(Rejection(customer_pk, export, None, detail))
        for part in _chunks(rejections):
            self._mark(part)
        return problems

    def _mark(self, rejections: list[Rejection]) -> None:
        pks = {r.customer_pk for r in rejections}
        customers = {c.pk: c for c in Customer.objects.filter(pk__in=pks).only("pk", "customer_id", "party_type")}
        syncs = {
            customer_pk: (status, external_id)
            for customer_pk, status, external_id in CustomerSync.objects.filter(
                external_system=self.system, customer_id__in=pks
            ).values_list("customer_id", "status", "external_id")
        }
        has_id = set(
            PartyIdentification.objects.filter(customer_id__in=pks, type=self.sys_type).values_list(
                "customer_id", flat=True
            )
        )
        latest = dict(
            ExportedCustomer.objects.filter(customer_id__in=pks, feed_file__feed=self.feed)
            .values("customer_id")
            .annotate(last=Max("feed_file_id"))
            .values_list("customer_id", "last")
        )
        attempts = []
        for r in rejections:
            customer, sync = customers.get(r.customer_pk), syncs.get(r.customer_pk)
            if customer is None or sync is None:
                continue
            status, external_id = sync
            if status == CustomerSync.Status.SYNCED or external_id or r.customer_pk in has_id:
                continue  # NetSuite's ID arrived meanwhile: nothing left to fix
            if latest.get(r.customer_pk, r.export.pk) > r.export.pk:
                continue  # sent again in a newer file since: that file's outcome counts
            attempts.append(
                customer_attempt(
                    customer, self.system, ok=False, trigger=self.ctx.trigger, operation=OPERATION,
                    code=ErrorCode.NETSUITE_IMPORT_ERROR, message=_message(customer.customer_id, self.system.name, r),
                    user=self.ctx.user, file_name=r.export.file_name, line_number=r.line,
                )
            )  # fmt: skip
        attempts_record(attempts)

    def file_done(self, entry: FeedFile) -> None:
        """Nothing more to record: each batch is complete in itself."""


def _message(customer_id: str, system: str, r: Rejection) -> str:
    where = f"line {r.line} of {r.export.file_name}" if r.line else f"the whole file {r.export.file_name}"
    return f"{system} did not import customer {customer_id} ({where}): {r.detail}"


def export_errors_import(*, ctx: RunContext) -> ImportSummary:
    """Take in the new files of the export feed's error/ folder: the customers NetSuite could not import."""
    feed = ctx.feed
    if feed.kind != Feed.Kind.EXPORT:
        raise ValueError(f"Feed {feed.pk} is not a customer export feed")
    folder = posixpath.join(feed.folder, ERROR_SUBFOLDER)
    with transport_for(feed.connection) as transport:
        if not transport.exists(folder):
            return ImportSummary(notes=[f"No error folder {folder} yet."])
    ctx.folder, ctx.file_pattern = folder, ERROR_PATTERN
    return feed_import(ctx=ctx, processor_factory=lambda entry: ExportErrorProcessor(ctx=ctx, entry=entry))
