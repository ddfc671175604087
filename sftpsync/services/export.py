"""Unsynced customers (portal → NetSuite): one export file per run, and "sync now" for file systems."""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from customers.dispatch import SyncResult
from customers.models import (
    NETSUITE_CUSTOMER_ID,
    SHOPIFY_CUST_ID,
    Customer,
    CustomerSync,
    ExternalSystem,
    PartyIdentification,
    SyncLog,
)
from customers.services import customer_refresh_validation, synclog_record
from jobs.services import JobProgress, JobRefused

from ..formats import ExportWriter
from ..models import ExportedCustomer, Feed, FeedFile
from ..transport import transport_for
from . import sql

OPERATION = "export file"
EXPORTABLE_STATUSES = (
    CustomerSync.Status.PENDING,
    CustomerSync.Status.NOT_SYNCED,
    CustomerSync.Status.ERROR,
)


def export_refusal(*, external_system: ExternalSystem) -> str:
    """Return why exports to the system must not run yet, or an empty string."""
    if external_system.historical_import_completed_at is None:
        return (
            f"The customer export to {external_system.name} did not run: NetSuite's historical customers have not "
            "been imported yet, and exporting now would create customers NetSuite already has. Run the historical "
            f"import first (Run now on its feed, or manage.py import_historical_customers --connection "
            f"{external_system.code})."
        )
    return ""


def _candidates_sql(*, feed: Feed, given: bool) -> str:
    c, s, i = sql.table(Customer), sql.table(CustomerSync), sql.table(PartyIdentification)
    # An operator's resync or selective export takes any status, but never a customer NetSuite already has.
    which = "s.customer_id IN ({into})" if given else "s.status IN (%s, %s, %s)"
    lock = " FOR UPDATE OF s SKIP LOCKED" if connection.vendor == "postgresql" else ""
    return (
        f"SELECT s.id, c.id, c.customer_id, "
        f"(SELECT MIN(x.value) FROM {i} x WHERE x.customer_id = c.id AND x.type = %s), "
        "c.first_name, c.last_name, c.company_name, c.email, c.phone, c.party_type, c.export_status, c.subsidiary, "
        "c.order_priority, c.account_source "
        f"FROM {s} s JOIN {c} c ON c.id = s.customer_id "
        f"WHERE s.external_system_id = %s AND s.enabled = %s AND s.external_id = '' AND c.is_valid = %s AND {which} "
        f"AND NOT EXISTS (SELECT 1 FROM {i} y WHERE y.customer_id = c.id AND y.type = %s) "
        f"AND s.id > %s ORDER BY s.id LIMIT %s{lock}"
    )


def _candidate_batches(*, feed: Feed, customer_pks: Sequence[int] | None, batch_size: int) -> Iterator[list[tuple]]:
    system = feed.external_system
    ns_type = system.identification_type or NETSUITE_CUSTOMER_ID
    given = customer_pks is not None
    template = _candidates_sql(feed=feed, given=given)
    last = 0
    with connection.cursor() as cursor:
        if given:
            query = template.format(into=", ".join(["%s"] * len(customer_pks))) if customer_pks else ""
            middle: list[Any] = list(customer_pks)
        else:
            query = template
            middle = list(EXPORTABLE_STATUSES)
        if not query:
            return
        while True:
            cursor.execute(query, [SHOPIFY_CUST_ID, system.pk, True, True, *middle, ns_type, last, batch_size])
            rows = cursor.fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]
            if len(rows) < batch_size:
                return


def _export_row(row: tuple, feed: Feed) -> tuple:
    (_, _, cid, shop, first, last, company, email, phone, party, status, subsidiary, priority, source) = row
    if party != Customer.PartyType.PERSON:
        # The header has no companyName column; HC_SC_ImportCustomer names a company from its first and last
        # name, so the company name goes there and a contact's name never becomes the company's.
        first, last = company, ""
    return (
        cid,
        cid,
        shop or "",
        first,
        last,
        email,
        phone,
        "T" if party == Customer.PartyType.PERSON else "F",
        status or feed.default_status,
        subsidiary or feed.default_subsidiary,
        feed.default_taxable,
        priority if priority is not None else feed.default_order_priority,
        source or feed.default_account_source,
    )


def export_file_name(*, entry: FeedFile) -> str:
    return f"HCCustomerExport-{timezone.now():%Y%m%d-%H%M%S}-{entry.pk}.csv"


def customers_export(
    *,
    feed: Feed,
    trigger: str,
    user: Any = None,
    progress: JobProgress | None = None,
    job_run_id: int | None = None,
    customer_pks: Sequence[int] | None = None,
) -> FeedFile | None:
    """Write the customers waiting for NetSuite into one export file; return its ledger entry (None: nobody).

    The rows are locked (PostgreSQL: SKIP LOCKED, so a concurrent run takes other customers; SQLite: the
    IMMEDIATE transaction serialises writers), written to a temporary name, and the file is renamed and the
    customers marked "exported, awaiting ID" at the end of the same transaction that records the file.
    """
    refusal = export_refusal(external_system=feed.external_system)
    if refusal:
        raise JobRefused(refusal)
    sync_table = sql.table(CustomerSync)
    mark = (
        f"UPDATE {sync_table} SET status = %s, last_attempt_at = %s, last_error_code = '', last_error_message = '' "
        "WHERE id IN ({into})"
    )
    links = sql.RowInserter(ExportedCustomer, ("feed_file_id", "customer_id"))
    with transport_for(feed.connection) as transport, transaction.atomic():
        batches = _candidate_batches(feed=feed, customer_pks=customer_pks, batch_size=max(feed.batch_size, 1))
        first = next(batches, None)
        if first is None:
            return None
        entry = FeedFile.objects.create(
            feed=feed,
            direction=FeedFile.Direction.OUTBOUND,
            file_name="(being written)",
            remote_path="",
            job_run_id=job_run_id,
        )
        name = export_file_name(entry=entry)
        folder = feed.folder
        transport.makedirs(folder)
        total = 0
        now = sql.db_datetime(timezone.now())
        with transport.open_write_atomic(folder, name) as stream:
            writer = ExportWriter(stream)
            batch: list[tuple] | None = first
            while batch:
                writer.write_rows(_export_row(r, feed) for r in batch)
                for part in sql.chunks([r[0] for r in batch]):
                    sql.execute(
                        mark.format(into=", ".join(["%s"] * len(part))), [CustomerSync.Status.EXPORTED, now, *part]
                    )
                links.insert([(entry.pk, r[1]) for r in batch])
                total += len(batch)
                if progress is not None:
                    progress.advance(len(batch))
                batch = next(batches, None)
            size, sha = writer.finish()
            finished = timezone.now()
            FeedFile.objects.filter(pk=entry.pk).update(
                file_name=name,
                remote_path=f"{folder.rstrip('/')}/{name}",
                size=size,
                sha256=sha,
                status=FeedFile.Status.DONE,
                rows_total=total,
                rows_ok=total,
                finished_at=finished,
            )
        # Leaving the block above renamed the file into place; the commit follows at once.
    entry.refresh_from_db()
    return entry


def invalid_customers_log(*, feed: Feed, trigger: str, user: Any = None) -> int:
    """Log why waiting customers cannot be exported, once per distinct set of problems; return how many."""
    system = feed.external_system
    waiting = (
        CustomerSync.objects.filter(
            external_system=system,
            enabled=True,
            external_id="",
            status__in=EXPORTABLE_STATUSES,
            customer__is_valid=False,
        )
        .order_by("pk")
        .values_list("pk", "customer_id", "customer__customer_id", "customer__problems", "customer__party_type")
    )
    logged = 0
    creator = user if getattr(user, "is_authenticated", False) else None
    batch: list[tuple] = []
    for row in waiting.iterator(chunk_size=2000):
        batch.append(row)
        if len(batch) >= 2000:
            logged += _log_invalid(batch, system, trigger, creator)
            batch = []
    if batch:
        logged += _log_invalid(batch, system, trigger, creator)
    return logged


def _invalid_message(customer_id: str, system: ExternalSystem, problems: str) -> str:
    listed = "; ".join(p for p in problems.splitlines() if p.strip()) or "it has not been checked yet"
    return (
        f"Customer {customer_id} was not exported to {system.name}: {listed}. "
        "Fix this on the customer; the next export sends it."
    )


def _log_invalid(batch: list[tuple], system: ExternalSystem, trigger: str, creator: Any) -> int:
    record_ids = [cid for _, _, cid, _, _ in batch]
    open_failures: dict[str, set[str]] = {}
    for record_id, message in SyncLog.objects.filter(
        record_id__in=record_ids,
        record_type__in=[SyncLog.RecordType.CUSTOMER, SyncLog.RecordType.COMPANY],
        external_system=system,
        operation=OPERATION,
        outcome=SyncLog.Outcome.FAILED,
        resolved_at__isnull=True,
    ).values_list("record_id", "message"):
        open_failures.setdefault(record_id, set()).add(message)
    now = timezone.now()
    entries, superseded, sync_errors = [], [], []
    for sync_pk, customer_pk, cid, problems, party in batch:
        message = _invalid_message(cid, system, problems)
        known = open_failures.get(cid, set())
        if message in known:
            continue  # the same problems were logged before and are still open: no new entry every run
        if known:
            superseded.append(cid)
        record_type = SyncLog.RecordType.COMPANY if party == Customer.PartyType.COMPANY else SyncLog.RecordType.CUSTOMER
        entries.append(
            SyncLog(
                record_type=record_type,
                record_id=cid,
                customer_id=customer_pk,
                external_system=system,
                operation=OPERATION,
                trigger=trigger,
                outcome=SyncLog.Outcome.FAILED,
                error_code="VALIDATION_FAILED",
                message=message,
                created_by=creator,
            )
        )
        sync_errors.append((sync_pk, message))
    with transaction.atomic():
        if superseded:
            SyncLog.objects.filter(
                record_id__in=superseded,
                external_system=system,
                operation=OPERATION,
                outcome=SyncLog.Outcome.FAILED,
                resolved_at__isnull=True,
            ).update(resolved_at=now)
        SyncLog.objects.bulk_create(entries, batch_size=1000)
        for sync_pk, message in sync_errors:
            CustomerSync.objects.filter(pk=sync_pk).update(
                status=CustomerSync.Status.ERROR,
                last_attempt_at=now,
                last_error_code="VALIDATION_FAILED",
                last_error_message=message,
            )
    return len(entries)


def export_feed_for(*, external_system: ExternalSystem) -> Feed | None:
    return (
        Feed.objects.select_related("connection", "external_system")
        .filter(external_system=external_system, kind=Feed.Kind.EXPORT)
        .first()
    )


def file_sync_handler(
    *, customers: list[Customer], external_system: ExternalSystem, trigger: str, user: Any = None
) -> list[SyncResult]:
    """Send the given customers to a file-exchange system now: write them into an export file at once."""
    feed = export_feed_for(external_system=external_system)
    if feed is None or not feed.enabled:
        message = (
            f"{external_system.name} has no enabled customer export feed, so nothing was sent. "
            "Add or enable its EXP_CUSTOMER feed under Feeds."
        )
        return [SyncResult(c, ok=False, status="error", message=message, error_code="NO_FEED") for c in customers]
    refusal = export_refusal(external_system=external_system)
    if refusal:
        return [
            SyncResult(c, ok=False, status="error", message=refusal, error_code="HISTORICAL_IMPORT_PENDING")
            for c in customers
        ]
    results: dict[int, SyncResult] = {}
    to_send: list[int] = []
    ns_type = external_system.identification_type or NETSUITE_CUSTOMER_ID
    for customer in customers:
        sync, _ = CustomerSync.objects.get_or_create(customer=customer, external_system=external_system)
        ident = customer.identifications.filter(type=ns_type).values_list("value", flat=True).first()
        if sync.external_id or ident:
            external_id = sync.external_id or ident or ""
            results[customer.pk] = SyncResult(
                customer,
                ok=True,
                status=CustomerSync.Status.SYNCED,
                message=f"Customer {customer.customer_id} is already in {external_system.name} "
                f"(internal ID {external_id}); it is not exported again, to avoid a duplicate.",
                external_id=external_id,
            )
            continue
        problems = customer_refresh_validation(customer=customer)
        if problems:
            message = _invalid_message(customer.customer_id, external_system, "\n".join(p.message for p in problems))
            results[customer.pk] = SyncResult(
                customer, ok=False, status=CustomerSync.Status.ERROR, message=message, error_code="VALIDATION_FAILED"
            )
            continue
        to_send.append(customer.pk)
    entry = customers_export(feed=feed, trigger=trigger, user=user, customer_pks=to_send) if to_send else None
    sent = set(entry.exported_customers.values_list("customer_id", flat=True)) if entry else set()
    for customer in customers:
        if customer.pk in results:
            continue
        if customer.pk in sent:
            results[customer.pk] = SyncResult(
                customer,
                ok=True,
                status=CustomerSync.Status.EXPORTED,
                message=f"Customer {customer.customer_id} was written to {entry.file_name}; "
                f"it waits for {external_system.name}'s ID.",
            )
        else:
            results[customer.pk] = SyncResult(
                customer,
                ok=False,
                status=CustomerSync.Status.ERROR,
                message=f"Customer {customer.customer_id} was not exported: it is being exported by another run, "
                "or its connector is switched off. Try again in a minute.",
                error_code="NOT_EXPORTED",
            )
    for customer in customers:
        result = results[customer.pk]
        record_type = SyncLog.RecordType.CUSTOMER if customer.is_person else SyncLog.RecordType.COMPANY
        synclog_record(
            record_type=record_type,
            record_id=customer.customer_id,
            trigger=trigger,
            outcome=SyncLog.Outcome.SUCCESS if result.ok else SyncLog.Outcome.FAILED,
            customer=customer,
            external_system=external_system,
            operation=OPERATION,
            error_code=result.error_code,
            message=result.message,
            file_name=entry.file_name if entry and customer.pk in sent else "",
            user=user,
        )
        if not result.ok:
            CustomerSync.objects.filter(customer=customer, external_system=external_system).update(
                status=CustomerSync.Status.ERROR,
                last_attempt_at=timezone.now(),
                last_error_code=result.error_code[:60],
                last_error_message=result.message,
            )
    return [results[c.pk] for c in customers]
