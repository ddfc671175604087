"""Writes and checks on the customer master that the admin, the jobs and the connectors share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Address, Customer, CustomerSync, ExternalSystem, PartyIdentification, SyncLog


@dataclass(frozen=True)
class Problem:
    """A reason a customer cannot be exported yet, worded as operators know it."""

    code: str
    message: str
    field: str = ""

    def __str__(self) -> str:
        return self.message


MISSING_PAYMENT_TERM = "MISSING_PAYMENT_TERM"
MISSING_PRICE_LEVEL = "MISSING_PRICE_LEVEL"
MISSING_ADDRESS = "MISSING_ADDRESS"
MISSING_ADDRESS_LABEL = "MISSING_ADDRESS_LABEL"
INCOMPLETE_ADDRESS = "INCOMPLETE_ADDRESS"
MISSING_CUSTOMER_NAME = "MISSING_CUSTOMER_NAME"
CONNECTOR_NOT_SELECTED = "CONNECTOR_NOT_SELECTED"
VALIDATION_FAILED = "VALIDATION_FAILED"

ADDRESS_REQUIRED_FIELDS = (("city", "city"), ("state", "state"), ("zip", "ZIP"))


def customer_validate_for_export(
    *,
    customer: Customer,
    external_system: ExternalSystem | None = None,
    addresses: Iterable[Address] | None = None,
    syncs: Iterable[CustomerSync] | None = None,
) -> list[Problem]:
    """Return every reason the customer cannot be exported, one problem per missing field.

    Bulk paths pass ``addresses`` and ``syncs`` held in memory; otherwise they are read from the database.
    """
    problems: list[Problem] = []
    if customer.is_person:
        if not (customer.first_name.strip() and customer.last_name.strip()):
            problems.append(
                Problem(MISSING_CUSTOMER_NAME, "Missing customer name: enter first and last name.", "first_name")
            )
    elif not customer.company_name.strip():
        problems.append(
            Problem(MISSING_CUSTOMER_NAME, "Missing customer name: enter the company name.", "company_name")
        )
    if not customer.payment_term.strip():
        problems.append(Problem(MISSING_PAYMENT_TERM, "Missing payment term", "payment_term"))
    if not customer.price_level.strip():
        problems.append(Problem(MISSING_PRICE_LEVEL, "Missing price level", "price_level"))

    addresses = list(customer.addresses.all() if addresses is None else addresses)
    if not addresses:
        problems.append(Problem(MISSING_ADDRESS, "Incomplete address: the customer has no address.", "addresses"))
    for number, address in enumerate(addresses, start=1):
        name = f"address {number}" + (f" ({address.label})" if address.label.strip() else "")
        if not address.label.strip():
            problems.append(Problem(MISSING_ADDRESS_LABEL, f"Missing address label on {name}", "addresses"))
        missing = [label for attr, label in ADDRESS_REQUIRED_FIELDS if not getattr(address, attr).strip()]
        if missing:
            problems.append(
                Problem(INCOMPLETE_ADDRESS, f"Incomplete address: {name} has no {', '.join(missing)}", "addresses")
            )

    syncs = [s for s in (customer.syncs.all() if syncs is None else syncs) if s.enabled]
    if external_system is not None:
        syncs = [s for s in syncs if s.external_system_id == external_system.pk]
    if not syncs:
        target = f"the {external_system.name} connector" if external_system else "a connector"
        problems.append(
            Problem(
                CONNECTOR_NOT_SELECTED,
                f"Connector not selected: select {target} on the customer's External System tab.",
                "syncs",
            )
        )
    return problems


def problems_as_text(problems: Iterable[Problem]) -> str:
    """Join problems into the text stored on the customer, one per line."""
    return "\n".join(p.message for p in problems)


def customer_refresh_validation(*, customer: Customer) -> list[Problem]:
    """Recompute and store whether the customer is valid for export; return its problems."""
    problems = customer_validate_for_export(customer=customer)
    is_valid, text = not problems, problems_as_text(problems)
    if (customer.is_valid, customer.problems) != (is_valid, text):
        customer.is_valid, customer.problems = is_valid, text
        # update() keeps modified_at: validity is derived, not a change to sync.
        Customer.objects.filter(pk=customer.pk).update(is_valid=is_valid, problems=text)
    return problems


class CustomerLinkedError(Exception):
    """Raised when a customer still linked to an external system is about to be deleted."""

    def __init__(self, customer: Customer, links: list[str]):
        self.customer = customer
        self.links = links
        super().__init__(
            f"Customer {customer.customer_id} cannot be deleted while it is linked ({'; '.join(links)}). "
            "Remove the link first (delete the party identification, clear the external ID on the "
            "External System tab, and delete the customer code in the other system), so that no duplicate "
            "customer code appears later."
        )


def customer_links(*, customer: Customer) -> list[str]:
    """Describe each link that protects the customer from deletion."""
    links = [f"identification {i.type} {i.value}" for i in customer.identifications.all()]
    links += [
        f"{s.external_system.name} external ID {s.external_id}"
        for s in customer.syncs.select_related("external_system")
        if s.external_id
    ]
    return links


def customer_delete(*, customer: Customer) -> None:
    """Delete a customer that has no link to an external system."""
    with transaction.atomic():
        links = customer_links(customer=customer)
        if links:
            raise CustomerLinkedError(customer, links)
        customer.delete()


def identification_add(*, customer: Customer, type: str, value: str) -> PartyIdentification:
    """Attach an identification; the same one twice is a no-op, one held by another customer an error."""
    value = value.strip()
    existing = PartyIdentification.objects.filter(type=type, value=value).select_related("customer").first()
    if existing:
        if existing.customer_id != customer.pk:
            raise IdentificationConflict(
                f"{type} {value} already belongs to customer {existing.customer.customer_id}; "
                f"it cannot also be given to {customer.customer_id}."
            )
        return existing
    return PartyIdentification.objects.create(customer=customer, type=type, value=value)


class IdentificationConflict(Exception):
    """Raised when an identification value already belongs to another customer."""


@dataclass(frozen=True)
class SyncLogEntry:
    """One attempt to log, as ``synclog_record`` takes it."""

    record_type: str
    record_id: str
    trigger: str
    outcome: str
    customer: Customer | None = None
    external_system: ExternalSystem | None = None
    operation: str = ""
    error_code: str = ""
    message: str = ""
    file_name: str = ""
    line_number: int | None = None
    user: Any = None


def _authenticated(user):
    return user if getattr(user, "is_authenticated", False) else None


def synclog_record(
    *,
    record_type: str,
    record_id: str,
    trigger: str,
    outcome: str,
    customer: Customer | None = None,
    external_system: ExternalSystem | None = None,
    operation: str = "",
    error_code: str = "",
    message: str = "",
    file_name: str = "",
    line_number: int | None = None,
    user=None,
) -> SyncLog:
    """Log one attempt; a success resolves the record's earlier open failures with the same system."""
    entry = SyncLogEntry(
        record_type=record_type,
        record_id=record_id,
        trigger=trigger,
        outcome=outcome,
        customer=customer,
        external_system=external_system,
        operation=operation,
        error_code=error_code,
        message=message,
        file_name=file_name,
        line_number=line_number,
        user=user,
    )
    return synclog_record_many([entry])[0]


def synclog_record_many(entries: list[SyncLogEntry]) -> list[SyncLog]:
    """Log attempts in one insert; each success resolves its record's earlier open failures with the same system.

    Earlier means logged before the success: a failure of the same record later in ``entries`` stays open.
    """
    if not entries:
        return []
    now = timezone.now()
    logs = SyncLog.objects.bulk_create(
        SyncLog(
            record_type=e.record_type,
            record_id=e.record_id,
            customer=e.customer,
            external_system=e.external_system,
            operation=e.operation,
            trigger=e.trigger,
            outcome=e.outcome,
            error_code=e.error_code,
            message=e.message,
            file_name=e.file_name,
            line_number=e.line_number,
            created_by=_authenticated(e.user),
        )
        for e in entries
    )

    def key(e: SyncLogEntry) -> tuple[str, str, int | None]:
        return e.record_type, e.record_id, e.external_system.pk if e.external_system is not None else None

    last_success = {key(e): n for n, e in enumerate(entries) if e.outcome == SyncLog.Outcome.SUCCESS}
    if not last_success:
        return logs
    stay_open = [
        log.pk
        for n, (e, log) in enumerate(zip(entries, logs, strict=True))
        if e.outcome == SyncLog.Outcome.FAILED and n > last_success.get(key(e), n)
    ]
    # One UPDATE per system (and resolving user): the records' open failures, by record type and ID.
    wanted: dict[tuple[int | None, Any], dict[str, list[str]]] = {}
    for (kind, record_id, system_id), n in last_success.items():
        user = _authenticated(entries[n].user)
        wanted.setdefault((system_id, user), {}).setdefault(kind, []).append(record_id)
    for (system_id, user), by_kind in wanted.items():
        records = reduce(or_, (Q(record_type=kind, record_id__in=ids) for kind, ids in by_kind.items()))
        open_failures = SyncLog.objects.filter(
            records, external_system_id=system_id, outcome=SyncLog.Outcome.FAILED, resolved_at__isnull=True
        )
        if stay_open:
            open_failures = open_failures.exclude(pk__in=stay_open)
        open_failures.update(resolved_at=now, resolved_by=user)
    return logs


def synclog_resolve_open(
    *, record_type: str, record_id: str, external_system: ExternalSystem | None, at=None, user=None
) -> int:
    """Mark the record's open failures resolved; return how many were."""
    return SyncLog.objects.filter(
        record_type=record_type,
        record_id=record_id,
        external_system=external_system,
        outcome=SyncLog.Outcome.FAILED,
        resolved_at__isnull=True,
    ).update(
        resolved_at=at or timezone.now(),
        resolved_by=user if getattr(user, "is_authenticated", False) else None,
    )


def synclog_mark_resolved(*, entries: Iterable[SyncLog] | None = None, ids: Iterable[int] = (), user=None) -> int:
    """Mark failures resolved by hand; return how many were open."""
    pks = [e.pk for e in entries or ()] + list(ids)
    return SyncLog.objects.filter(pk__in=pks, outcome=SyncLog.Outcome.FAILED, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=user if getattr(user, "is_authenticated", False) else None
    )


def customer_sync_record_success(
    *, sync: CustomerSync, external_id: str = "", status: str = CustomerSync.Status.SYNCED
) -> CustomerSync:
    """Record a successful attempt on the sync state and bind the external ID when given."""
    now = timezone.now()
    sync.status = status
    sync.last_attempt_at = now
    if status == CustomerSync.Status.SYNCED:
        sync.last_synced_at = now
    if external_id:
        sync.external_id = external_id
    sync.last_error_code = ""
    sync.last_error_message = ""
    sync.save(
        update_fields=[
            "status",
            "last_attempt_at",
            "last_synced_at",
            "external_id",
            "last_error_code",
            "last_error_message",
        ]
    )
    return sync


def customer_sync_record_error(*, sync: CustomerSync, code: str, message: str) -> CustomerSync:
    """Record a failed attempt on the sync state."""
    sync.status = CustomerSync.Status.ERROR
    sync.last_attempt_at = timezone.now()
    sync.last_error_code = code[:60]
    sync.last_error_message = message
    sync.save(update_fields=["status", "last_attempt_at", "last_error_code", "last_error_message"])
    return sync


def customer_sync_get_or_create(*, customer: Customer, external_system: ExternalSystem) -> CustomerSync:
    """Return the customer's sync state with the system, creating a pending one when absent."""
    sync, _ = CustomerSync.objects.get_or_create(customer=customer, external_system=external_system)
    return sync


def customer_syncs_enable(*, customer_pks: Iterable[int], external_systems: Iterable[ExternalSystem]) -> int:
    """Select the systems on the customers' External System tab (pending); selections they have are kept.

    Bulk-capable (one insert) for sources that create many customers at once; return how many were asked.
    """
    systems = list(external_systems)
    rows = [
        CustomerSync(customer_id=pk, external_system_id=system.pk)
        for pk in dict.fromkeys(customer_pks)
        for system in systems
    ]
    CustomerSync.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(rows)


def customer_request_resync(*, customer: Customer, external_system: ExternalSystem | None = None) -> int:
    """Put the customer's enabled syncs back to pending so the next run sends it again."""
    qs = CustomerSync.objects.filter(customer=customer, enabled=True)
    if external_system is not None:
        qs = qs.filter(external_system=external_system)
    return qs.update(status=CustomerSync.Status.PENDING)


def customers_find_by_ids(*, ids: Iterable[str]) -> dict[str, Customer]:
    """Map each given portal customer ID or NetSuite internal ID to its customer; unknown IDs are absent."""
    wanted = [i.strip() for i in ids if i.strip()]
    found: dict[str, Customer] = {}
    for customer in Customer.objects.filter(customer_id__in=wanted):
        found[customer.customer_id] = customer
    rest = [i for i in wanted if i not in found]
    if rest:
        idents = PartyIdentification.objects.filter(Q(type="NETSUITE_CUSTOMER_ID", value__in=rest)).select_related(
            "customer"
        )
        for ident in idents:
            found[ident.value] = ident.customer
        synced = CustomerSync.objects.filter(external_id__in=[i for i in rest if i not in found]).select_related(
            "customer"
        )
        for sync in synced:
            found.setdefault(sync.external_id, sync.customer)
    return found
