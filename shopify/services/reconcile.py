"""Reconciliation: what webhooks missed, read back with bulk operations and applied like the webhooks.

Shopify recommends reconciling because webhooks can be missed (shopify.dev/docs/apps/build/webhooks, "Best
practices"). A bulk query (shopify.dev/docs/api/usage/bulk-operations/queries) runs in Shopify; it is polled by
``node(id:)`` and its result is a JSONL file, one object a line, the objects of a nested connection on lines of
their own with ``__parentId`` and after their parent, though not necessarily right after it. So the file is read
line by line and applied in batches in file order: a location or contact finds its company in the database,
applied from an earlier line; memory stays flat whatever the shop's size.

Two bulk queries, one after the other (a shop runs one bulk query of an app at a time):
- customers updated since the last reconciliation (a few minutes of overlap; every customer the first time);
- every company with its locations and contacts. Companies are few, and a change to a location or contact is
  not documented to change its company's updatedAt, so they are read whole.
Every object goes through ``shopify_objects_apply``: only what is newer than the portal's data changes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from customers.models import SyncLog
from customers.services import Attempt, attempts_record

from ..client import BULK_FAILED, ShopifyClient, ShopifyError, ShopifyRetryableError
from ..mapping import ShopifyObject, UnreadablePayload, object_from_bulk_line, record_label
from ..models import ShopifyConnection
from .apply import APPLY_FAILED, UNREADABLE, Failure, shopify_objects_apply
from .inbox import RECORD_TYPES, applied_attempts

logger = logging.getLogger(__name__)

OPERATION = "shopify reconciliation"
BATCH = 500
OVERLAP = timedelta(minutes=5)
POLL_SECONDS = 2.0

_ADDRESS = "address1 address2 city province provinceCode zip countryCodeV2"
_COMPANY_ADDRESS = "address1 address2 city zoneCode zip countryCode"


def customers_query(since: datetime | None) -> str:
    """The bulk query of customers (updated since ``since``, or all)."""
    search = ""
    if since is not None:
        search = f"(query: \"updated_at:>='{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'\")"
    return (
        f"{{ customers{search} {{ edges {{ node {{ id firstName lastName state updatedAt "
        f"defaultEmailAddress {{ emailAddress }} defaultPhoneNumber {{ phoneNumber }} "
        f"addresses {{ id {_ADDRESS} }} defaultAddress {{ id }} }} }} }} }}"
    )


COMPANIES_QUERY = (
    "{ companies { edges { node { id name externalId updatedAt "
    "locations { edges { node { id name phone updatedAt "
    f"billingAddress {{ {_COMPANY_ADDRESS} }} shippingAddress {{ {_COMPANY_ADDRESS} }} }} }} }} "
    "contacts { edges { node { id title updatedAt customer { id } } } } } } } }"
)


@dataclass
class ReconcileReport:
    read: int = 0
    applied: int = 0
    stale: int = 0
    failed: int = 0
    unreadable: int = 0
    operations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Read {self.read} object(s) from Shopify: {self.applied} applied, {self.stale} unchanged (the portal was "
            f"up to date), {self.failed} failed, {self.unreadable} unreadable."
        )


class _Stream:
    """Apply objects read from JSONL lines in batches; log what fails."""

    def __init__(self, *, connection: ShopifyConnection, report: ReconcileReport, progress=None, trigger: str):
        self.connection = connection
        self.report = report
        self.progress = progress
        self.trigger = trigger

    def run(self, lines: Iterable[str]) -> None:
        batch: list[ShopifyObject] = []
        for number, line in enumerate(lines, start=1):
            self.report.read += 1
            try:
                batch.append(object_from_bulk_line(line))
            except UnreadablePayload as exc:
                self.report.unreadable += 1
                self._log_failures([], unreadable=[(number, str(exc), line)])
            if len(batch) >= BATCH:
                self.apply(batch)
                batch = []
        if batch:
            self.apply(batch)

    def apply(self, batch: list[ShopifyObject]) -> None:
        try:
            with transaction.atomic():
                result = shopify_objects_apply(connection=self.connection, objects=batch)
                self._count(result, len(batch))
                self._log_failures(result.failures, applied=result.applied)
        except Exception:
            logger.exception("A batch of %d Shopify objects failed; applying them one by one", len(batch))
            for obj in batch:
                self.apply_one(obj)

    def apply_one(self, obj: ShopifyObject) -> None:
        try:
            with transaction.atomic():
                result = shopify_objects_apply(connection=self.connection, objects=[obj])
                self._count(result, 1)
                self._log_failures(result.failures, applied=result.applied)
        except Exception as exc:
            logger.exception("Applying %s failed", record_label(obj.kind, obj.shopify_id))
            message = (
                f"Reconciliation could not apply it ({type(exc).__name__}: {exc}). The next reconciliation tries "
                "again; if it fails again, ask the team."
            )
            self.report.failed += 1
            self._log_failures([Failure(obj, APPLY_FAILED, message)])
            if self.progress is not None:
                self.progress.advance(1, failed=1)

    def _count(self, result, total: int) -> None:
        self.report.applied += len(result.applied)
        self.report.stale += len(result.stale)
        self.report.failed += len(result.failures)
        if self.progress is not None:
            self.progress.advance(total, failed=len(result.failures))

    def _log_failures(
        self, failures: list[Failure], unreadable: Iterable[tuple[int, str, str]] = (), applied=()
    ) -> None:
        system = self.connection.source_system_id
        attempts = [
            Attempt(
                system, RECORD_TYPES[f.obj.kind], record_label(f.obj.kind, f.obj.shopify_id), ok=False, code=f.code,
                message=f.message, trigger=self.trigger, operation=OPERATION,
            )
            for f in failures
        ]  # fmt: skip
        for number, reason, line in unreadable:
            attempts.append(
                Attempt(
                    system,
                    SyncLog.RecordType.FILE_ROW,
                    f"{self.connection.shop_domain} bulk result line {number}",
                    ok=False,
                    code=UNREADABLE,
                    message=f"Line {number} of Shopify's bulk result cannot be read: {reason} The line: {line[:500]}",
                    trigger=self.trigger,
                    operation=OPERATION,
                    line_number=number,
                )
            )
        attempts_record(attempts + applied_attempts(system, applied))


def lines_apply(
    *, connection: ShopifyConnection, lines: Iterable[str], progress=None, trigger: str = SyncLog.Trigger.SCHEDULED
) -> ReconcileReport:
    """Apply a bulk operation's JSONL lines (an iterator: read once, never held whole)."""
    report = ReconcileReport()
    _Stream(connection=connection, report=report, progress=progress, trigger=trigger).run(lines)
    return report


def _run_bulk(client: ShopifyClient, connection: ShopifyConnection, query: str, *, poll: float):
    """Start the bulk query (waiting out one already running) and wait for it to finish."""
    for _ in range(3):
        try:
            operation = client.bulk_run(query)
            break
        except ShopifyRetryableError as exc:
            if exc.code != BULK_FAILED:
                raise
            current = client.current_bulk_operation()
            if current is None:
                raise
            client.bulk_wait(current.id, poll=poll)
    else:
        raise ShopifyError(BULK_FAILED, "Another bulk query of this app kept running in the shop; try later.")
    ShopifyConnection.objects.filter(pk=connection.pk).update(bulk_operation_id=operation.id)
    operation = client.bulk_wait(operation.id, poll=poll)
    ShopifyConnection.objects.filter(pk=connection.pk).update(bulk_operation_id="")
    if operation.status != "COMPLETED":
        raise ShopifyError(
            BULK_FAILED,
            f"Shopify's bulk operation {operation.id} ended {operation.status}"
            + (f" ({operation.error_code})" if operation.error_code else "")
            + ". Nothing was lost: the next reconciliation asks again.",
        )
    return operation


def shopify_reconcile(
    *,
    connection: ShopifyConnection,
    since: datetime | None = None,
    full: bool = False,
    progress=None,
    trigger: str = SyncLog.Trigger.SCHEDULED,
    poll: float = POLL_SECONDS,
) -> ReconcileReport:
    """Read customers changed since the last reconciliation and every company, and apply them."""
    started = timezone.now()
    since = None if full else (since or connection.reconciled_since)
    report = ReconcileReport()
    with ShopifyClient(connection.client_config()) as client:
        for query in (customers_query(since), COMPANIES_QUERY):
            operation = _run_bulk(client, connection, query, poll=poll)
            report.operations.append(operation.id)
            if progress is not None:
                progress.set_total((progress.run.rows_total or 0) + operation.object_count)
            if not operation.url:  # Shopify gives no file when nothing matched
                continue
            with client.bulk_lines(operation.url) as lines:
                part = lines_apply(connection=connection, lines=lines, progress=progress, trigger=trigger)
            for name in ("read", "applied", "stale", "failed", "unreadable"):
                setattr(report, name, getattr(report, name) + getattr(part, name))
    ShopifyConnection.objects.filter(pk=connection.pk).update(
        reconciled_since=started - OVERLAP, last_reconciled_at=timezone.now()
    )
    if progress is not None:
        progress.note(report.summary())
    return report


def jsonl_lines(path) -> Iterator[str]:
    """Read a JSONL file line by line (benchmarks and tests feed ``lines_apply`` from a file)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


__all__ = ["COMPANIES_QUERY", "ReconcileReport", "customers_query", "jsonl_lines", "lines_apply", "shopify_reconcile"]
