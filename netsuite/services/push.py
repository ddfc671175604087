"""Pushing customers to NetSuite over REST, as one sync shape per record.

Push, per customer: load → skip if nothing to do → validate → map → write (``PUT eid:``, or ``PATCH`` by
internal ID once linked) → bind the internal ID → log the attempt. Requests run in worker threads, at most
the connection's concurrency share at once; every database write happens in the calling thread. A bulk load
sends its new customers in asynchronous batches instead (``batches``); their results come back, customer by
customer, to the same ``_finish_batch`` as single writes' do.

Addresses go with ``?replace=addressBook``: NetSuite appends address lines sent without a line key on every
update (Oracle: "Updating a Sublist"), so an address book re-sent without it would grow on every push and retry.

An external ID NetSuite holds for a record the portal did not create belongs to whoever set it: a linked
customer is updated by internal ID, and its external ID is sent only when NetSuite is known to hold none
(``RemoteCustomer``, written by the pull and by pushes).

NetSuite refusing the login stops the run at once: the customers stay as they were, and the connection, not each
customer, goes into the Failed Record Queue, once.

Contacts: once a company customer is bound (per record or from a batch), each of its contacts is upserted as a
NetSuite contact record attached to it (``PUT /record/v1/contact/eid:{contactId}``, ``company`` = the company's
internal ID), by the same worker threads and request slots as the customers. Each outcome is recorded under record
type Contact (the contact's ID, with the company as its customer), so a refused contact is one failure in the
queue, counted again when the company is next sent and resolved by a later success. The transaction that binds a
company also marks its contacts due (``CustomerSync.contacts_due``), cleared once each has been answered: a contact
not sent (the login failed, NetSuite was busy, the run was killed) leaves the company due, and the next run sends
its contacts again.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import chain

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.dispatch import (
    CONNECTION_INACTIVE,
    HISTORICAL_IMPORT_PENDING,
    MISSING_CREDENTIALS,
    NO_CONNECTION,
    SECRET_UNREADABLE,
    Refusal,
    SyncResult,
)
from customers.errors import ErrorCode
from customers.models import (
    Address,
    Contact,
    Customer,
    CustomerSync,
    ExternalSystem,
    PartyIdentification,
    SyncLog,
)
from customers.services import (
    Attempt,
    IdentificationConflict,
    attempt_record,
    attempts_record,
    customer_attempt,
    customer_validate_for_export,
    identification_add,
)
from integration_portal.bulk import db_value, insert_rows, upsert_rows
from integration_portal.secrets import secrets_unreadable_message
from jobs.registry import JOBS

from .. import selectors
from ..client import AuthError, NetSuiteClient, NetSuiteError, WriteResult
from ..limiter import slots_for_run
from ..mapping import (
    MappingError,
    contact_to_netsuite,
    customer_to_netsuite,
)
from ..models import NetSuiteConnection, RemoteCustomer
from .batches import REPLACED_SUBLISTS, BatchSender
from .claims import Claims, attempted_since
from .common import (
    BEING_SENT,
    OPERATION_CONTACT_UPSERT,
    OPERATION_UPDATE,
    OPERATION_UPSERT,
    PARENT_NOT_IN_NETSUITE,
    PORTAL_INTERNAL_ERROR,
    client_for,
)
from .connection import connection_failed, connection_recovered
from .references import mappings_for
from .threads import Feed, run_in_threads

logger = logging.getLogger(__name__)


# Results written in one transaction at most; prepared customers handed out ahead, per request slot.
FINISH_BATCH = 50
# A bulk load sends the contacts of the companies it bound in batches too once there are this many (fewer go one
# request each: a batch's job and its SuiteQL read cost more than they save).
CONTACTS_BATCH_MIN = 10
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
    sync: CustomerSync | None
    internal_id: str
    body: dict
    # A company's contacts, sent once it is bound.
    contacts: list[Contact] = field(default_factory=list)
    # When its data was read: the sync row is synced as of then, so a change saved while the write was on its way
    # (a contact added by a webhook, an operator's edit) makes it due again.
    read_at: datetime | None = None

    @property
    def operation(self) -> str:
        return OPERATION_UPDATE if self.internal_id else OPERATION_UPSERT

    @property
    def external_id(self) -> str:
        return self.customer.customer_id


@dataclass
class _ContactItem:
    """A contact of a company bound in NetSuite, to be upserted attached to it."""

    contact: Contact
    company: Customer
    body: dict

    @property
    def external_id(self) -> str:
        return self.contact.contact_id

    def label(self) -> str:
        name = str(self.contact)
        return f"{self.contact.contact_id} ({name})" if name != "(contact)" else self.contact.contact_id


@dataclass
class PushReport:
    """What a push came to: results by customer primary key, in the order they finished."""

    results: dict[int, SyncResult] = field(default_factory=dict)
    # NetSuite refused the connection itself (its login): the run stopped there.
    stopped: NetSuiteError | None = None
    notes: list[str] = field(default_factory=list)
    contacts_sent: int = 0
    contacts_failed: int = 0

    @property
    def succeeded(self) -> int:
        return sum(1 for r in self.results.values() if r.ok)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results.values() if not r.ok and r.error_code != BEING_SENT)

    @property
    def not_sendable(self) -> int:
        """Failed before any request: a problem in the portal's data (invalid, a parent not in NetSuite)."""
        return sum(
            1
            for r in self.results.values()
            if not r.ok and r.error_code != BEING_SENT and r.message.startswith(NOT_SENT)
        )

    def merge(self, other: PushReport) -> None:
        self.results.update(other.results)
        self.stopped = self.stopped or other.stopped
        self.notes += other.notes
        self.contacts_sent += other.contacts_sent
        self.contacts_failed += other.contacts_failed

    def summary(self) -> str:
        failed, held = self.failed, self.not_sendable
        text = f"{self.succeeded:,} customer(s) sent to NetSuite, {failed:,} failed"
        if held:
            # Said apart, so that a stop (a refused login) is not read as the cause of data problems.
            everyone = "all" if held == failed else f"{held:,}"
            text += (
                f" ({everyone} of them not sent: their data needs fixing in the portal, see the Failed Record Queue)"
            )
        text += "."
        if self.contacts_sent or self.contacts_failed:
            text += f" Contacts of companies: {self.contacts_sent:,} sent, {self.contacts_failed:,} failed."
        if self.stopped is not None:
            text += f" Stopped: {self.stopped.message} [{self.stopped.code}]"
        return " ".join([text, *self.notes])


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
    """One push run over a set of customers for one connection.

    ``claims``: the worker's claims (the customers given are claimed already; parents it adds are claimed here).
    ``since``: when the push these customers belong to began: a parent company that failed since then is not
    tried again (its problem is logged once per push). ``bulk``: send new customers in batches.
    """

    def __init__(self, *, connection, trigger, user, progress, client, skip_synced, claims, since, bulk):
        self.connection = connection
        self.system = connection.external_system
        self.trigger = trigger
        self.user = user
        self.progress = progress
        self.client: NetSuiteClient | None = client
        self.skip_synced = skip_synced
        self.claims: Claims | None = claims
        self.since: datetime | None = since
        self.bulk = bulk
        self.mappings = mappings_for(external_system=connection.external_system_id)
        self.defaults = connection.defaults or {}
        self.report = PushReport()
        self.internal_ids: dict[int, str] = {}
        self.remote: dict[int, RemoteCustomer] = {}
        self.parent_trouble: dict[int, str] = {}
        self.stopped: NetSuiteError | None = None
        self._log_buffer: list[Attempt] | None = None
        # Contacts of companies bound in this run, waiting for a worker thread (sent before further customers).
        self._contacts: deque[_ContactItem] = deque()
        # Contacts of each company bound in this run not yet answered, and the companies with a contact to send
        # again (NetSuite failed for a reason other than the contact's data, or the run stopped before it).
        self._contacts_owed: dict[int, int] = {}
        self._contacts_again: set[int] = set()

    def run(self, customer_pks: Iterable[int], *, resume_batches: bool = False) -> PushReport:
        requested = list(dict.fromkeys(customer_pks))
        pks, parents = _with_unbound_parents(external_system=self.system, customer_pks=requested)
        self.parents = parents
        asked = set(requested)
        self._hold_parents([pk for pk in pks if pk not in asked])
        pks = [pk for pk in pks if pk not in self.parent_trouble]
        self.internal_ids = selectors.bound_internal_ids(external_system=self.system, customer_pks=list(parents))
        self.remote = selectors.remote_customers(connection=self.connection, customer_pks=pks)
        if self.progress is not None and len(pks) != len(requested):
            self.progress.set_total((self.progress.run.rows_total or len(requested)) + len(pks) - len(requested))
        with ExitStack() as slots:
            if resume_batches:
                self._ensure_client(slots)
                for done, forget in BatchSender(self).resume():
                    self._finish_batch(done, then=forget)
            # Parent companies first: each level starts once the one above it is bound.
            for group in _levels(pks, parents, set(pks)):
                if self.stopped:
                    break
                prepared = self._prepare_all(group)
                first = next(prepared, None)
                if first is None:
                    continue
                self._ensure_client(slots)
                items: Iterator[_Prepared] = chain([first], prepared)
                if self.bulk:
                    listed = list(items)
                    new = [item for item in listed if not item.internal_id]
                    if new:
                        sender = BatchSender(self)
                        for done, forget in sender.send(new):
                            self._finish_batch(done, then=forget)
                        if len(self._contacts) >= CONTACTS_BATCH_MIN:
                            # The contacts of the companies these batches bound, in batches too.
                            contacts = list(self._contacts)
                            self._contacts.clear()
                            for done, forget in sender.send_contacts(contacts):
                                self._finish_batch(done, then=forget)
                        if sender.left_for_later:
                            self.note_problem(
                                f"{sender.left_for_later} batch(es) wait in NetSuite: the next run reads their results."
                            )
                    items = iter([item for item in listed if item.internal_id])
                self._send_each(items)
            if self._contacts and not self.stopped:
                # Contacts of the last companies bound (or of a batch read back, with nothing else to send).
                self._send_each(iter(()))
        self._report_connection()
        return self.report

    def _ensure_client(self, slots: ExitStack) -> None:
        if self.client is None:
            # Claimed once for the whole run (only when there is something to send): no database write per
            # request, so the requests never wait behind this thread's writes.
            limiter = slots.enter_context(slots_for_run(connection=self.connection))
            self.client = client_for(connection=self.connection, limiter=limiter)

    def _hold_parents(self, added: list[int]) -> None:
        """Claim the parent companies this run adds; note those another worker sends, or that failed this push."""
        if not added:
            return
        if self.claims is not None:
            held = self.claims.claim_given(added)
            for pk in set(added) - held:
                self.parent_trouble[pk] = "it is being sent by another push right now"
        if self.since is not None:
            failed = attempted_since(connection=self.connection, customer_pks=added, since=self.since)
            for pk, message in failed.items():
                self.parent_trouble.setdefault(pk, message.removeprefix(NOT_SENT).rstrip("."))

    def note_problem(self, text: str) -> None:
        self.report.notes.append(text)

    def _send_each(self, items: Iterator[_Prepared]) -> None:
        share = self.connection.concurrency_share
        # Contacts of the companies bound meanwhile go first, in the same threads (within the same share).
        feed = Feed(items, added=self._contacts)
        outcomes = run_in_threads(
            feed, self._write, workers=share, backlog=share * BACKLOG_PER_SLOT, max_batch=FINISH_BATCH,
            linger=FINISH_LINGER,
        )  # fmt: skip
        for done in outcomes:
            self._finish_batch(done)

    def _contacts_owe(self, bound: Iterable[_Prepared]) -> None:
        """Record, in the transaction that binds them, that these companies' contacts are still to be sent: a run
        stopped or killed before they are answered leaves the company due (``contacts_due``), and the next run
        sends them again (an upsert by external ID, safe to repeat)."""
        companies = [item.customer.pk for item in bound if item.contacts]
        if companies:
            CustomerSync.objects.filter(customer_id__in=companies, external_system=self.system).update(
                contacts_due=True
            )

    def _queue_contacts(self, item: _Prepared, internal_id: str) -> None:
        """Queue the contacts of a company just bound, attached to its internal ID, with its subsidiary."""
        if not item.contacts:
            return
        subsidiary = (item.body.get("subsidiary") or {}).get("id")
        company = item.customer.pk
        self._contacts_owed[company] = self._contacts_owed.get(company, 0) + len(item.contacts)
        for contact in item.contacts:
            body = contact_to_netsuite(contact, internal_id, subsidiary)
            self._contacts.append(_ContactItem(contact=contact, company=item.customer, body=body))

    def _contacts_answered(self, items: Iterable[_ContactItem]) -> None:
        """Clear ``contacts_due`` of the companies whose contacts have all been answered, none to send again."""
        done = []
        for item in items:
            company = item.company.pk
            self._contacts_owed[company] -= 1
            if not self._contacts_owed[company]:
                del self._contacts_owed[company]
                if company not in self._contacts_again:
                    done.append(company)
        if done:
            CustomerSync.objects.filter(customer_id__in=done, external_system=self.system).update(contacts_due=False)

    def _report_connection(self) -> None:
        self.report.stopped = self.stopped
        if isinstance(self.stopped, AuthError):
            connection_failed(connection=self.connection, error=self.stopped, trigger=self.trigger, user=self.user)
        elif self.report.succeeded:
            connection_recovered(connection=self.connection)

    def _finish_batch(self, done: list[tuple], *, then: Callable[[], None] | None = None) -> None:
        # One transaction for the results that came in meanwhile keeps this thread quick to hand out more
        # work; a crash before it commits only means those customers are sent again, safely (upsert by
        # external ID).
        with transaction.atomic():
            self._finish_all(done)
            if then is not None:
                then()
        if self.claims is not None:
            self.claims.renew()

    def _finish_all(self, done: list[tuple]) -> None:
        written = []
        contacts = []
        for item, result, error in done:
            if isinstance(item, _ContactItem):
                contacts.append((item, result, error))
                continue
            if item.sync is None:
                # A customer of a recovered batch deleted (or unlinked from this system) meanwhile: nothing to bind.
                continue
            if isinstance(error, AuthError):
                # The connection cannot log in: nothing about this customer is wrong. Stop sending.
                self.stopped = self.stopped or error
                self._record(item.customer, SyncResult(item.customer, ok=False, status="error",
                                                       message=error.message, error_code=error.code))  # fmt: skip
            elif error is None:
                written.append((item, result.internal_id))
            else:
                self._finish(item, result, error)
        # Contacts' outcomes are written with the bound customers' (one write of attempts per transaction).
        contact_attempts = self._contact_attempts(contacts)
        self._contacts_answered(item for item, _result, _error in contacts)
        if not written:
            attempts_record(contact_attempts)
            return
        try:
            with transaction.atomic():
                conflicts = self._bind_all(written, also=contact_attempts)
        except IntegrityError:
            # Another run bound one of these internal IDs meanwhile: bind one by one to tell which.
            attempts_record(contact_attempts)
            for item, internal_id in written:
                self._finish(item, WriteResult(internal_id=internal_id, location=""), None)
            return
        refused = {id(item) for item, _internal_id, _owner in conflicts}
        for item, internal_id in written:
            if id(item) not in refused:
                self._queue_contacts(item, internal_id)
        for item, internal_id, owner in conflicts:
            other = Customer.objects.filter(pk=owner).values_list("customer_id", flat=True).first()
            self._fail_binding(item, internal_id, f"it belongs to customer {other}")

    def _contact_attempts(self, done: list[tuple[_ContactItem, WriteResult | None, BaseException | None]]) -> list:
        """Each contact's outcome as an attempt under record type Contact, its company as the customer."""
        attempts: list[Attempt] = []
        for item, result, error in done:
            company = item.company.customer_id
            if isinstance(error, AuthError):
                # The connection cannot log in (reported once, for the connection): the company stays due for its
                # contacts, so the next run sends them.
                self.stopped = self.stopped or error
                self._contacts_again.add(item.company.pk)
                continue
            if error is None:
                ok, code = True, ""
                message = (
                    f"Contact {item.label()} is in NetSuite as internal ID {result.internal_id}, attached to "
                    f"company {company}."
                )
                self.report.contacts_sent += 1
            else:
                if isinstance(error, NetSuiteError):
                    code, why = error.code, error.message
                else:
                    logger.exception("Unexpected error pushing contact %s", item.contact.contact_id, exc_info=error)
                    code = PORTAL_INTERNAL_ERROR
                    why = f"the portal failed while sending it ({type(error).__name__}: {error})"
                ok = False
                message = f"Contact {item.label()} of company {company} was not sent to NetSuite: {why}"
                if code not in selectors.WAIT_FOR_CHANGE_CODES:
                    # Not the contact's own data (a timeout, NetSuite busy): the next run sends it again.
                    self._contacts_again.add(item.company.pk)
                self.report.contacts_failed += 1
            attempts.append(
                Attempt(
                    self.system, record_type=SyncLog.RecordType.CONTACT, record_id=item.contact.contact_id, ok=ok,
                    customer=item.company.pk, code=code, message=message, operation=OPERATION_CONTACT_UPSERT,
                    trigger=self.trigger, user=self.user, sync_status=None,
                )
            )  # fmt: skip
        return attempts

    def _remember(self, written: list[tuple[_Prepared, str]]) -> None:
        """Record the external ID NetSuite now holds for each written record, where it is known."""
        rows = []
        for item, internal_id in written:
            remote = self.remote.get(item.customer.pk)
            if "externalId" in item.body:
                external_id = item.body["externalId"]
            elif remote is not None:
                external_id = remote.external_id
            else:
                continue  # linked some other way: what NetSuite holds is not known, so it stays unknown
            rows.append((self.connection.pk, item.customer.pk, internal_id, external_id))
        upsert_rows(
            RemoteCustomer,
            ("connection_id", "customer_id", "internal_id", "external_id"),
            rows,
            unique=("connection_id", "customer_id"),
            update=("internal_id", "external_id"),
        )

    def _bind_all(
        self, written: list[tuple[_Prepared, str]], *, also: list[Attempt]
    ) -> list[tuple[_Prepared, str, int]]:
        """Bind and log written customers in a few statements (as ``_finish`` does for one), with the attempts
        ``also`` given; return the ones whose internal ID another customer holds, with that customer's primary key."""
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
            attempts_record(also, now=now)
            return conflicts
        self._remember(bound)
        self._contacts_owe(item for item, _internal_id in bound)
        attempts_record(
            [
                *(self._attempt(item, ok=True, external_id=internal_id, message=in_netsuite(internal_id))
                  for item, internal_id in bound),
                *also,
            ],
            now=now,
        )  # fmt: skip
        for item, internal_id in bound:
            sync = item.sync
            if sync is not None:
                sync.status, sync.external_id = CustomerSync.Status.SYNCED, internal_id
                sync.last_attempt_at, sync.last_synced_at = now, item.read_at or now
                sync.last_error_code = sync.last_error_message = ""
            self.internal_ids[item.customer.pk] = internal_id
            result = SyncResult(item.customer, ok=True, status=CustomerSync.Status.SYNCED, external_id=internal_id)
            self._record(item.customer, result)
        return conflicts

    # load → skip → validate → map
    def _prepare_all(self, pks: list[int]) -> Iterator[_Prepared]:
        size = max(1, self.connection.batch_size)
        for start in range(0, len(pks), size):
            if self.stopped:
                return
            chunk = pks[start : start + size]
            read_at = timezone.now()
            # Four plain queries a chunk (prefetch_related costs more than the rest of preparing a customer), and
            # the chunk's failures written in one transaction.
            by_pk = {c.pk: c for c in Customer.objects.filter(pk__in=chunk)}
            addresses: dict[int, list[Address]] = {pk: [] for pk in chunk}
            for address in Address.objects.filter(customer_id__in=chunk).order_by("id"):
                addresses[address.customer_id].append(address)
            contacts: dict[int, list[Contact]] = {pk: [] for pk in chunk}
            for contact in Contact.objects.filter(customer_id__in=chunk).order_by("id"):
                contacts[contact.customer_id].append(contact)
            syncs = {
                s.customer_id: s
                for s in CustomerSync.objects.filter(customer_id__in=chunk, external_system=self.system)
            }
            with transaction.atomic():
                self._log_buffer = []
                try:
                    prepared = [
                        self._prepare(by_pk[pk], addresses[pk], contacts[pk], syncs.get(pk))
                        for pk in chunk
                        if pk in by_pk
                    ]
                    attempts_record(self._log_buffer)
                finally:
                    self._log_buffer = None
            for item in prepared:
                if item is not None:
                    item.read_at = read_at
                    yield item

    def _prepare(
        self, customer: Customer, addresses: list[Address], contacts: list[Contact], sync: CustomerSync | None
    ) -> _Prepared | None:
        internal_id = self.internal_ids.get(customer.pk, "")
        if (
            self.skip_synced
            and sync is not None
            and internal_id
            and sync.status == CustomerSync.Status.SYNCED
            and sync.last_synced_at
            and customer.modified_at <= sync.last_synced_at
        ):
            self._record(customer, SyncResult(customer, ok=True, status=sync.status, external_id=internal_id))
            return None
        problems = customer_validate_for_export(
            customer=customer, external_system=self.system, addresses=addresses, syncs=[sync] if sync else []
        )
        if problems:
            # The first problem names the failure (one code for one problem, whichever connector meets it).
            return self._fail(customer, sync, problems[0].code, not_sent("; ".join(p.message for p in problems)))
        parent_id = ""
        if customer.parent_id:
            parent_id = self.internal_ids.get(customer.parent_id, "")
            if not parent_id:
                return self._parent_missing(customer, sync)
        try:
            body = customer_to_netsuite(
                customer,
                addresses,
                contacts,
                self.mappings,
                self.defaults,
                parent_internal_id=parent_id or None,
            )
        except MappingError as exc:
            return self._fail(customer, sync, MappingError.code, not_sent(str(exc)))
        remote = self.remote.get(customer.pk)
        if internal_id and (remote is None or remote.external_id):
            # Linked by internal ID: NetSuite's external ID is someone else's (or unknown), and stays as it is.
            body.pop("externalId", None)
        return _Prepared(
            customer=customer,
            sync=sync,
            internal_id=internal_id,
            body=body,
            contacts=contacts if customer.party_type == Customer.PartyType.COMPANY else [],
        )

    def _parent_missing(self, customer: Customer, sync: CustomerSync | None) -> None:
        parent = Customer.objects.filter(pk=customer.parent_id).values_list("customer_id", flat=True).first()
        trouble = self.parent_trouble.get(customer.parent_id)
        if trouble == "it is being sent by another push right now":
            # Not this customer's problem: it waits for the next run, with its parent bound by then.
            message = f"Not sent yet: its parent company {parent} is being sent by another push right now."
            self._record(customer, SyncResult(customer, ok=False, status="pending", message=message,
                                              error_code=BEING_SENT))  # fmt: skip
            return None
        reason = self.report.results.get(customer.parent_id)
        why = trouble or (reason.message.removeprefix(NOT_SENT).rstrip(".") if reason and reason.message else "")
        return self._fail(
            customer,
            sync,
            PARENT_NOT_IN_NETSUITE,
            not_sent(
                f"its parent company {parent} is not in NetSuite yet and could not be sent"
                + (f" ({why})" if why else "")
                + ". Fix the parent company, then resync both"
            ),
        )

    def recovered_items(self, customer_pks: list[int], bodies: list[dict]) -> list[_Prepared]:
        """Rebuild the items of a batch an earlier run sent, to record its results."""
        customers = {c.pk: c for c in Customer.objects.filter(pk__in=customer_pks)}
        syncs = {
            s.customer_id: s
            for s in CustomerSync.objects.filter(customer_id__in=customer_pks, external_system=self.system)
        }
        companies = [pk for pk, c in customers.items() if c.party_type == Customer.PartyType.COMPANY]
        contacts: dict[int, list[Contact]] = {}
        for contact in Contact.objects.filter(customer_id__in=companies).order_by("id"):
            contacts.setdefault(contact.customer_id, []).append(contact)
        items = []
        for pk, body in zip(customer_pks, bodies, strict=True):
            customer = customers.get(pk) or Customer(pk=pk, customer_id=str(body.get("externalId", pk)))
            item = _Prepared(customer=customer, sync=syncs.get(pk), internal_id="", body=body)
            item.contacts = contacts.get(pk, [])
            items.append(item)
        return items

    # write (in a worker thread: HTTP only, no database)
    def _write(self, item: _Prepared | _ContactItem) -> WriteResult:
        if self.stopped:
            # The login failed meanwhile: the customers handed out already are not sent either.
            raise self.stopped
        try:
            if isinstance(item, _ContactItem):
                return self.client.upsert_contact(item.contact.contact_id, item.body)
            if item.internal_id:
                return self.client.update_customer(item.internal_id, item.body, replace=REPLACED_SUBLISTS)
            return self.client.upsert_customer(item.customer.customer_id, item.body, replace=REPLACED_SUBLISTS)
        except AuthError as exc:
            self.stopped = self.stopped or exc
            raise

    # bind → log
    def _finish(self, item: _Prepared, result: WriteResult | None, error: BaseException | None) -> None:
        customer, sync = item.customer, item.sync
        if error is not None:
            if isinstance(error, NetSuiteError):
                code, message = error.code, error.message
            else:
                logger.exception("Unexpected error pushing customer %s", customer.customer_id, exc_info=error)
                code = PORTAL_INTERNAL_ERROR
                message = (
                    f"The portal failed while sending the customer ({type(error).__name__}: {error}); nothing is "
                    "known to be wrong with the customer."
                )
            self._fail(customer, sync, code, f"NetSuite push failed: {message}", operation=item.operation)
            return
        internal_id = result.internal_id
        try:
            with transaction.atomic():
                identification_add(customer=customer, type=self.system.identification_type, value=internal_id)
                self._remember([(item, internal_id)])
                self._contacts_owe([item])
                attempt_record(self._attempt(item, ok=True, external_id=internal_id, message=in_netsuite(internal_id)))
        except (IdentificationConflict, IntegrityError) as exc:
            self._fail_binding(item, internal_id, str(exc))
            return
        self.internal_ids[customer.pk] = internal_id
        if sync is not None:
            sync.status, sync.external_id = CustomerSync.Status.SYNCED, internal_id
        self._queue_contacts(item, internal_id)
        self._record(
            customer, SyncResult(customer, ok=True, status=CustomerSync.Status.SYNCED, external_id=internal_id)
        )

    def _attempt(self, item: _Prepared, *, ok: bool, external_id: str = "", message: str = "") -> Attempt:
        return customer_attempt(
            item.customer, self.system, ok=ok, trigger=self.trigger, operation=item.operation, message=message,
            external_id=external_id, user=self.user, data_read_at=item.read_at,
        )  # fmt: skip

    def _fail_binding(self, item: _Prepared, internal_id: str, reason: str) -> None:
        message = (
            f"NetSuite answered with internal ID {internal_id}, but it is already linked to another customer "
            f"({reason}). Check for a duplicate customer in the portal and merge or unlink it."
        )
        self._fail(item.customer, item.sync, ErrorCode.BINDING_CONFLICT, message, operation=item.operation)

    def _fail(self, customer, sync, code, message, *, operation=OPERATION_UPSERT) -> None:
        attempt = customer_attempt(
            customer, self.system, ok=False, trigger=self.trigger, operation=operation, code=code, message=message,
            user=self.user,
        )  # fmt: skip
        if sync is None:
            # A customer without a sync row with this system (a parent sent first) gets none from a failure.
            attempt = replace(attempt, sync_status=None)
        else:
            sync.status, sync.last_error_code, sync.last_error_message = CustomerSync.Status.ERROR, code, message
        if self._log_buffer is not None:
            self._log_buffer.append(attempt)  # written with the rest of the chunk's (see _prepare_all)
        else:
            attempt_record(attempt)
        self._record(
            customer, SyncResult(customer, ok=False, status=CustomerSync.Status.ERROR, message=message, error_code=code)
        )
        return None

    def _record(self, customer: Customer, result: SyncResult) -> None:
        self.report.results[customer.pk] = result
        if self.progress is not None:
            self.progress.advance(1, failed=0 if result.ok or result.error_code == BEING_SENT else 1)


def customers_push(
    *,
    connection: NetSuiteConnection,
    customer_pks: Iterable[int],
    trigger: str,
    user=None,
    progress=None,
    client: NetSuiteClient | None = None,
    skip_synced: bool = False,
    claims: Claims | None = None,
    since: datetime | None = None,
    bulk: bool = False,
    resume_batches: bool = False,
) -> PushReport:
    """Send customers to NetSuite (parent companies not yet there first); bind and log each one.

    Without ``claims`` the customers are claimed here, and those another worker is sending are left to it.
    """
    pks = list(dict.fromkeys(customer_pks))
    own = claims is None
    if own:
        claims = Claims(connection=connection)
        held = claims.claim_given(pks)
    else:
        held = set(pks)
    try:
        push = _Push(
            connection=connection, trigger=trigger, user=user, progress=progress, client=client,
            skip_synced=skip_synced, claims=claims, since=since, bulk=bulk,
        )  # fmt: skip
        busy_message = "Not sent now: another push is sending it (or its batch awaits NetSuite's results)."
        for customer in Customer.objects.filter(pk__in=[pk for pk in pks if pk not in held]):
            result = SyncResult(customer, ok=False, status="pending", message=busy_message, error_code=BEING_SENT)
            push._record(customer, result)
        return push.run([pk for pk in pks if pk in held], resume_batches=resume_batches)
    finally:
        if own:
            claims.release()


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


def customers_push_handler(*, customers, external_system: ExternalSystem, trigger: str, user=None) -> list[SyncResult]:
    """Dispatch handler for transport "rest": send the given customers now, one result each.

    ``customers_sync_now`` has applied ``rest_refusal`` (connection active, credentials readable, first pull done).
    """
    connection = selectors.connection_for_system(external_system=external_system)
    report = customers_push(connection=connection, customer_pks=[c.pk for c in customers], trigger=trigger, user=user)
    return [
        report.results.get(c.pk) or SyncResult(c, ok=False, status="error", message="Not attempted.") for c in customers
    ]
