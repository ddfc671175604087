"""The console's writes: resync, selective export, job schedules. Each calls the shared services."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from customers.dispatch import SyncResult, customers_sync_now
from customers.models import (
    RESYNCABLE_RECORD_TYPES,
    Contact,
    Customer,
    CustomerSync,
    ExternalSystem,
    SyncFailure,
    SyncLog,
)
from customers.services import (
    attempt_record,
    customer_attempt,
    customer_request_resync,
    customers_find_by_ids,
    failures_mark_resolved,
)
from jobs.models import JobRun
from jobs.registry import JOBS, job_enqueue

from .models import DashboardSnapshot
from .selectors import COUNT_JOB, FREQUENCY_PRESETS, dashboard_counts_compute

_ID_SEPARATORS = re.compile(r"[\s,;]+")


def ids_parse(text: str) -> list[str]:
    """Split IDs typed or pasted by an operator (spaces, commas, semicolons or lines); keep order, drop repeats."""
    return list(dict.fromkeys(p for p in _ID_SEPARATORS.split(text or "") if p))


def customers_sync_logged(
    *, customers: Sequence[Customer], external_system: ExternalSystem, trigger: str, user=None
) -> list[SyncResult]:
    """Sync customers now and make sure every attempt left a SyncLog row, even where no connector logged one."""
    if not customers:
        return []
    started = timezone.now()
    results = customers_sync_now(customers=customers, external_system=external_system, trigger=trigger, user=user)
    logged = set(
        SyncLog.objects.filter(
            customer__in=[r.customer.pk for r in results], external_system=external_system, created_at__gte=started
        ).values_list("customer_id", flat=True)
    )
    for result in results:
        if result.customer.pk in logged:
            continue
        # The connector refused before it could log (no connection, no feed): its sync row says why too.
        attempt_record(
            customer_attempt(
                result.customer, external_system, ok=result.ok, trigger=trigger, operation="sync now",
                code=result.error_code, message=result.message, user=user,
                status=result.status if result.status in CustomerSync.Status.values else None,
            )
        )  # fmt: skip
    # The dashboard's counts are not recounted here (a million-row count per click): its latest-attempts
    # list shows this attempt at once, and the count job's next snapshot (every minute) counts it.
    return results


@dataclass
class SelectiveAttempt:
    """One ID an operator asked for on the Selective Customer Export page, and what came of it."""

    given_id: str
    customer: Customer | None
    ok: bool
    message: str
    error_code: str = ""
    external_id: str = ""


def customers_export_selected(
    *, ids: Iterable[str], external_system: ExternalSystem, user=None
) -> list[SelectiveAttempt]:
    """Attempt each given customer now (portal ID or NetSuite internal ID); unknown IDs are reported as such."""
    ids = list(ids)
    found = customers_find_by_ids(ids=ids)
    unique = list({c.pk: c for c in found.values()}.values())
    results = {
        r.customer.pk: r
        for r in customers_sync_logged(
            customers=unique, external_system=external_system, trigger=SyncLog.Trigger.SELECTIVE, user=user
        )
    }
    attempts = []
    for given in ids:
        customer = found.get(given)
        if customer is None:
            attempts.append(
                SelectiveAttempt(
                    given,
                    None,
                    ok=False,
                    message=f"No customer has the ID {given} (neither a portal customer ID nor a NetSuite internal "
                    "ID): check the ID and try again.",
                    error_code="UNKNOWN_ID",  # not a failure of a record: nothing is queued
                )
            )
            continue
        result = results[customer.pk]
        message = result.message or (
            f"Sent to {external_system.name}" + (f" (external ID {result.external_id})." if result.external_id else ".")
        )
        attempts.append(
            SelectiveAttempt(given, customer, result.ok, message, result.error_code, result.external_id or "")
        )
    return attempts


@dataclass
class ResyncReport:
    """What a RESYNC of one or more failed records came to."""

    succeeded: list[SyncResult]
    failed: list[SyncResult]
    skipped: list[str]

    def summary(self) -> str:
        parts = []
        if self.succeeded:
            ids = ", ".join(r.customer.customer_id for r in self.succeeded[:10])
            more = "…" if len(self.succeeded) > 10 else ""
            parts.append(f"{len(self.succeeded)} resynced successfully ({ids}{more}).")
        for r in self.failed[:10]:
            parts.append(f"{r.customer.customer_id} failed again: {r.message}")
        if len(self.failed) > 10:
            parts.append(f"{len(self.failed) - 10} more failed again; see the Failed Record Queue.")
        parts.extend(self.skipped)
        return " ".join(parts) or "Nothing to resync."


def failed_records_resync(*, entries: Iterable[SyncFailure], user=None) -> ResyncReport:
    """Send each failed record's customer again now (a contact's company, which sends the contact with it); a
    success resolves its open failures."""
    report = ResyncReport([], [], [])
    entries = list(entries)
    contacts = _contacts_of(entries)
    by_system: dict[int, tuple[ExternalSystem, dict[int, Customer], list[SyncFailure]]] = {}
    for entry in entries:
        if entry.customer_id is None or entry.record_type not in RESYNCABLE_RECORD_TYPES:
            what = entry.file_name or entry.record_id
            action = (
                "fix the file and send it again"
                if entry.record_type in (SyncLog.RecordType.FILE, SyncLog.RecordType.FILE_ROW)
                else "fix its cause; the next run tries again"
            )
            report.skipped.append(
                f"{entry.get_record_type_display()} {what} cannot be resynced from here: it is not a customer sent "
                f"to a connector; {action}."
            )
            continue
        customer = entry.customer
        if entry.record_type == SyncLog.RecordType.CONTACT:
            contact = contacts.get(entry.record_id)
            if contact is None:
                failures_mark_resolved(ids=[entry.pk], user=user)
                report.skipped.append(
                    f"Contact {entry.record_id} no longer exists in the portal, so there is nothing to send: its "
                    "failure is marked resolved."
                )
                continue
            customer = contact.customer  # the company it belongs to now
        _system, customers, listed = by_system.setdefault(entry.external_system_id, (entry.external_system, {}, []))
        customers[customer.pk] = customer
        listed.append(entry)
    for system, customers, listed in by_system.values():
        results = {
            r.customer.pk: r
            for r in customers_resync(customers=list(customers.values()), external_system=system, user=user)
        }
        open_contacts = {
            f.record_id: f
            for f in SyncFailure.objects.filter(
                external_system=system,
                record_type=SyncLog.RecordType.CONTACT,
                record_id__in=[e.record_id for e in listed if e.record_type == SyncLog.RecordType.CONTACT],
                resolved_at__isnull=True,
            )
        }
        reported: set[int] = set()
        for entry in listed:
            if entry.record_type == SyncLog.RecordType.CONTACT:
                company = contacts[entry.record_id].customer
                result = _contact_result(entry.record_id, results[company.pk], open_contacts.get(entry.record_id))
            elif entry.customer_id in reported:
                continue
            else:
                reported.add(entry.customer_id)
                result = results[entry.customer_id]
            (report.succeeded if result.ok else report.failed).append(result)
    return report


def _contacts_of(entries: list[SyncFailure]) -> dict[str, Contact]:
    """The contacts the queue's Contact entries are about, by contact ID, with the company each belongs to now."""
    ids = [e.record_id for e in entries if e.record_type == SyncLog.RecordType.CONTACT]
    if not ids:
        return {}
    return {c.contact_id: c for c in Contact.objects.filter(contact_id__in=ids).select_related("customer")}


def _contact_result(contact_id: str, company: SyncResult, still_open: SyncFailure | None) -> SyncResult:
    """What a contact's RESYNC came to: its company's result, then its own failure, open again or resolved."""
    customer_id = company.customer.customer_id
    if not company.ok:
        message = f"Contact {contact_id} was not sent: its company {customer_id} was not. {company.message}"
        return replace(company, message=message)
    if still_open is not None:
        return SyncResult(
            company.customer, ok=False, status=company.status, message=still_open.message,
            error_code=still_open.error_code,
        )  # fmt: skip
    message = f"Contact {contact_id} of company {customer_id} is in NetSuite."
    return SyncResult(company.customer, ok=True, status=company.status, message=message)


def customers_resync(*, customers: Sequence[Customer], external_system: ExternalSystem, user=None) -> list[SyncResult]:
    """Put the customers back to pending with the system and send them now (trigger "resync")."""
    with transaction.atomic():
        for customer in customers:
            customer_request_resync(customer=customer, external_system=external_system)
    return customers_sync_logged(
        customers=customers, external_system=external_system, trigger=SyncLog.Trigger.RESYNC, user=user
    )


def customer_resync(
    *, customer: Customer, external_system_id: int | None = None, user=None
) -> list[tuple[ExternalSystem, SyncResult]]:
    """Send one customer again now to one connector it is selected for, or to each of them (name order)."""
    syncs = CustomerSync.objects.filter(customer=customer, enabled=True).select_related("external_system")
    if external_system_id is not None:
        syncs = syncs.filter(external_system_id=external_system_id)
    outcomes = []
    for sync in syncs.order_by("external_system__name"):
        [result] = customers_resync(customers=[customer], external_system=sync.external_system, user=user)
        outcomes.append((sync.external_system, result))
    return outcomes


def job_run_now(*, key: str, user=None) -> JobRun:
    """Queue the job to run now on the cluster, recording who asked; return its run, queued from now on."""
    if key not in JOBS or not JOBS[key].run_now:
        raise KeyError(key)
    return job_enqueue(key=key, user=user)


def job_set_frequency(*, key: str, minutes: int) -> Schedule:
    """Run the job every ``minutes`` minutes from now on; the next run moves closer if it was further away."""
    spec = JOBS[key]
    if minutes not in FREQUENCY_PRESETS and minutes != spec.default_minutes:
        raise ValueError(f"Choose one of the offered frequencies, not every {minutes} minutes.")
    schedule, _ = Schedule.objects.get_or_create(
        name=spec.key, defaults={"func": spec.task, "schedule_type": Schedule.MINUTES, "repeats": -1}
    )
    schedule.schedule_type = Schedule.MINUTES
    schedule.minutes = minutes
    soonest = timezone.now() + timedelta(minutes=minutes)
    if schedule.next_run is None or schedule.next_run > soonest:
        schedule.next_run = soonest
    schedule.save(update_fields=["schedule_type", "minutes", "next_run"])
    return schedule


# Snapshots and scheduled count runs older than this are deleted by the count job (one of each a minute).
SNAPSHOT_KEEP = timedelta(days=1)


def dashboard_snapshot_take() -> DashboardSnapshot:
    """Count what the dashboard shows and store it as the newest snapshot; drop those older than a day."""
    started = time.perf_counter()
    counts = dashboard_counts_compute()
    took_ms = round((time.perf_counter() - started) * 1000)
    snapshot = DashboardSnapshot.objects.create(counted_at=timezone.now(), took_ms=took_ms, counts=counts)
    cutoff = snapshot.counted_at - SNAPSHOT_KEEP
    DashboardSnapshot.objects.filter(counted_at__lt=cutoff).delete()
    # Runs an operator asked for, and runs that went wrong, stay in the run history.
    JobRun.objects.filter(
        job=COUNT_JOB, started_at__lt=cutoff, status=JobRun.Status.DONE, requested_by__isnull=True
    ).delete()
    return snapshot
