"""Pushing customers to NetSuite over REST and pulling them back, as one sync shape per record.

Push, per customer: load → skip if nothing to do → validate → map → write (``PUT eid:``, or ``PATCH`` by
internal ID once linked) → bind the internal ID → log the attempt. Requests run in worker threads, at most
the connection's concurrency share at once; every database write happens in the calling thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Prefetch
from django.utils import timezone

from customers.dispatch import SyncResult
from customers.models import (
    SHOPIFY_CUST_ID,
    Customer,
    CustomerSync,
    ExternalSystem,
    PartyIdentification,
    SyncLog,
    external_id_validator,
    new_customer_id,
)
from customers.services import (
    IdentificationConflict,
    customer_sync_record_error,
    customer_sync_record_success,
    customer_validate_for_export,
    identification_add,
    synclog_record,
)
from jobs.services import JobRefused

from . import selectors
from .client import NetSuiteClient, NetSuiteError, WriteResult
from .limiter import limiter_for
from .mapping import (
    MappingError,
    Mappings,
    customer_to_netsuite,
    netsuite_keys,
    netsuite_to_customer_fields,
)
from .models import NetSuiteConnection

logger = logging.getLogger(__name__)

OPERATION_UPSERT = "rest upsert"
OPERATION_UPDATE = "rest update"
OPERATION_PULL = "rest pull"
PARENT_NOT_IN_NETSUITE = "PARENT_NOT_IN_NETSUITE"
NO_CONNECTION = "NO_CONNECTION"
# Re-read this much before the last pull's start, for clock differences between the portal and NetSuite.
PULL_OVERLAP = timedelta(minutes=2)
PULL_PAGE_SIZE = 1000
FINISH_BATCH = 1  # a longer write transaction would hold back the limiter's slot updates on SQLite


def client_for(*, connection: NetSuiteConnection, **config_changes: Any) -> NetSuiteClient:
    """Return a client for the connection, limited to its concurrency share across all processes."""
    config = connection.client_config()
    if config_changes:
        config = replace(config, **config_changes)
    return NetSuiteClient(config, limiter=limiter_for(connection=connection))


def _record_type(customer: Customer) -> str:
    return SyncLog.RecordType.COMPANY if customer.party_type == Customer.PartyType.COMPANY else "customer"


# ---- running requests in worker threads ---------------------------------------------------------


_STOP = object()


def run_in_threads(
    items: Iterator[Any], work: Callable[[Any], Any], *, workers: int, backlog: int
) -> Iterator[tuple[Any, Any, BaseException | None]]:
    """Run ``work(item)`` in ``workers`` threads; yield (item, result, error) in the caller's thread.

    Items are drawn lazily, keeping at most ``backlog`` handed out, so the caller can prepare the next
    ones (database reads) and record finished ones (database writes) while requests are in flight.
    """
    todo: queue.Queue = queue.Queue()
    done: queue.Queue = queue.Queue()

    def worker() -> None:
        try:
            while (item := todo.get()) is not _STOP:
                try:
                    done.put((item, work(item), None))
                except BaseException as exc:
                    done.put((item, None, exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, name=f"netsuite-{n}", daemon=True) for n in range(max(1, workers))]
    for thread in threads:
        thread.start()
    outstanding, exhausted = 0, False
    try:
        while True:
            while not exhausted and outstanding < backlog:
                try:
                    item = next(items)
                except StopIteration:
                    exhausted = True
                    break
                todo.put(item)
                outstanding += 1
            if not outstanding:
                return
            yield done.get()
            outstanding -= 1
    finally:
        # Drop what was not started yet (the caller stopped early), then let the workers finish.
        while True:
            try:
                todo.get_nowait()
            except queue.Empty:
                break
        for _ in threads:
            todo.put(_STOP)
        for thread in threads:
            thread.join()


# ---- push ---------------------------------------------------------------------------------------


@dataclass
class _Prepared:
    customer: Customer
    sync: CustomerSync
    internal_id: str
    body: dict


@dataclass
class PushReport:
    """What a push came to: results by customer primary key, in the order they finished."""

    results: dict[int, SyncResult] = field(default_factory=dict)

    @property
    def succeeded(self) -> int:
        return sum(1 for r in self.results.values() if r.ok)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results.values() if not r.ok)

    def summary(self) -> str:
        return f"{self.succeeded} customer(s) sent to NetSuite, {self.failed} failed."


def _with_unbound_parents(*, external_system: ExternalSystem, customer_pks: Iterable[int]) -> tuple[list[int], dict]:
    """Add every parent company not yet in NetSuite (and its parents); return pks and their parent pks."""
    parents: dict[int, int | None] = {}
    wanted = list(dict.fromkeys(customer_pks))
    todo = wanted
    while todo:
        rows = dict(Customer.objects.filter(pk__in=todo).values_list("pk", "parent_id"))
        parents.update(rows)
        parent_pks = {p for p in rows.values() if p and p not in parents}
        if not parent_pks:
            break
        bound = selectors.bound_internal_ids(external_system=external_system, customer_pks=list(parent_pks))
        todo = [p for p in parent_pks if p not in bound]
        for p in parent_pks:
            if p in bound:
                parents.setdefault(p, None)
        wanted += todo
    return [pk for pk in wanted if pk in parents], parents


def _levels(pks: list[int], parents: dict[int, int | None], included: set[int]) -> list[list[int]]:
    """Group customers so that each parent company is in an earlier group than its sub-customers."""
    depth: dict[int, int] = {}

    def level(pk: int, seen: tuple = ()) -> int:
        if pk in depth:
            return depth[pk]
        parent = parents.get(pk)
        result = 0 if (not parent or parent not in included or parent in seen) else level(parent, (*seen, pk)) + 1
        depth[pk] = result
        return result

    groups: dict[int, list[int]] = {}
    for pk in pks:
        groups.setdefault(level(pk), []).append(pk)
    return [groups[k] for k in sorted(groups)]


class _Push:
    """One push run over a set of customers for one connection."""

    def __init__(self, *, connection, trigger, user, progress, client, skip_synced):
        self.connection = connection
        self.system = connection.external_system
        self.trigger = trigger
        self.user = user
        self.progress = progress
        self.client = client or client_for(connection=connection)
        self.skip_synced = skip_synced
        self.mappings = Mappings.from_json(connection.mappings)
        self.defaults = connection.defaults or {}
        self.report = PushReport()
        self.internal_ids: dict[int, str] = {}
        self.requested: set[int] = set()

    def run(self, customer_pks: Iterable[int]) -> PushReport:
        requested = list(dict.fromkeys(customer_pks))
        self.requested = set(requested)
        pks, parents = _with_unbound_parents(external_system=self.system, customer_pks=requested)
        self.parents = parents
        self.internal_ids = selectors.bound_internal_ids(external_system=self.system, customer_pks=list(parents))
        if self.progress is not None and len(pks) != len(requested):
            self.progress.set_total((self.progress.run.rows_total or len(requested)) + len(pks) - len(requested))
        for group in _levels(pks, parents, set(pks)):
            prepared = self._prepare_all(group)
            share = self.connection.concurrency_share
            done: list[tuple] = []
            for outcome in run_in_threads(prepared, self._write, workers=share, backlog=share * 4):
                done.append(outcome)
                if len(done) >= FINISH_BATCH:
                    self._finish_batch(done)
                    done = []
            self._finish_batch(done)
        return self.report

    def _finish_batch(self, done: list[tuple]) -> None:
        # One transaction for a few results (each in its own savepoint) keeps this thread quick to hand
        # out more work; a crash before it commits only means those customers are sent again, safely.
        with transaction.atomic():
            for item, result, error in done:
                self._finish(item, result, error)

    # load → skip → validate → map
    def _prepare_all(self, pks: list[int]) -> Iterator[_Prepared]:
        size = max(1, self.connection.batch_size)
        for start in range(0, len(pks), size):
            chunk = pks[start : start + size]
            customers = Customer.objects.filter(pk__in=chunk).prefetch_related(
                "addresses",
                "contacts",
                Prefetch("syncs", queryset=CustomerSync.objects.filter(external_system=self.system)),
            )
            by_pk = {c.pk: c for c in customers}
            for pk in chunk:
                customer = by_pk.get(pk)
                if customer is not None:
                    prepared = self._prepare(customer)
                    if prepared is not None:
                        yield prepared

    def _prepare(self, customer: Customer) -> _Prepared | None:
        syncs = list(customer.syncs.all())
        sync = syncs[0] if syncs else None
        internal_id = self.internal_ids.get(customer.pk, "")
        if (
            self.skip_synced
            and sync is not None
            and internal_id
            and sync.status == CustomerSync.Status.SYNCED
            and sync.last_synced_at
            and customer.modified_at <= sync.last_synced_at
        ):
            self._record(customer, sync, SyncResult(customer, ok=True, status=sync.status, external_id=internal_id))
            return None
        problems = customer_validate_for_export(customer=customer, external_system=self.system)
        if problems:
            code = problems[0].code if len(problems) == 1 else "VALIDATION_FAILED"
            message = f"Not sent to NetSuite: {'; '.join(p.message for p in problems)}."
            return self._fail(customer, sync, code, message)
        parent_id = ""
        if customer.parent_id:
            parent_id = self.internal_ids.get(customer.parent_id, "")
            if not parent_id:
                parent = Customer.objects.filter(pk=customer.parent_id).values_list("customer_id", flat=True).first()
                reason = self.report.results.get(customer.parent_id)
                why = f": {reason.message}" if reason and reason.message else "."
                return self._fail(
                    customer,
                    sync,
                    PARENT_NOT_IN_NETSUITE,
                    f"Not sent to NetSuite: its parent company {parent} is not in NetSuite yet and could not be "
                    f"sent{why} Fix the parent company, then resync both.",
                )
        try:
            body = customer_to_netsuite(
                customer,
                list(customer.addresses.all()),
                list(customer.contacts.all()),
                self.mappings,
                self.defaults,
                parent_internal_id=parent_id or None,
            )
        except MappingError as exc:
            return self._fail(customer, sync, MappingError.code, f"Not sent to NetSuite: {exc}.")
        return _Prepared(customer=customer, sync=sync, internal_id=internal_id, body=body)

    # write (in a worker thread: HTTP only, no database)
    def _write(self, item: _Prepared) -> WriteResult:
        if item.internal_id:
            return self.client.update_customer(item.internal_id, item.body)
        return self.client.upsert_customer(item.customer.customer_id, item.body)

    # bind → log
    def _finish(self, item: _Prepared, result: WriteResult | None, error: BaseException | None) -> None:
        customer, sync = item.customer, item.sync
        operation = OPERATION_UPDATE if item.internal_id else OPERATION_UPSERT
        if error is not None:
            if isinstance(error, NetSuiteError):
                code, message = error.code, error.message
            else:
                logger.exception("Unexpected error pushing customer %s", customer.customer_id, exc_info=error)
                code, message = "UNEXPECTED_ERROR", f"Unexpected error ({type(error).__name__}: {error})."
            self._fail(customer, sync, code, f"NetSuite push failed: {message}", operation=operation)
            return
        internal_id = result.internal_id
        try:
            with transaction.atomic():
                identification_add(customer=customer, type=self.system.identification_type, value=internal_id)
                customer_sync_record_success(sync=sync, external_id=internal_id)
                synclog_record(
                    record_type=_record_type(customer),
                    record_id=customer.customer_id,
                    customer=customer,
                    external_system=self.system,
                    operation=operation,
                    trigger=self.trigger,
                    outcome=SyncLog.Outcome.SUCCESS,
                    message=f"In NetSuite as internal ID {internal_id}.",
                    user=self.user,
                )
        except (IdentificationConflict, IntegrityError) as exc:
            sync.refresh_from_db()
            message = (
                f"NetSuite answered with internal ID {internal_id}, but it is already linked to another customer "
                f"({exc}). Check for a duplicate customer in the portal and merge or unlink it."
            )
            self._fail(customer, sync, "BINDING_CONFLICT", message, operation=operation)
            return
        self.internal_ids[customer.pk] = internal_id
        self._record(customer, sync, SyncResult(customer, ok=True, status=sync.status, external_id=internal_id))

    def _fail(self, customer, sync, code, message, *, operation=OPERATION_UPSERT) -> None:
        with transaction.atomic():
            if sync is not None:
                customer_sync_record_error(sync=sync, code=code, message=message)
            synclog_record(
                record_type=_record_type(customer),
                record_id=customer.customer_id,
                customer=customer,
                external_system=self.system,
                operation=operation,
                trigger=self.trigger,
                outcome=SyncLog.Outcome.FAILED,
                error_code=code[:60],
                message=message,
                user=self.user,
            )
        self._record(
            customer,
            sync,
            SyncResult(customer, ok=False, status=CustomerSync.Status.ERROR, message=message, error_code=code),
        )
        return None

    def _record(self, customer, sync, result: SyncResult) -> None:
        self.report.results[customer.pk] = result
        if self.progress is not None:
            self.progress.advance(1, failed=0 if result.ok else 1)


def customers_push(
    *,
    connection: NetSuiteConnection,
    customer_pks: Iterable[int],
    trigger: str,
    user=None,
    progress=None,
    client: NetSuiteClient | None = None,
    skip_synced: bool = False,
) -> PushReport:
    """Send customers to NetSuite (parent companies not yet there first); bind and log each one."""
    push = _Push(
        connection=connection, trigger=trigger, user=user, progress=progress, client=client, skip_synced=skip_synced
    )
    return push.run(customer_pks)


def push_refusal(*, connection: NetSuiteConnection) -> str:
    """Say why automatic pushes must wait, or return '' when they may run."""
    system = connection.external_system
    if not connection.is_active or not system.is_active:
        return f"The NetSuite connection {system.name} is switched off."
    if not connection.has_credentials:
        return f"The NetSuite connection {system.name} has no credentials yet: enter them in the admin."
    if system.historical_import_completed_at is None:
        return (
            f"Customers are not pushed to {system.name} until NetSuite's existing customers have been pulled once "
            "(otherwise NetSuite gets duplicates). Run `manage.py pull_customers` (or the pull_customers job) "
            "and let it finish, or complete the historical import."
        )
    return ""


def customers_push_scheduled(*, connection: NetSuiteConnection, trigger: str, user=None, progress=None) -> PushReport:
    """Send the pending and changed customers of the connection; refuse before the first complete pull."""
    refusal = push_refusal(connection=connection)
    if refusal:
        raise JobRefused(refusal)
    pks = selectors.customer_pks_due_for_push(external_system=connection.external_system)
    if progress is not None:
        progress.set_total(len(pks))
    report = customers_push(connection=connection, customer_pks=pks, trigger=trigger, user=user, progress=progress)
    if progress is not None:
        progress.note(report.summary())
    return report


def customers_push_handler(*, customers, external_system: ExternalSystem, trigger: str, user=None) -> list[SyncResult]:
    """Dispatch handler for transport "rest": send the given customers now, one result each."""
    connection = selectors.connection_for_system(external_system=external_system)
    if connection is None or not connection.has_credentials:
        message = (
            f"{external_system.name} has no NetSuite REST connection with credentials: add one under "
            "NetSuite REST → NetSuite connections."
        )
        return [SyncResult(c, ok=False, status="error", message=message, error_code=NO_CONNECTION) for c in customers]
    report = customers_push(connection=connection, customer_pks=[c.pk for c in customers], trigger=trigger, user=user)
    return [
        report.results.get(c.pk) or SyncResult(c, ok=False, status="error", message="Not attempted.") for c in customers
    ]


# ---- orders wait for customers ------------------------------------------------------------------


@dataclass(frozen=True)
class Presence:
    """Whether a customer is in NetSuite, as the orders endpoint answers it."""

    customer_id: str
    present: bool
    internal_id: str
    status: str
    message: str = ""

    def as_json(self) -> dict:
        return {
            "customerId": self.customer_id,
            "present": self.present,
            "internalId": self.internal_id or None,
            "status": self.status,
            "message": self.message,
        }


def customer_presence(*, customer: Customer, connection: NetSuiteConnection) -> Presence:
    """Answer whether the customer is linked to a NetSuite internal ID on this connection."""
    system = connection.external_system
    internal_id = selectors.bound_internal_ids(external_system=system, customer_pks=[customer.pk]).get(customer.pk, "")
    sync = CustomerSync.objects.filter(customer=customer, external_system=system).first()
    status = sync.status if sync else CustomerSync.Status.NOT_SYNCED
    message = sync.last_error_message if sync and status == CustomerSync.Status.ERROR else ""
    return Presence(customer.customer_id, bool(internal_id), internal_id, status, message)


def customer_ensure_in_netsuite(*, customer: Customer, connection: NetSuiteConnection, user=None) -> Presence:
    """Make sure the customer (and its parent company) is in NetSuite before an order goes there."""
    presence = customer_presence(customer=customer, connection=connection)
    if presence.present and presence.status == CustomerSync.Status.SYNCED:
        return presence
    customers_push(connection=connection, customer_pks=[customer.pk], trigger=SyncLog.Trigger.ON_DEMAND, user=user)
    return customer_presence(customer=customer, connection=connection)


# ---- event-driven push --------------------------------------------------------------------------


def customers_mark_changed(*, customer_pks: Iterable[int]) -> int:
    """Put synced REST links of changed customers back to pending, so a missed event is caught by the schedule."""
    return CustomerSync.objects.filter(
        customer_id__in=list(customer_pks),
        enabled=True,
        status__in=[CustomerSync.Status.SYNCED, CustomerSync.Status.ERROR],
        external_system__netsuite_connection__is_active=True,
        external_system__transport=ExternalSystem.Transport.REST,
    ).update(status=CustomerSync.Status.PENDING)


def customers_enqueue_push(*, customer_pks: Iterable[int]) -> str | None:
    """Queue an event-driven push of these customers on the django-q2 cluster; return the task ID."""
    pks = sorted(set(customer_pks))
    if not pks or not selectors.connections_active().filter(push_on_change=True).exists():
        return None
    customers_mark_changed(customer_pks=pks)
    from django_q.tasks import async_task

    return async_task(
        "netsuite.tasks.push_changed_customers", customer_pks=pks, task_name=f"NetSuite push of {len(pks)} changed"
    )


def customers_push_changed(*, customer_pks: Iterable[int], trigger: str = SyncLog.Trigger.EVENT) -> str:
    """Send changed customers to every connection that pushes on change; quiet until the first pull is done."""
    pks = list(customer_pks)
    lines = []
    for connection in selectors.connections_active().filter(push_on_change=True):
        refusal = push_refusal(connection=connection)
        if refusal:
            lines.append(refusal)
            continue
        linked = list(
            CustomerSync.objects.filter(
                external_system=connection.external_system, customer_id__in=pks, enabled=True
            ).values_list("customer_id", flat=True)
        )
        if linked:
            report = customers_push(connection=connection, customer_pks=linked, trigger=trigger)
            lines.append(f"{connection.external_system.name}: {report.summary()}")
    return " ".join(lines) or "Nothing to push."


# ---- pull ---------------------------------------------------------------------------------------

PULL_COLUMNS = (
    "id",
    "externalid",
    "isperson",
    "firstname",
    "lastname",
    "companyname",
    "email",
    "phone",
    "subsidiary",
    "parent",
    "terms",
    "pricelevel",
    "salesrep",
    "isinactive",
    "lastmodifieddate",
    "custentity_hc_shopify_customer_id",
)
CUSTOMER_PULL_FIELDS = (
    "party_type",
    "first_name",
    "last_name",
    "company_name",
    "email",
    "phone",
    "is_active",
    "payment_term",
    "price_level",
    "sales_rep",
    "subsidiary",
)


def suiteql_timestamp(value: datetime, tz: ZoneInfo) -> str:
    return "TO_TIMESTAMP('{}', 'YYYY-MM-DD HH24:MI:SS')".format(value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"))


def pull_query(*, since: datetime | None, subsidiary_ids: Sequence[int], tz: ZoneInfo) -> Callable[[int | None], str]:
    """Return the SuiteQL builder of a pull: rows changed since ``since``, in the subsidiaries, after an id."""

    def build(after_id: int | None) -> str:
        where = []
        if since is not None:
            where.append(f"lastmodifieddate >= {suiteql_timestamp(since, tz)}")
        if subsidiary_ids:
            where.append(f"subsidiary IN ({', '.join(str(int(s)) for s in subsidiary_ids)})")
        if after_id is not None:
            where.append(f"id > {int(after_id)}")
        sql = f"SELECT {', '.join(PULL_COLUMNS)} FROM customer"  # noqa: S608 (numbers and fixed columns only)
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql + " ORDER BY id"

    return build


@dataclass
class PullReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_local: int = 0
    failed: int = 0
    pages: int = 0
    completed: bool = False

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.kept_local + self.failed

    def summary(self) -> str:
        text = (
            f"{self.rows} NetSuite customer(s) read: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        if self.kept_local:
            text += f", {self.kept_local} kept with local changes not yet sent"
        if self.failed:
            text += f", {self.failed} failed (see the Failed Record Queue)"
        return text + "."


def _prefetch_pages(pages: Iterator, depth: int = 2) -> Iterator:
    """Fetch the next pages in a thread while the caller writes the current one."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        buffer.put(("page", page), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(("end", None))
        except BaseException as exc:
            buffer.put(("error", exc))

    thread = threading.Thread(target=produce, name="netsuite-pull", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = buffer.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join(timeout=60)


def customers_pull(
    *,
    connection: NetSuiteConnection,
    since: datetime | None = None,
    trigger: str = SyncLog.Trigger.SCHEDULED,
    user=None,
    progress=None,
    client: NetSuiteClient | None = None,
    full: bool = False,
) -> PullReport:
    """Pull customers changed in NetSuite since the watermark (all of them the first time), page by page.

    The position is saved with each page, in the same transaction, so a pull that is stopped resumes
    where it was; the watermark moves only when a pull completes.
    """
    client = client or client_for(connection=connection)
    tz = ZoneInfo(connection.time_zone or "UTC")
    now = timezone.now()
    if since is not None or full:
        run_since, after_id, started_at = since, None, now
    elif connection.pull_cursor_started_at is not None:
        run_since, after_id = connection.pull_cursor_since, connection.pull_cursor_last_id
        started_at = connection.pull_cursor_started_at
    else:
        run_since, after_id, started_at = connection.pull_watermark, None, now
    NetSuiteConnection.objects.filter(pk=connection.pk).update(
        pull_cursor_since=run_since, pull_cursor_last_id=after_id, pull_cursor_started_at=started_at
    )
    build = pull_query(since=run_since, subsidiary_ids=connection.subsidiary_ids, tz=tz)
    applier = _PullApplier(connection=connection, trigger=trigger, user=user, tz=tz)
    report = applier.report
    first = True
    for page in _prefetch_pages(client.suiteql_keyset(build, after_id=after_id, limit=PULL_PAGE_SIZE)):
        if first and progress is not None and page.total is not None:
            progress.set_total(page.total)
        first = False
        if not page.items:
            continue
        with transaction.atomic():
            failed_before = report.failed
            applier.apply(page.items)
            last_id = int(page.items[-1]["id"])
            NetSuiteConnection.objects.filter(pk=connection.pk).update(pull_cursor_last_id=last_id)
        report.pages += 1
        if progress is not None:
            progress.advance(len(page.items), failed=report.failed - failed_before)

    completed_at = timezone.now()
    watermark = started_at - PULL_OVERLAP
    with transaction.atomic():
        NetSuiteConnection.objects.filter(pk=connection.pk).update(
            pull_watermark=watermark,
            pull_cursor_since=None,
            pull_cursor_last_id=None,
            pull_cursor_started_at=None,
            last_pull_completed_at=completed_at,
        )
        if run_since is None:
            # A complete pull of every customer: pushes may now run without creating duplicates.
            ExternalSystem.objects.filter(pk=connection.external_system_id, historical_import_completed_at=None).update(
                historical_import_completed_at=completed_at
            )
    connection.pull_watermark = watermark
    connection.pull_cursor_since = connection.pull_cursor_last_id = connection.pull_cursor_started_at = None
    connection.last_pull_completed_at = completed_at
    report.completed = True
    if progress is not None:
        progress.note(report.summary())
    return report


def _insert_rows(model, rows: list[dict[str, Any]], *, ignore_conflicts: bool = False) -> None:
    """Insert rows of plain values with one prepared statement (executemany), far faster than bulk_create.

    Columns not given take the field's default; ``ON CONFLICT DO NOTHING`` works on SQLite and PostgreSQL.
    """
    if not rows:
        return
    conn = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = rows[0].keys()
    constant = {f.attname: f.get_db_prep_save(f.get_default(), conn) for f in fields if f.attname not in given}
    adapt = {f.attname: conn.ops.adapt_datetimefield_value for f in fields if f.get_internal_type() == "DateTimeField"}
    qn = conn.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({}){}".format(  # noqa: S608 (quoted model names, no input)
        qn(model._meta.db_table),
        ", ".join(qn(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
        " ON CONFLICT DO NOTHING" if ignore_conflicts else "",
    )
    memo: dict[Any, Any] = {}

    def value(f, row):
        if f.attname not in row:
            return constant[f.attname]
        v = row[f.attname]
        if v is not None and f.attname in adapt:
            if v not in memo:
                memo[v] = adapt[f.attname](v)
            return memo[v]
        return v

    with conn.cursor() as cursor:
        cursor.executemany(sql, [[value(f, row) for f in fields] for row in rows])


class _PullApplier:
    """Write one page of NetSuite customers: match, create or update, link, in a few bulk statements."""

    def __init__(self, *, connection: NetSuiteConnection, trigger: str, user, tz: ZoneInfo):
        self.connection = connection
        self.system = connection.external_system
        self.ident_type = self.system.identification_type
        self.trigger = trigger
        self.user = user
        self.tz = tz
        self.mappings = Mappings.from_json(connection.mappings)
        self.report = PullReport()

    def _fail(self, record_id: str, customer: Customer | None, code: str, message: str) -> None:
        self.report.failed += 1
        synclog_record(
            record_type=SyncLog.RecordType.CUSTOMER,
            record_id=record_id,
            customer=customer,
            external_system=self.system,
            operation=OPERATION_PULL,
            trigger=self.trigger,
            outcome=SyncLog.Outcome.FAILED,
            error_code=code,
            message=message,
            user=self.user,
        )

    def _match(self, rows: list[tuple[Any, dict]]) -> dict[str, int]:
        """Map NetSuite internal IDs to local customers: by the NetSuite ID link, the sync's external ID,
        externalId = customer ID, then the Shopify customer ID."""
        ns_ids = [k.internal_id for k, _ in rows]
        found: dict[str, int] = dict(
            PartyIdentification.objects.filter(type=self.ident_type, value__in=ns_ids).values_list(
                "value", "customer_id"
            )
        )
        rest = [i for i in ns_ids if i not in found]
        if rest:
            for value, pk in CustomerSync.objects.filter(external_system=self.system, external_id__in=rest).values_list(
                "external_id", "customer_id"
            ):
                found.setdefault(value, pk)
        rest_rows = [k for k, _ in rows if k.internal_id not in found]
        by_eid = {k.external_id: k.internal_id for k in rest_rows if k.external_id}
        if by_eid:
            for customer_id, pk in Customer.objects.filter(customer_id__in=list(by_eid)).values_list(
                "customer_id", "pk"
            ):
                found.setdefault(by_eid[customer_id], pk)
        by_shopify = {k.shopify_id: k.internal_id for k in rest_rows if k.shopify_id and k.internal_id not in found}
        if by_shopify:
            for value, pk in PartyIdentification.objects.filter(
                type=SHOPIFY_CUST_ID, value__in=list(by_shopify)
            ).values_list("value", "customer_id"):
                found.setdefault(by_shopify[value], pk)
        return found

    def apply(self, items: list[dict]) -> None:
        now = timezone.now()
        rows = []
        for item in items:
            keys = netsuite_keys(item, tz=self.tz)
            if not keys.internal_id:
                self._fail("(no id)", None, "MALFORMED_RESPONSE", f"NetSuite sent a customer without an id: {item!r}")
                continue
            rows.append((keys, netsuite_to_customer_fields(item, mappings=self.mappings)))

        matched = self._match(rows)
        matched_pks = list(set(matched.values()))
        existing = Customer.objects.in_bulk(matched_pks) if matched_pks else {}
        # The NetSuite ID each matched customer is already linked to, to catch a second NetSuite record.
        linked_to: dict[int, str] = {
            pk: value
            for value, pk in PartyIdentification.objects.filter(
                type=self.ident_type, customer_id__in=matched_pks
            ).values_list("value", "customer_id")
        }
        syncs = {
            s.customer_id: s
            for s in CustomerSync.objects.filter(external_system=self.system, customer_id__in=matched_pks)
        }

        to_update: list[Customer] = []
        new_rows: list[dict[str, Any]] = []
        new_keys: dict[str, Any] = {}  # customer ID → NetSuite keys
        links: list[tuple[int, Any]] = []
        candidate_ids = [k.external_id for k, _ in rows if k.internal_id not in matched and k.external_id]
        taken_cids = set(Customer.objects.filter(customer_id__in=candidate_ids).values_list("customer_id", flat=True))
        for keys, fields in rows:
            pk = matched.get(keys.internal_id)
            if pk is not None:
                customer = existing[pk]
                other = linked_to.get(pk)
                if other and other != keys.internal_id:
                    self._fail(
                        keys.external_id or keys.internal_id,
                        customer,
                        "DUPLICATE_IN_NETSUITE",
                        f"NetSuite customer {keys.internal_id} (external ID {keys.external_id or 'none'}) matches "
                        f"customer {customer.customer_id}, which is already linked to NetSuite customer {other}: "
                        "NetSuite holds a duplicate. Merge the two in NetSuite, then pull again.",
                    )
                    continue
                sync = syncs.get(pk)
                if (
                    sync
                    and sync.status in (CustomerSync.Status.PENDING, CustomerSync.Status.ERROR)
                    and (sync.last_synced_at is None or customer.modified_at > sync.last_synced_at)
                ):
                    # Local changes not yet sent win: the next push sends them to NetSuite.
                    self.report.kept_local += 1
                    links.append((pk, keys))
                    continue
                changed = [f for f in CUSTOMER_PULL_FIELDS if getattr(customer, f) != fields[f]]
                if changed:
                    for f in changed:
                        setattr(customer, f, fields[f])
                    customer.modified_at = now
                    to_update.append(customer)
                    self.report.updated += 1
                else:
                    self.report.unchanged += 1
                links.append((pk, keys))
            else:
                customer_id = keys.external_id
                if not _valid_customer_id(customer_id) or customer_id in taken_cids:
                    customer_id = new_customer_id()
                taken_cids.add(customer_id)
                segment = (
                    Customer.Segment.B2B
                    if fields["party_type"] == Customer.PartyType.COMPANY or keys.parent_id
                    else Customer.Segment.B2C
                )
                new_rows.append(
                    {"customer_id": customer_id, "segment": segment, "created_at": now, "modified_at": now, **fields}
                )
                new_keys[customer_id] = keys
                self.report.created += 1

        if to_update:
            Customer.objects.bulk_update(to_update, [*CUSTOMER_PULL_FIELDS, "modified_at"], batch_size=500)
        if new_rows:
            _insert_rows(Customer, new_rows)
            created = Customer.objects.filter(customer_id__in=list(new_keys)).values_list("customer_id", "pk")
            links += [(pk, new_keys[customer_id]) for customer_id, pk in created]
        self._link(links, now)

    def _link(self, links: list[tuple[int, Any]], now: datetime) -> None:
        """Create the NetSuite and Shopify identifications and the synced links; set parent companies."""
        pks = [pk for pk, _ in links]
        has_ident = set(
            PartyIdentification.objects.filter(type=self.ident_type, customer_id__in=pks).values_list(
                "customer_id", flat=True
            )
        )
        idents = {(self.ident_type, keys.internal_id): pk for pk, keys in links if pk not in has_ident}
        idents.update({(SHOPIFY_CUST_ID, keys.shopify_id): pk for pk, keys in links if keys.shopify_id})
        _insert_rows(
            PartyIdentification,
            [{"customer_id": pk, "type": t, "value": v, "created_at": now} for (t, v), pk in idents.items()],
            ignore_conflicts=True,
        )

        syncs = {
            s.customer_id: s for s in CustomerSync.objects.filter(external_system=self.system, customer_id__in=pks)
        }
        new_syncs, changed_syncs = [], []
        for pk, keys in links:
            sync = syncs.get(pk)
            if sync is None:
                new_syncs.append(
                    {
                        "customer_id": pk,
                        "external_system_id": self.system.pk,
                        "enabled": True,
                        "status": CustomerSync.Status.SYNCED,
                        "external_id": keys.internal_id,
                        "last_synced_at": now,
                    }
                )
            else:
                # A pending or failed link keeps its status: local changes still have to be sent.
                keep = sync.status in (CustomerSync.Status.PENDING, CustomerSync.Status.ERROR)
                if sync.external_id == keys.internal_id and (keep or sync.status == CustomerSync.Status.SYNCED):
                    continue
                sync.external_id = keys.internal_id
                if not keep:
                    sync.status = CustomerSync.Status.SYNCED
                    sync.last_synced_at = now
                changed_syncs.append(sync)
        _insert_rows(CustomerSync, new_syncs, ignore_conflicts=True)
        CustomerSync.objects.bulk_update(changed_syncs, ["external_id", "status", "last_synced_at"], batch_size=500)

        # Sub-customers: link to the parent company when the portal knows it (parents usually come first).
        wanted = {pk: keys.parent_id for pk, keys in links if keys.parent_id}
        if wanted:
            parents = dict(
                PartyIdentification.objects.filter(type=self.ident_type, value__in=set(wanted.values())).values_list(
                    "value", "customer_id"
                )
            )
            current = dict(Customer.objects.filter(pk__in=list(wanted)).values_list("pk", "parent_id"))
            updates = [
                Customer(pk=pk, parent_id=parents[ns_parent])
                for pk, ns_parent in wanted.items()
                if ns_parent in parents and current.get(pk) != parents[ns_parent] and parents[ns_parent] != pk
            ]
            Customer.objects.bulk_update(updates, ["parent"], batch_size=500)


def _valid_customer_id(value: str) -> bool:
    if not value or len(value) > 40:
        return False
    try:
        external_id_validator(value)
    except Exception:
        return False
    return True


# ---- test connection ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    code: str = ""


def connection_test(*, connection: NetSuiteConnection) -> ConnectionCheck:
    """Sign in to NetSuite and run a one-row query; say plainly what is wrong when it fails."""
    if not connection.has_credentials:
        return ConnectionCheck(
            False,
            "Enter the consumer key and secret and the token ID and secret first.",
            "MISSING_CREDENTIALS",
        )
    client = client_for(connection=connection, max_retries=0, timeout=float(min(connection.request_timeout, 20)))
    try:
        page = client.suiteql_page("SELECT id FROM customer ORDER BY id", limit=1)
    except NetSuiteError as exc:
        return ConnectionCheck(False, f"{exc.message} [{exc.code}]", exc.code)
    finally:
        client.close()
    total = f" It holds {page.total} customer(s)." if page.total is not None else ""
    return ConnectionCheck(
        True, f"Connected to NetSuite account {connection.account_id} at {connection.rest_url}.{total}"
    )
