"""Every outcome of sending a record, written once: the sync state, the attempt log and the failure queue.

Connectors (REST, SFTP files, Shopify) report what happened as ``Attempt`` values and ``attempts_record`` writes
them in one transaction, a batch at a time: the customer's sync row with the connector (status, binding, last
error), one SyncLog row per attempt (the history), and the failure lifecycle (``failures``). Paths that send a
million customers at once use the set-based functions below instead, with the same effects.
"""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from integration_portal import bulk as sql

from ..errors import ErrorCode
from ..models import Customer, CustomerSync, ExternalSystem, SyncLog
from .failures import (
    FailureSeen,
    customer_key,
    failures_record,
    failures_resolve,
    failures_resolve_customers_sql,
    record_key,
)
from .validation import NOT_SELECTED, SyncReadiness


def _pk(value: Any) -> int | None:
    return getattr(value, "pk", value)


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


@dataclass(frozen=True)
class Attempt:
    """One attempt to send one record to one connector, and what it came to.

    ``sync_status`` is what the customer's sync row with the connector becomes (None: leave it alone);
    ``external_id`` binds the customer to the connector's record; ``log`` appends a SyncLog row; ``data_read_at``
    is when the data sent was read (the sync row is synced as of then, so a change saved while it was on its way
    makes the customer due again), default the time of writing.
    """

    external_system: ExternalSystem | int
    record_type: str
    record_id: str
    ok: bool
    customer: Customer | int | None = None
    code: str = ""
    message: str = ""
    operation: str = ""
    trigger: str = ""
    file_name: str = ""
    line_number: int | None = None
    user: Any = None
    sync_status: str | None = None
    external_id: str = ""
    log: bool = True
    data_read_at: datetime | None = None


def record_type_of(customer: Customer) -> str:
    """Customers are logged as companies or customers (persons), as the queue's record type filter shows them."""
    return (
        SyncLog.RecordType.COMPANY if customer.party_type == Customer.PartyType.COMPANY else SyncLog.RecordType.CUSTOMER
    )


def customer_attempt(
    customer: Customer,
    external_system: ExternalSystem | int,
    *,
    ok: bool,
    trigger: str,
    operation: str,
    code: str = "",
    message: str = "",
    status: str | None = None,
    external_id: str = "",
    user: Any = None,
    file_name: str = "",
    line_number: int | None = None,
    log: bool = True,
    data_read_at: datetime | None = None,
) -> Attempt:
    """An attempt on a customer: its sync row becomes ``status`` (default: synced on success, error on failure)."""
    return Attempt(
        external_system=external_system,
        record_type=record_type_of(customer),
        record_id=customer.customer_id,
        ok=ok,
        customer=customer,
        code=code,
        message=message,
        operation=operation,
        trigger=trigger,
        file_name=file_name,
        line_number=line_number,
        user=user,
        sync_status=status or (CustomerSync.Status.SYNCED if ok else CustomerSync.Status.ERROR),
        external_id=external_id,
        log=log,
        data_read_at=data_read_at,
    )


def attempts_record(attempts: Sequence[Attempt], *, now: datetime | None = None) -> list[SyncLog]:
    """Write what the attempts came to, in one transaction; return the SyncLog rows written.

    A binding to an external ID another customer holds raises IntegrityError (the caller tells which).
    """
    if not attempts:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        logs = SyncLog.objects.bulk_create(
            SyncLog(
                record_type=a.record_type,
                record_id=a.record_id[:255],
                customer_id=_pk(a.customer),
                external_system_id=_pk(a.external_system),
                operation=a.operation,
                trigger=a.trigger,
                outcome=SyncLog.Outcome.SUCCESS if a.ok else SyncLog.Outcome.FAILED,
                error_code=a.code[:60],
                message=a.message,
                file_name=a.file_name[:255],
                line_number=a.line_number,
                created_by=_user(a.user),
            )
            for a in attempts
            if a.log
        )
        _write_syncs([a for a in attempts if a.sync_status and _pk(a.customer)], now)
        # The last attempt on a record decides: a success resolves, a failure is recorded.
        last: dict[tuple, Attempt] = {}
        failed: list[FailureSeen] = []
        for a in attempts:
            key = record_key(_pk(a.external_system), a.record_type, a.record_id, _pk(a.customer))
            last[key] = a
            if a.ok:
                failed = [f for f in failed if f.key != key]
            else:
                failed.append(
                    FailureSeen(
                        external_system_id=_pk(a.external_system),
                        record_type=a.record_type,
                        record_id=a.record_id,
                        customer_id=_pk(a.customer),
                        code=a.code,
                        message=a.message,
                        operation=a.operation,
                        trigger=a.trigger,
                        file_name=a.file_name,
                        line_number=a.line_number,
                    )
                )
        succeeded = [key for key, a in last.items() if a.ok]
        users = {_user(last[key].user) for key in succeeded}
        for user in users:
            failures_resolve(keys=[k for k in succeeded if _user(last[k].user) == user], now=now, user=user)
        failures_record(failed, now=now)
    return logs


def attempt_record(attempt: Attempt) -> SyncLog | None:
    """Write one attempt (see ``attempts_record``)."""
    logs = attempts_record([attempt])
    return logs[0] if logs else None


_SYNC_FIELDS = ("status", "last_attempt_at", "last_synced_at", "external_id", "last_error_code", "last_error_message")


def _write_syncs(attempts: list[Attempt], now: datetime) -> None:
    """Set the customers' sync rows as the attempts say; create the missing ones (selected)."""
    if not attempts:
        return
    by_system: dict[int, dict[int, Attempt]] = {}
    for a in attempts:
        by_system.setdefault(_pk(a.external_system), {})[_pk(a.customer)] = a
    for system_id, wanted in sorted(by_system.items()):
        pks = sorted(wanted)
        rows = {}
        for part in sql.chunks(pks):
            # Locked in one order (primary key) by every writer, so two runs never deadlock on each other's rows.
            found = CustomerSync.objects.filter(external_system_id=system_id, customer_id__in=part).order_by("pk")
            if connection.features.has_select_for_update:
                found = found.select_for_update()
            rows.update({s.customer_id: s for s in found})
        missing = [pk for pk in pks if pk not in rows]
        if missing:
            CustomerSync.objects.bulk_create(
                [CustomerSync(customer_id=pk, external_system_id=system_id) for pk in missing], ignore_conflicts=True
            )
            rows.update(
                {
                    s.customer_id: s
                    for s in CustomerSync.objects.filter(external_system_id=system_id, customer_id__in=missing)
                }
            )
        at = sql.db_datetime(now)
        changed = []
        for pk, a in wanted.items():
            sync = rows[pk]
            synced = a.ok and a.sync_status == CustomerSync.Status.SYNCED
            synced_at = (a.data_read_at or at) if synced else sync.last_synced_at
            if a.ok:
                external_id, code, message = a.external_id or sync.external_id, "", ""
            else:
                external_id, code, message = (
                    sync.external_id,
                    str(ErrorCode.coerce(a.code)) if a.code else "",
                    a.message,
                )
            if isinstance(synced_at, datetime):
                synced_at = sql.db_datetime(synced_at)
            changed.append((sync.pk, a.sync_status, at, synced_at, external_id, code, message))
        # One UPDATE … FROM (VALUES …) on PostgreSQL, one prepared UPDATE run with executemany on SQLite: Django's
        # bulk_update builds a CASE per row and column, which cost a batched push 40 ms per 100 customers.
        sql.update_rows(CustomerSync, _SYNC_FIELDS, changed)


# --- set-based, for files of a million customers ---------------------------------------------------------


def syncs_mark_sent(
    *, external_system: ExternalSystem, customers_sql: str, params: Sequence[Any], status: str, now: datetime
) -> int:
    """Mark the customers a subquery selects as sent (e.g. exported, awaiting ID): one UPDATE; their open
    failures with the connector are resolved, as any success resolves them. Return how many rows changed."""
    s = sql.table(CustomerSync)
    changed = sql.execute(
        f"UPDATE {s} SET status = %s, last_attempt_at = %s, last_error_code = '', last_error_message = '' "
        f"WHERE external_system_id = %s AND customer_id IN ({customers_sql})",
        [status, sql.db_datetime(now), external_system.pk, *params],
    )
    failures_resolve_customers_sql(external_system_id=external_system.pk, customers_sql=customers_sql, params=params)
    return changed


class SyncRows:
    """A connector's sync rows, read and bound a batch at a time (file imports of a million rows)."""

    def __init__(self, system: ExternalSystem) -> None:
        self.system = system
        s = sql.table(CustomerSync)
        self.inserter = sql.RowInserter(
            CustomerSync,
            (
                "customer_id",
                "external_system_id",
                "enabled",
                "status",
                "external_id",
                "last_attempt_at",
                "last_synced_at",
                "is_ready",
                "problems",
                "problem_code",
            ),
        )
        self.q_of = (
            f"SELECT customer_id, id, status, external_id FROM {s} WHERE external_system_id = %s "
            "AND customer_id IN ({into})"
        )
        # Written as the partial unique index's own condition, so the database uses that index.
        self.q_owners = (
            f"SELECT customer_id, external_id FROM {s} WHERE external_system_id = %s AND NOT (external_id = '') "
            "AND external_id IN ({into})"
        )
        self.q_update = (
            f"UPDATE {s} SET status = %s, external_id = %s, last_attempt_at = %s, last_synced_at = %s, "
            "last_error_code = '', last_error_message = '' WHERE id = %s"
        )

    def of(self, customer_pks: Iterable[Any]) -> dict[Any, tuple[int, str, str]]:
        """Return customer pk → (sync pk, status, external ID) for the customers that have a sync row."""
        return {pk: (sid, st, ext) for pk, sid, st, ext in sql.select_in(self.q_of, customer_pks, [self.system.pk])}

    def owners(self, external_ids: Iterable[str]) -> dict[str, Any]:
        """Return external ID → customer pk for the IDs some customer's sync row holds."""
        return {ext: pk for pk, ext in sql.select_in(self.q_owners, external_ids, [self.system.pk])}

    def bind(
        self,
        bound: Mapping[int, str],
        existing: Mapping[Any, tuple[int, str, str]],
        now: datetime,
        readiness: Mapping[int, SyncReadiness] | None = None,
    ) -> None:
        """Bind each customer pk to its external ID as synced: insert missing rows (with their readiness, when
        given), update changed ones; the customers' open failures with the connector are resolved."""
        status = CustomerSync.Status.SYNCED
        at = sql.db_datetime(now)
        readiness = readiness or {}
        inserts, updates = [], []
        for pk, value in bound.items():
            row = existing.get(pk)
            if row is None:
                inserts.append((pk, self.system.pk, True, status, value, at, at, *readiness.get(pk, NOT_SELECTED)))
            elif (row[1], row[2]) != (status, value):
                updates.append((status, value, at, at, row[0]))
        self.inserter.insert(inserts)
        sql.execute_many(self.q_update, updates)
        # Only customers that had a sync row with the system can have a failure open with it (every attempt
        # writes one): customers this import creates have none, and looking would cost a query per chunk.
        known = [pk for pk in bound if pk in existing]
        if known:
            failures_resolve(keys=[customer_key(self.system.pk, pk) for pk in known], now=now)


def customer_sync_get_or_create(*, customer: Customer, external_system: ExternalSystem) -> CustomerSync:
    """Return the customer's sync state with the system, creating a pending one when absent."""
    sync, _ = CustomerSync.objects.get_or_create(customer=customer, external_system=external_system)
    return sync


def customer_syncs_enable(*, customer_pks: Iterable[int], external_systems: Iterable[ExternalSystem]) -> int:
    """Select the systems on the customers' External System tab (pending); selections they have are kept.

    Bulk-capable (one insert) for sources that create many customers at once; their readiness is then refreshed
    by ``customers_refresh_validation``. Return how many selections were asked for.
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
