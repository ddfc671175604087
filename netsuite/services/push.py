"""Pushing customers to NetSuite over REST and pulling them back, as one sync shape per record.

Push, per customer: load → skip if nothing to do → validate → map → write (``PUT eid:``, or ``PATCH`` by
internal ID once linked) → bind the internal ID → log the attempt. Requests run in worker threads, at most
the connection's concurrency share at once; every database write happens in the calling thread.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from itertools import chain

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone

from customers.dispatch import (
    CONNECTION_INACTIVE,
    HISTORICAL_IMPORT_PENDING,
    MISSING_CREDENTIALS,
    NO_CONNECTION,
    SECRET_UNREADABLE,
    Refusal,
    SyncResult,
    sync_refusal,
)
from customers.errors import ErrorCode
from customers.models import (
    Customer,
    CustomerSync,
    ExternalSystem,
    PartyIdentification,
)
from customers.services import (
    IdentificationConflict,
    attempt_record,
    attempts_record,
    customer_attempt,
    customer_validate_for_export,
    identification_add,
)
from integration_portal.bulk import db_value, insert_rows
from integration_portal.secrets import secrets_unreadable_message
from jobs.registry import JOBS
from jobs.services import JobRefused

from .. import selectors
from ..client import NetSuiteClient, NetSuiteError, WriteResult
from ..limiter import slots_for_run
from ..mapping import (
    MappingError,
    customer_to_netsuite,
)
from ..models import NetSuiteConnection
from .common import OPERATION_UPDATE, OPERATION_UPSERT, PARENT_NOT_IN_NETSUITE, client_for
from .references import mappings_for
from .threads import run_in_threads

logger = logging.getLogger(__name__)


# Results written in one transaction at most; prepared customers handed out ahead, per request slot.
FINISH_BATCH = 50
FINISH_LINGER = 0.1  # seconds to gather results for one transaction (each costs this thread the GIL a while)
BACKLOG_PER_SLOT = 20


NOT_SENT = "Not sent to NetSuite: "


def in_netsuite(internal_id: str) -> str:
    return f"In NetSuite as internal ID {internal_id}."


def not_sent(reasons: str) -> str:
    """Say why a customer was not sent, as one sentence ending with a single period."""
    return f"{NOT_SENT}{reasons.rstrip('. ')}."


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
        self.client = client
        self.skip_synced = skip_synced
        self.mappings = mappings_for(external_system=connection.external_system_id)
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
        share = self.connection.concurrency_share
        with ExitStack() as slots:
            # Parent companies first: each level starts once the one above it is bound.
            for group in _levels(pks, parents, set(pks)):
                prepared = self._prepare_all(group)
                first = next(prepared, None)
                if first is None:
                    continue
                if self.client is None:
                    # Claimed once for the whole run (only when there is something to send): no database
                    # write per request, so the requests never wait behind this thread's writes.
                    limiter = slots.enter_context(slots_for_run(connection=self.connection))
                    self.client = client_for(connection=self.connection, limiter=limiter)
                outcomes = run_in_threads(
                    chain([first], prepared), self._write, workers=share, backlog=share * BACKLOG_PER_SLOT,
                    max_batch=FINISH_BATCH, linger=FINISH_LINGER,
                )  # fmt: skip
                for done in outcomes:
                    self._finish_batch(done)
        return self.report

    def _finish_batch(self, done: list[tuple]) -> None:
        # One transaction for the results that came in meanwhile keeps this thread quick to hand out more
        # work; a crash before it commits only means those customers are sent again, safely (upsert by
        # external ID).
        with transaction.atomic():
            written = []
            for item, result, error in done:
                if error is None:
                    written.append((item, result.internal_id))
                else:
                    self._finish(item, result, error)
            if not written:
                return
            try:
                with transaction.atomic():
                    conflicts = self._bind_all(written)
            except IntegrityError:
                # Another run bound one of these internal IDs meanwhile: bind one by one to tell which.
                for item, internal_id in written:
                    self._finish(item, WriteResult(internal_id=internal_id, location=""), None)
                return
            for item, internal_id, owner in conflicts:
                other = Customer.objects.filter(pk=owner).values_list("customer_id", flat=True).first()
                self._fail_binding(item, internal_id, f"it belongs to customer {other}")

    def _bind_all(self, written: list[tuple[_Prepared, str]]) -> list[tuple[_Prepared, str, int]]:
        """Bind and log written customers in a few statements (as ``_finish`` does for one); return the
        ones whose internal ID another customer holds, with that customer's primary key."""
        ident_type = self.system.identification_type
        owners = dict(
            PartyIdentification.objects.filter(type=ident_type, value__in=[i for _, i in written]).values_list(
                "value", "customer_id"
            )
        )
        now = timezone.now()
        created = db_value(PartyIdentification, "created_at", now)
        new_idents, bound, conflicts = [], [], []
        for item, internal_id in written:
            pk = item.customer.pk
            owner = owners.get(internal_id)
            if owner is None:
                owners[internal_id] = pk
                new_idents.append((pk, ident_type, internal_id, created))
            elif owner != pk:
                conflicts.append((item, internal_id, owner))
                continue
            bound.append((item, internal_id))
        insert_rows(PartyIdentification, ("customer_id", "type", "value", "created_at"), new_idents)
        if not bound:
            return conflicts
        attempts_record(
            [
                self._attempt(
                    item, ok=True, external_id=internal_id, message=f"In NetSuite as internal ID {internal_id}."
                )
                for item, internal_id in bound
            ],
            now=now,
        )
        for item, internal_id in bound:
            sync = item.sync
            if sync is not None:
                sync.status, sync.external_id = CustomerSync.Status.SYNCED, internal_id
                sync.last_attempt_at = sync.last_synced_at = now
                sync.last_error_code = sync.last_error_message = ""
            self.internal_ids[item.customer.pk] = internal_id
            result = SyncResult(item.customer, ok=True, status=CustomerSync.Status.SYNCED, external_id=internal_id)
            self._record(item.customer, sync, result)
        return conflicts

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
            # The first problem names the failure (one code for one problem, whichever connector meets it).
            return self._fail(customer, sync, problems[0].code, not_sent("; ".join(p.message for p in problems)))
        parent_id = ""
        if customer.parent_id:
            parent_id = self.internal_ids.get(customer.parent_id, "")
            if not parent_id:
                parent = Customer.objects.filter(pk=customer.parent_id).values_list("customer_id", flat=True).first()
                reason = self.report.results.get(customer.parent_id)
                why = f" ({reason.message.removeprefix(NOT_SENT).rstrip('.')})" if reason and reason.message else ""
                return self._fail(
                    customer,
                    sync,
                    PARENT_NOT_IN_NETSUITE,
                    not_sent(
                        f"its parent company {parent} is not in NetSuite yet and could not be sent{why}. "
                        "Fix the parent company, then resync both"
                    ),
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
            return self._fail(customer, sync, MappingError.code, not_sent(str(exc)))
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
                code = ErrorCode.PORTAL_INTERNAL_ERROR
                message = f"An error inside the portal ({type(error).__name__}: {error})."
            self._fail(customer, sync, code, f"NetSuite push failed: {message}", operation=operation)
            return
        internal_id = result.internal_id
        try:
            with transaction.atomic():
                identification_add(customer=customer, type=self.system.identification_type, value=internal_id)
                attempt_record(
                    self._attempt(
                        item, ok=True, external_id=internal_id, message=f"In NetSuite as internal ID {internal_id}."
                    )
                )
        except (IdentificationConflict, IntegrityError) as exc:
            self._fail_binding(item, internal_id, str(exc))
            return
        self.internal_ids[customer.pk] = internal_id
        if sync is not None:
            sync.status, sync.external_id = CustomerSync.Status.SYNCED, internal_id
        self._record(
            customer, sync, SyncResult(customer, ok=True, status=CustomerSync.Status.SYNCED, external_id=internal_id)
        )

    def _attempt(self, item: _Prepared, *, ok: bool, external_id: str = "", message: str = "", code: str = ""):
        operation = OPERATION_UPDATE if item.internal_id else OPERATION_UPSERT
        return customer_attempt(
            item.customer, self.system, ok=ok, trigger=self.trigger, operation=operation, code=code,
            message=message, external_id=external_id, user=self.user,
        )  # fmt: skip

    def _fail_binding(self, item: _Prepared, internal_id: str, reason: str) -> None:
        message = (
            f"NetSuite answered with internal ID {internal_id}, but it is already linked to another customer "
            f"({reason}). Check for a duplicate customer in the portal and merge or unlink it."
        )
        operation = OPERATION_UPDATE if item.internal_id else OPERATION_UPSERT
        self._fail(item.customer, item.sync, ErrorCode.BINDING_CONFLICT, message, operation=operation)

    def _fail(self, customer, sync, code, message, *, operation=OPERATION_UPSERT) -> None:
        attempt = customer_attempt(
            customer, self.system, ok=False, trigger=self.trigger, operation=operation, code=code, message=message,
            user=self.user,
        )  # fmt: skip
        # A customer without a sync row with this system (a parent sent first) gets none from a failure.
        attempt_record(attempt if sync is not None else replace(attempt, sync_status=None))
        if sync is not None:
            sync.status, sync.last_error_code, sync.last_error_message = CustomerSync.Status.ERROR, code, message
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


def rest_refusal(external_system: ExternalSystem) -> Refusal | None:
    """Say why no customer may be sent to the system over REST now, or return None (registered with dispatch)."""
    connection = selectors.connection_for_system(external_system=external_system)
    name = external_system.name
    if connection is None:
        return Refusal(
            NO_CONNECTION,
            f"{name} has no NetSuite REST connection: add one under NetSuite REST → NetSuite connections.",
        )
    if not connection.is_active:
        return Refusal(
            CONNECTION_INACTIVE,
            f"The NetSuite connection of {name} is switched off, so nothing is sent to it. Switch it on (Active) on "
            "the connection's page if it should send customers.",
        )
    unreadable = secrets_unreadable_message(connection)
    if unreadable:
        return Refusal(SECRET_UNREADABLE, unreadable)
    if not connection.has_credentials:
        return Refusal(
            MISSING_CREDENTIALS,
            f"The NetSuite connection of {name} has no credentials yet: enter the consumer key and secret and the "
            "token ID and secret on the connection's page.",
        )
    if external_system.historical_import_completed_at is None:
        return Refusal(
            HISTORICAL_IMPORT_PENDING,
            f"Customers are not pushed to {name} until NetSuite's existing customers have been pulled once "
            f"(otherwise NetSuite gets duplicates). Press Run now on {JOBS['pull_customers'].title} under Jobs (or "
            "run manage.py pull_customers) and let it finish.",
        )
    return None


def customers_push_scheduled(*, connection: NetSuiteConnection, trigger: str, user=None, progress=None) -> PushReport:
    """Send the pending and changed customers of the connection; refuse as every way of sending does."""
    refusal = sync_refusal(external_system=connection.external_system)
    if refusal is not None:
        raise JobRefused(refusal.message)
    pks = selectors.customer_pks_due_for_push(external_system=connection.external_system)
    if progress is not None:
        progress.set_total(len(pks))
    report = customers_push(connection=connection, customer_pks=pks, trigger=trigger, user=user, progress=progress)
    if progress is not None:
        progress.note(report.summary())
    return report


def customers_push_handler(*, customers, external_system: ExternalSystem, trigger: str, user=None) -> list[SyncResult]:
    """Dispatch handler for transport "rest": send the given customers now, one result each.

    ``customers_sync_now`` has applied ``rest_refusal`` (connection active, credentials readable, first pull done).
    """
    connection = selectors.connection_for_system(external_system=external_system)
    report = customers_push(connection=connection, customer_pks=[c.pk for c in customers], trigger=trigger, user=user)
    return [
        report.results.get(c.pk) or SyncResult(c, ok=False, status="error", message="Not attempted.") for c in customers
    ]
