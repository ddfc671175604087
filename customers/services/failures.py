"""The failure lifecycle: the one place that decides a failure is new, seen again, superseded or resolved.

A record (a customer, a contact, a file row, a connection) has at most one open failure per connector:

- the same problem (error code) met again adds an occurrence and moves ``last_seen_at``;
- a different problem supersedes the open one (it is resolved as superseded) and opens its own;
- a success resolves every open failure of the record with that connector;
- an operator may mark failures resolved by hand.

A customer's failures are keyed by the customer whatever its party type. Concurrent runs cannot double a
failure: open rows are read ``FOR UPDATE`` (PostgreSQL; SQLite's IMMEDIATE transactions serialise writers), a
partial unique index turns a concurrent insert into an IntegrityError, and the work is then done again against
the row the other run committed. ``SyncFailureGroup`` counts the open failures per connector, record type and
code in the same transactions, so the queue's grouped view never counts the table.
"""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from integration_portal import bulk as sql

from ..errors import ErrorCode
from ..models import CUSTOMER_RECORD_TYPES, SyncFailure, SyncFailureGroup

# Keys of one statement's IN lists stay below SQLite's parameter limit.
CHUNK = 400
# A concurrent run may insert the same open failure between our read and our insert: try again this often.
ATTEMPTS = 4

GroupKey = tuple[int, str, str]  # (external system pk, record type, error code)


@dataclass(frozen=True)
class FailureSeen:
    """One failed attempt, as the lifecycle takes it (built by ``attempts_record``)."""

    external_system_id: int
    record_type: str
    record_id: str
    customer_id: int | None
    code: str
    message: str
    operation: str = ""
    trigger: str = ""
    file_name: str = ""
    line_number: int | None = None

    @property
    def key(self) -> tuple:
        return record_key(self.external_system_id, self.record_type, self.record_id, self.customer_id)


# The kind of key of a customer's own records (not a record type: a record type with no customer is keyed by ID).
BY_CUSTOMER = "@customer"


def record_key(system_id: int, record_type: str, record_id: str, customer_id: int | None) -> tuple:
    """What identifies a record for the lifecycle: the customer for a customer's own records."""
    if record_type in CUSTOMER_RECORD_TYPES and customer_id:
        return (system_id, BY_CUSTOMER, customer_id)
    return (system_id, record_type, record_id)


def customer_key(system_id: int, customer_pk: int) -> tuple:
    return (system_id, BY_CUSTOMER, customer_pk)


def _key_filter(keys: Iterable[tuple]) -> Q:
    """Match the records of ``keys`` (from ``record_key``) in as few conditions as possible."""
    customers: dict[int, list[int]] = {}
    others: dict[tuple[int, str], list[str]] = {}
    for system_id, kind, ident in keys:
        if kind == BY_CUSTOMER:
            customers.setdefault(system_id, []).append(ident)
        else:
            others.setdefault((system_id, kind), []).append(ident)
    query = Q(pk__in=[])
    for system_id, pks in customers.items():
        query |= Q(external_system_id=system_id, record_type__in=CUSTOMER_RECORD_TYPES, customer_id__in=pks)
    for (system_id, kind), ids in others.items():
        query |= Q(external_system_id=system_id, record_type=kind, record_id__in=ids)
    return query


def _open(query: Q) -> QuerySet[SyncFailure]:
    qs = SyncFailure.objects.filter(query, resolved_at__isnull=True).order_by()
    return qs.select_for_update() if connection.features.has_select_for_update else qs


def _groups_adjust(deltas: dict[GroupKey, int]) -> None:
    """Add each delta to its group's open count (creating the group), in one upsert per group."""
    changes = [(s, t, c, n) for (s, t, c), n in deltas.items() if n]
    if not changes:
        return
    table = sql.table(SyncFailureGroup)
    columns = ", ".join(sql.column(SyncFailureGroup, f) for f in ("external_system", "record_type", "error_code"))
    count = sql.column(SyncFailureGroup, "open_count")
    # ON CONFLICT ... DO UPDATE is the same on SQLite (3.24+) and PostgreSQL; it adds rather than overwrites.
    sql.execute_many(
        f"INSERT INTO {table} ({columns}, {count}) VALUES (%s, %s, %s, %s) "
        f"ON CONFLICT ({columns}) DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count}",
        sorted(changes),  # one order for every writer, so two runs never wait on each other's group rows
    )


def _settle(rows: Sequence[SyncFailure], *, now: datetime, resolution: str, user: Any = None) -> None:
    """Resolve open failures already locked by the caller, and take them off their groups' counts."""
    if not rows:
        return
    for part in sql.chunks([r.pk for r in rows], CHUNK):
        SyncFailure.objects.filter(pk__in=part).update(resolved_at=now, resolution=resolution, resolved_by=user)
    counts = Counter((r.external_system_id, r.record_type, r.error_code) for r in rows)
    _groups_adjust({key: -n for key, n in counts.items()})


def failures_resolve(
    *,
    keys: Iterable[tuple] = (),
    query: Q | None = None,
    now: datetime | None = None,
    resolution: str = SyncFailure.Resolution.SUCCEEDED,
    user: Any = None,
) -> int:
    """Resolve the open failures of records (``record_key`` tuples) or of a query; return how many were open."""
    now = now or timezone.now()
    user = user if getattr(user, "is_authenticated", False) else None
    keys = list(dict.fromkeys(keys))
    if keys and not _any_open({k[0] for k in keys}):
        return 0  # the usual case of a bulk success: nothing is open with these connectors at all
    resolved = 0
    with transaction.atomic():
        conditions = [query] if query is not None else []
        conditions += [_key_filter(keys[i : i + CHUNK]) for i in range(0, len(keys), CHUNK)]
        for condition in conditions:
            rows = list(_open(condition).only("pk", "external_system_id", "record_type", "error_code"))
            _settle(rows, now=now, resolution=resolution, user=user)
            resolved += len(rows)
    return resolved


def _any_open(system_ids: set[int]) -> bool:
    """Whether any failure is open with these connectors (the group counts, read in one indexed query)."""
    return SyncFailureGroup.objects.filter(external_system_id__in=system_ids, open_count__gt=0).exists()


def failures_resolve_customers_sql(*, external_system_id: int, customers_sql: str, params: Sequence[Any]) -> int:
    """Resolve the open failures of the customers a subquery selects (one column of customer pks; set-based, for
    an export of a million)."""
    if not _any_open({external_system_id}):
        return 0
    query = Q(
        external_system_id=external_system_id,
        record_type__in=CUSTOMER_RECORD_TYPES,
        customer_id__in=RawSQL(customers_sql, list(params)),  # noqa: S611 (the callers build it from _meta names)
    )
    return failures_resolve(query=query)


def failures_mark_resolved(*, ids: Iterable[int], user: Any = None) -> int:
    """Mark failures resolved by an operator; return how many were open."""
    return failures_resolve(query=Q(pk__in=list(ids)), resolution=SyncFailure.Resolution.BY_HAND, user=user)


def failures_record(seen: Sequence[FailureSeen], *, now: datetime | None = None) -> None:
    """Record failed attempts: a new open failure, an occurrence of the open one, or a superseding one.

    Several entries for one record count as several occurrences of its last problem.
    """
    now = now or timezone.now()
    latest: dict[tuple, tuple[FailureSeen, int]] = {}
    for entry in seen:
        previous = latest.pop(entry.key, None)
        same = previous is not None and previous[0].code == entry.code
        latest[entry.key] = (entry, previous[1] + 1 if same else 1)
    items = list(latest.items())
    for start in range(0, len(items), CHUNK):
        part = dict(items[start : start + CHUNK])
        for attempt in range(ATTEMPTS):
            try:
                with transaction.atomic():
                    _record_part(part, now)
                break
            except IntegrityError:
                # Another run opened one of these failures since we read: read again and count on its row.
                if attempt + 1 == ATTEMPTS:
                    raise


def _record_part(latest: dict[tuple, tuple[FailureSeen, int]], now: datetime) -> None:
    current = {
        record_key(f.external_system_id, f.record_type, f.record_id, f.customer_id): f
        for f in _open(_key_filter(latest))
    }
    inserts: list[SyncFailure] = []
    updates: list[SyncFailure] = []
    superseded: list[SyncFailure] = []
    for key, (entry, count) in latest.items():
        code = str(ErrorCode.coerce(entry.code)) if entry.code else str(ErrorCode.PORTAL_INTERNAL_ERROR)
        row = current.get(key)
        if row is not None and row.error_code == code and row.record_type == entry.record_type:
            row.occurrences += count
            row.last_seen_at = now
            row.message = entry.message
            row.operation, row.trigger = entry.operation, entry.trigger
            row.file_name, row.line_number = entry.file_name[:255], entry.line_number
            row.record_id = entry.record_id[:255]
            updates.append(row)
            continue
        if row is not None:
            superseded.append(row)
        inserts.append(
            SyncFailure(
                record_type=entry.record_type,
                record_id=entry.record_id[:255],
                customer_id=entry.customer_id,
                external_system_id=entry.external_system_id,
                error_code=code,
                message=entry.message,
                operation=entry.operation,
                trigger=entry.trigger,
                file_name=entry.file_name[:255],
                line_number=entry.line_number,
                occurrences=count,
                first_seen_at=now,
                last_seen_at=now,
            )
        )
    _settle(superseded, now=now, resolution=SyncFailure.Resolution.SUPERSEDED)
    if updates:
        sql.update_objects(
            updates,
            ["occurrences", "last_seen_at", "message", "operation", "trigger", "file_name", "line_number", "record_id"],
        )
    if inserts:
        SyncFailure.objects.bulk_create(inserts)
        _groups_adjust(Counter((f.external_system_id, f.record_type, f.error_code) for f in inserts))
