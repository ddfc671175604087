"""Unsynced customers (portal → NetSuite): one export file per run, and "sync now" for file systems."""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from customers.dispatch import HISTORICAL_IMPORT_PENDING, Refusal, SyncResult, sync_refusal
from customers.errors import ErrorCode
from customers.models import (
    NETSUITE_CUSTOMER_ID,
    SHOPIFY_CUST_ID,
    Customer,
    CustomerSync,
    ExternalSystem,
    PartyIdentification,
)
from customers.services import (
    Attempt,
    attempts_record,
    customer_attempt,
    customer_refresh_validation,
    syncs_mark_sent,
)
from integration_portal import bulk as sql
from jobs.services import JobProgress, JobRefused

from ..formats import FORMULA_CHARS, ExportWriter, neutralize
from ..models import ExportedCustomer, Feed, FeedFile
from ..transport import transport_for

OPERATION = "export file"
READ_CHUNK = 5000
EXPORTABLE_STATUSES = (
    CustomerSync.Status.PENDING,
    CustomerSync.Status.NOT_SYNCED,
    CustomerSync.Status.ERROR,
)


def file_refusal(external_system: ExternalSystem) -> Refusal | None:
    """Say why no customer may be exported to the system now, or return None (registered with dispatch)."""
    if external_system.historical_import_completed_at is None:
        return Refusal(
            HISTORICAL_IMPORT_PENDING,
            f"The customer export to {external_system.name} did not run: NetSuite's historical customers have not "
            "been imported yet, and exporting now would create customers NetSuite already has. Run the historical "
            f"import first (Run now on its feed, or manage.py import_historical_customers --connection "
            f"{external_system.code}).",
        )
    return None


def export_refusal(*, external_system: ExternalSystem) -> str:
    """Return why exports to the system must not run now (the guards every way of sending applies), or ''."""
    refusal = sync_refusal(external_system=external_system, transport=ExternalSystem.Transport.FILE)
    return refusal.message if refusal is not None else ""


def _claim_sql(*, given: bool, placeholders: int = 0) -> str:
    """Link every exportable customer to the export file in one statement, locking its sync row."""
    c, s, i = sql.table(Customer), sql.table(CustomerSync), sql.table(PartyIdentification)
    e = sql.table(ExportedCustomer)
    # An operator's resync or selective export takes any status, but never a customer NetSuite already has.
    which = f"s.customer_id IN ({', '.join(['%s'] * placeholders)})" if given else "s.status IN (%s, %s, %s)"
    lock = " FOR UPDATE OF s SKIP LOCKED" if connection.vendor == "postgresql" else ""
    # Each row's line in the file is numbered here (the header is line 1) and the file is written in line order,
    # so NetSuite's "Line N: ..." errors lead back to the customer. PostgreSQL allows no window function next to
    # FOR UPDATE, hence the locking subquery.
    return (
        f"INSERT INTO {e} ({sql.column(ExportedCustomer, 'feed_file')}, {sql.column(ExportedCustomer, 'customer')}, "
        f"{sql.column(ExportedCustomer, 'line')}) "
        "SELECT %s, w.cid, ROW_NUMBER() OVER (ORDER BY w.sid) + 1 FROM ("
        f"SELECT s.id AS sid, c.id AS cid FROM {s} s JOIN {c} c ON c.id = s.customer_id "
        f"WHERE s.external_system_id = %s AND s.enabled = %s AND s.external_id = '' AND s.is_ready = %s AND {which} "
        f"AND NOT EXISTS (SELECT 1 FROM {i} y WHERE y.customer_id = c.id AND y.type = %s) "
        f"ORDER BY s.id{lock}) w"
    )


def _claimed_sql() -> str:
    """Read back the claimed customers in file order, with the Shopify ID the file carries."""
    c, i, e = sql.table(Customer), sql.table(PartyIdentification), sql.table(ExportedCustomer)
    return (
        f"SELECT c.customer_id, (SELECT MIN(x.value) FROM {i} x WHERE x.customer_id = c.id AND x.type = %s), "
        "c.first_name, c.last_name, c.company_name, c.email, c.phone, c.party_type, c.export_status, c.subsidiary, "
        "c.order_priority, c.account_source "
        f"FROM {e} e JOIN {c} c ON c.id = e.{sql.column(ExportedCustomer, 'customer')} "
        f"WHERE e.{sql.column(ExportedCustomer, 'feed_file')} = %s ORDER BY e.{sql.column(ExportedCustomer, 'line')}"
    )


def _export_rows(rows: Iterable[tuple], feed: Feed) -> Iterator[tuple]:
    """Turn claimed rows into export rows in EXPORT_HEADER order, values neutralised for spreadsheets."""
    person = Customer.PartyType.PERSON
    d_status, d_subsidiary, d_source = (neutralize(v) for v in (feed.default_status, feed.default_subsidiary,
                                                                feed.default_account_source))  # fmt: skip
    taxable, d_priority = feed.default_taxable, feed.default_order_priority
    starts = FORMULA_CHARS

    for cid, shop, first, last, company, email, phone, party, status, subsidiary, priority, source in rows:
        if party != person:
            # The header has no companyName column; HC_SC_ImportCustomer names a company from its first and last
            # name, so the company name goes there and a contact's name never becomes the company's.
            first, last = company, ""
        # The first-character test inlined for the columns every customer has: this runs for each row of a
        # million-row file; the rule itself (spreadsheet_safe) only for the rare value that starts like a formula.
        first, last, email, phone = (neutralize(v) if v and v[0] in starts else v for v in (first, last, email, phone))
        if "\n" in (joined := first + last + email + phone) or "\r" in joined:
            # One physical line per customer, so that NetSuite's "Line N" errors name the line the portal recorded.
            first, last, email, phone = (_one_line(v) for v in (first, last, email, phone))
        yield (
            cid,
            cid,
            shop or "",
            first,
            last,
            email,
            phone,
            "T" if party == person else "F",
            neutralize(status) if status else d_status,
            neutralize(subsidiary) if subsidiary else d_subsidiary,
            taxable,
            priority if priority is not None else d_priority,
            neutralize(source) if source else d_source,
        )


def _one_line(value: str) -> str:
    return " ".join(value.splitlines()) if value else value


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
    system = feed.external_system
    ns_type = system.identification_type or NETSUITE_CUSTOMER_ID
    if customer_pks is not None and not customer_pks:
        return None
    exported = (
        f"SELECT {sql.column(ExportedCustomer, 'customer')} FROM {sql.table(ExportedCustomer)} "
        f"WHERE {sql.column(ExportedCustomer, 'feed_file')} = %s"
    )
    if progress is not None:
        # Counted before the export's transaction, whose own writes stay unseen until it commits: the console
        # and the terminal show "0 of N" at once. A concurrent run (SKIP LOCKED) may leave this run fewer.
        waiting = CustomerSync.objects.filter(external_system=system, enabled=True, external_id="")
        waiting = waiting.filter(customer__is_valid=True).exclude(customer__identifications__type=ns_type)
        if customer_pks is None:
            progress.set_total(waiting.filter(status__in=EXPORTABLE_STATUSES).count())
        else:
            progress.set_total(waiting.filter(customer_id__in=customer_pks).count())
    with transport_for(feed.connection) as transport, transaction.atomic():
        entry = FeedFile.objects.create(
            feed=feed,
            direction=FeedFile.Direction.OUTBOUND,
            file_name="(being written)",
            remote_path="",
            job_run_id=job_run_id,
        )
        # Set-based: the claim, the read-back and the status update are one statement each, so a million
        # customers cost three queries, and the links say which file carried whom.
        if customer_pks is None:
            claim_sql, middle = _claim_sql(given=False), list(EXPORTABLE_STATUSES)
        else:
            claim_sql, middle = _claim_sql(given=True, placeholders=len(customer_pks)), list(customer_pks)
        total = sql.execute(claim_sql, [entry.pk, system.pk, True, True, *middle, ns_type])
        if total <= 0:
            # Nobody to send: no file, and no ledger entry for a file that was never written.
            entry.delete()
            return None
        name = export_file_name(entry=entry)
        folder = feed.folder
        transport.makedirs(folder)
        with transport.open_write_atomic(folder, name) as stream, connection.chunked_cursor() as cursor:
            writer = ExportWriter(stream)
            cursor.execute(_claimed_sql(), [SHOPIFY_CUST_ID, entry.pk])
            while rows := cursor.fetchmany(READ_CHUNK):
                writer.write_neutralized_rows(list(_export_rows(rows, feed)))
                if progress is not None:
                    progress.advance(len(rows))
            size, sha = writer.finish()
            syncs_mark_sent(
                external_system=system,
                customers_sql=exported,
                params=[entry.pk],
                status=CustomerSync.Status.EXPORTED,
                now=timezone.now(),
            )
            FeedFile.objects.filter(pk=entry.pk).update(
                file_name=name,
                remote_path=f"{folder.rstrip('/')}/{name}",
                size=size,
                sha256=sha,
                status=FeedFile.Status.DONE,
                rows_total=total,
                rows_ok=total,
                finished_at=timezone.now(),
            )
        # Leaving the block above renamed the file into place; the commit follows at once.
    entry.refresh_from_db()
    return entry


def invalid_customers_log(*, feed: Feed, trigger: str, user: Any = None) -> int:
    """Report the waiting customers the connector cannot take yet, once per change of their problems; return how
    many were reported (a customer already reported with the same problems is not reported again)."""
    system = feed.external_system
    waiting = (
        CustomerSync.objects.filter(
            external_system=system,
            enabled=True,
            external_id="",
            status__in=EXPORTABLE_STATUSES,
            is_ready=False,
        )
        .order_by("pk")
        .values_list(
            "customer_id", "customer__customer_id", "customer__party_type", "problems", "problem_code", "status",
            "last_error_code", "last_error_message",
        )
    )  # fmt: skip
    reported = 0
    batch: list[Attempt] = []
    for customer_pk, cid, party, problems, code, status, last_code, last_message in waiting.iterator(chunk_size=2000):
        message = _invalid_message(cid, system, problems)
        code = code or ErrorCode.CONNECTOR_NOT_SELECTED
        if status == CustomerSync.Status.ERROR and (last_code, last_message) == (code, message):
            continue  # reported before with the same problems, and still open: not again every run
        customer = Customer(pk=customer_pk, customer_id=cid, party_type=party)
        batch.append(
            customer_attempt(
                customer, system, ok=False, trigger=trigger, operation=OPERATION, code=code, message=message, user=user
            )
        )
        if len(batch) >= 2000:
            reported += len(batch)
            attempts_record(batch)
            batch = []
    attempts_record(batch)
    return reported + len(batch)


def _invalid_message(customer_id: str, system: ExternalSystem, problems: str) -> str:
    listed = "; ".join(p for p in problems.splitlines() if p.strip()) or "it has not been checked yet"
    return (
        f"Customer {customer_id} was not exported to {system.name}: {listed}. "
        "Fix this on the customer; the next export sends it."
    )


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
        return [
            SyncResult(c, ok=False, status="error", message=message, error_code=ErrorCode.NO_FEED) for c in customers
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
                customer, ok=False, status=CustomerSync.Status.ERROR, message=message, error_code=problems[0].code
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
                error_code=ErrorCode.NOT_EXPORTED,
            )
    attempts = []
    for customer in customers:
        result = results[customer.pk]
        # Exported customers' sync rows were marked with the file, and those already in NetSuite stay synced;
        # failures set theirs to error.
        attempts.append(
            customer_attempt(
                customer, external_system, ok=result.ok, trigger=trigger, operation=OPERATION,
                code=result.error_code, message=result.message, user=user,
                status=None if result.ok else CustomerSync.Status.ERROR,
                file_name=entry.file_name if entry and customer.pk in sent else "",
            )
        )  # fmt: skip
    attempts_record([a if not a.ok else replace(a, sync_status=None) for a in attempts])
    return [results[c.pk] for c in customers]
