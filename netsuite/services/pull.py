"""Pulling customers from NetSuite by lastmodifieddate watermark, keyset-paged, a few statements per page."""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters;
# SuiteQL is built from numbers and fixed column names only.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers.errors import ErrorCode
from customers.models import (
    SHOPIFY_CUST_ID,
    Address,
    Customer,
    CustomerSync,
    ExternalSystem,
    PartyIdentification,
    SyncLog,
    external_id_validator,
    new_customer_id,
)
from customers.services import (
    Attempt,
    SyncReadiness,
    attempts_record,
    customer_validate_for_export,
)
from customers.services.validation import NOT_SELECTED
from integration_portal.bulk import db_value, in_values, insert_rows, reserve_ids

from ..client import NetSuiteClient
from ..limiter import slots_for_run
from ..mapping import (
    NetSuiteKeys,
    suiteql_customer,
)
from ..models import NetSuiteConnection
from .common import OPERATION_PULL, client_for
from .references import mappings_for
from .threads import prefetch_pages

# Re-read this much before the last pull's start, for clock differences between the portal and NetSuite.
PULL_OVERLAP = timedelta(minutes=2)
PULL_PAGE_SIZE = 1000

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
        sql = f"SELECT {', '.join(PULL_COLUMNS)} FROM customer"
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
    if client is None:
        # One slot leased for the whole pull: the prefetching thread's requests never wait behind the
        # page writes for a slot row (SQLite has one writer at a time).
        with slots_for_run(connection=connection, wanted=1) as limiter:
            return _pull(
                connection, since, trigger, user, progress, client_for(connection=connection, limiter=limiter), full
            )
    return _pull(connection, since, trigger, user, progress, client, full)


def _pull(connection, since, trigger, user, progress, client: NetSuiteClient, full: bool) -> PullReport:
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
    for page in prefetch_pages(client.suiteql_keyset(build, after_id=after_id, limit=PULL_PAGE_SIZE)):
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
            opened = ExternalSystem.objects.filter(
                pk=connection.external_system_id, historical_import_completed_at=None
            ).update(historical_import_completed_at=completed_at)
            if opened:
                # The first one: send the customers waiting for it now rather than at the next scheduled run.
                transaction.on_commit(partial(_enqueue_first_push, connection.pk))
    connection.pull_watermark = watermark
    connection.pull_cursor_since = connection.pull_cursor_last_id = connection.pull_cursor_started_at = None
    connection.last_pull_completed_at = completed_at
    report.completed = True
    if progress is not None:
        progress.note(report.summary())
    return report


def _enqueue_first_push(connection_id: int) -> None:
    from django_q.tasks import async_task

    async_task(
        "netsuite.tasks.push_customers",
        connection_id=connection_id,
        task_name="NetSuite push after the first complete pull",
    )


# How a NetSuite row found its local customer, in order of precedence.
BY_NETSUITE_ID, BY_SYNC, BY_CUSTOMER_ID, BY_SHOPIFY_ID = 1, 2, 3, 4
CUSTOMER_ATTNAMES = tuple(f.attname for f in Customer._meta.concrete_fields)
_AT = {name: n for n, name in enumerate(CUSTOMER_ATTNAMES)}
PULL_FIELD_INDEXES = tuple((name, _AT[name]) for name in CUSTOMER_PULL_FIELDS)
# Plain strings for rows written by raw SQL.
PENDING, ERROR, SYNCED = (
    CustomerSync.Status.PENDING.value,
    CustomerSync.Status.ERROR.value,
    CustomerSync.Status.SYNCED.value,
)
B2B, B2C, COMPANY = Customer.Segment.B2B.value, Customer.Segment.B2C.value, Customer.PartyType.COMPANY.value
# A new customer's values before the page fills in its pulled fields, customer ID, segment, validity and times.
NEW_CUSTOMER_DEFAULTS = tuple(None if f.primary_key else f.get_default() for f in Customer._meta.concrete_fields)


@dataclass(slots=True)
class _Local:
    """A local customer a NetSuite row matched, with its link and its sync with this system."""

    values: list  # the customer's column values, in CUSTOMER_ATTNAMES order
    linked_to: str | None  # the NetSuite internal ID it is already linked to
    sync_id: int | None
    sync_status: str | None
    sync_external_id: str | None
    sync_last_synced_at: Any
    has_enabled_sync: bool


class _PullApplier:
    """Write one page of NetSuite customers: match, create or update, link, in a few statements."""

    def __init__(self, *, connection: NetSuiteConnection, trigger: str, user, tz: ZoneInfo):
        self.connection = connection
        self.system = connection.external_system
        self.ident_type = self.system.identification_type
        self.trigger = trigger
        self.user = user
        self.tz = tz
        self.mappings = mappings_for(external_system=connection.external_system_id)
        self.report = PullReport()
        # The link every customer written by a pull has, as stored validity sees it.
        self.enabled_sync = [CustomerSync(external_system=self.system, enabled=True)]
        self._probe = Customer()

    def _validity(self, values: list, addresses: Sequence[Address], *, linked: bool = True) -> SyncReadiness:
        """Return the stored validity of a customer given as column values (after this page) and its addresses;
        ``linked``: it has an enabled sync (a new customer gets one)."""
        # One in-memory customer reloaded per row: building a model instance for each would cost more than
        # the rest of the row's work.
        vars(self._probe).update(zip(CUSTOMER_ATTNAMES, values, strict=True))
        problems = customer_validate_for_export(
            customer=self._probe, addresses=addresses, syncs=self.enabled_sync if linked else ()
        )
        return SyncReadiness.of(problems)

    def _failure(self, record_id: str, customer_pk: int | None, code: str, message: str) -> Attempt:
        self.report.failed += 1
        # A pull failure says nothing about sending the customer: its sync row is left alone.
        return Attempt(
            external_system=self.system,
            record_type=SyncLog.RecordType.CUSTOMER,
            record_id=record_id,
            ok=False,
            customer=customer_pk,
            code=code,
            message=message,
            operation=OPERATION_PULL,
            trigger=self.trigger,
            user=self.user,
        )

    def _match(self, rows: list[tuple[NetSuiteKeys, dict]]) -> tuple[dict[str, int], dict[int, _Local], set[str]]:
        """Find the local customers of a page's rows in one query: by the NetSuite ID link, the sync's external
        ID, externalId = customer ID, then the Shopify customer ID.

        Return the customer pk of each matched NetSuite internal ID, the matched customers, and the customer
        IDs among the rows' external IDs that are taken.
        """
        by_kind: dict[int, dict[str, int]] = {kind: {} for kind in (1, 2, 3, 4)}
        local: dict[int, _Local] = {}
        # One query for a page, unless the database takes fewer parameters than four IN lists of it need.
        size = max(1, (_max_query_params() - 8) // 4)
        for start in range(0, len(rows), size):
            self._match_part(rows[start : start + size], by_kind, local)
        found: dict[str, int] = {}
        for keys, _ in rows:
            pk = (
                by_kind[BY_NETSUITE_ID].get(keys.internal_id)
                or by_kind[BY_SYNC].get(keys.internal_id)
                or by_kind[BY_CUSTOMER_ID].get(keys.external_id)
                or by_kind[BY_SHOPIFY_ID].get(keys.shopify_id)
            )
            if pk is not None:
                found[keys.internal_id] = pk
        return found, local, set(by_kind[BY_CUSTOMER_ID])

    def _match_part(self, rows: list[tuple[NetSuiteKeys, dict]], by_kind: dict, local: dict[int, _Local]) -> None:
        qn = db_connection.ops.quote_name
        customer = qn(Customer._meta.db_table)
        ident = qn(PartyIdentification._meta.db_table)
        sync = qn(CustomerSync._meta.db_table)
        ns_ids = [k.internal_id for k, _ in rows]
        external_ids = list({k.external_id for k, _ in rows if k.external_id})
        shopify_ids = list({k.shopify_id for k, _ in rows if k.shopify_id})

        ns_in, ns_params = in_values(ns_ids)
        branches = [
            f"SELECT {BY_NETSUITE_ID} AS kind, value AS k, customer_id AS cid FROM {ident} "
            f"WHERE type = %s AND value IN ({ns_in})",
            f"SELECT {BY_SYNC}, external_id, customer_id FROM {sync} "
            f"WHERE external_system_id = %s AND external_id IN ({ns_in})",
        ]
        params: list[Any] = [self.ident_type, *ns_params, self.system.pk, *ns_params]
        if external_ids:
            inside, more = in_values(external_ids)
            branches.append(f"SELECT {BY_CUSTOMER_ID}, customer_id, id FROM {customer} WHERE customer_id IN ({inside})")
            params += more
        if shopify_ids:
            inside, more = in_values(shopify_ids)
            branches.append(
                f"SELECT {BY_SHOPIFY_ID}, value, customer_id FROM {ident} WHERE type = %s AND value IN ({inside})"
            )
            params += [SHOPIFY_CUST_ID, *more]
        columns = ", ".join(f"c.{qn(f.column)}" for f in Customer._meta.concrete_fields)
        sql = (
            f"SELECT m.kind, m.k, {columns}, s.id, s.status, s.external_id, s.last_synced_at, "
            f"(SELECT i.value FROM {ident} i WHERE i.customer_id = c.id AND i.type = %s ORDER BY i.id LIMIT 1), "
            f"EXISTS (SELECT 1 FROM {sync} e WHERE e.customer_id = c.id AND e.enabled) "
            f"FROM ({' UNION ALL '.join(branches)}) m JOIN {customer} c ON c.id = m.cid "
            f"LEFT JOIN {sync} s ON s.customer_id = c.id AND s.external_system_id = %s"
        )
        width = len(CUSTOMER_ATTNAMES)
        with db_connection.cursor() as cursor:
            cursor.execute(sql, [self.ident_type, *params, self.system.pk])
            for kind, key, *rest in cursor.fetchall():
                values = rest[:width]
                pk = values[0]
                by_kind[kind].setdefault(key, pk)
                if pk not in local:
                    sync_id, status, external_id, synced_at, linked_to, enabled = rest[width:]
                    local[pk] = _Local(values, linked_to, sync_id, status, external_id, synced_at, bool(enabled))

    def apply(self, items: list[dict]) -> None:
        report = self.report
        now = timezone.now()
        stamp = db_value(Customer, "modified_at", now)
        failures: list[Attempt] = []
        rows = []
        for item in items:
            keys, fields = suiteql_customer(item, mappings=self.mappings, tz=self.tz)
            if not keys.internal_id:
                message = f"NetSuite sent a customer without an id: {item!r}"
                failures.append(self._failure("(no id)", None, ErrorCode.MALFORMED_RESPONSE, message))
                continue
            rows.append((keys, fields))
        matched, local, taken = self._match(rows) if rows else ({}, {}, set())

        new_rows: list[tuple] = []
        new_keys: dict[str, NetSuiteKeys] = {}  # customer ID → NetSuite keys
        new_state: dict[str, SyncReadiness] = {}  # customer ID → its validity, and its new link's readiness
        changed: dict[int, list] = {}  # pk → the customer's values after this page
        links: list[tuple[int, NetSuiteKeys]] = []
        claimed: dict[int, str] = {}  # pk → the NetSuite ID this page links it to
        for keys, fields in rows:
            pk = matched.get(keys.internal_id)
            if pk is not None:
                found = local[pk]
                other = claimed.get(pk) or found.linked_to
                values = found.values
                if other and other != keys.internal_id:
                    failures.append(
                        self._failure(
                            keys.external_id or keys.internal_id,
                            pk,
                            ErrorCode.DUPLICATE_IN_NETSUITE,
                            f"NetSuite customer {keys.internal_id} (external ID {keys.external_id or 'none'}) "
                            f"matches customer {values[_AT['customer_id']]}, which is already linked to NetSuite "
                            f"customer {other}: NetSuite holds a duplicate. Merge the two in NetSuite, then pull "
                            "again.",
                        )
                    )
                    continue
                claimed[pk] = keys.internal_id
                links.append((pk, keys))
                if found.sync_status in (PENDING, ERROR) and (
                    found.sync_last_synced_at is None
                    or _aware(values[_AT["modified_at"]]) > _aware(found.sync_last_synced_at)
                ):
                    # Local changes not yet sent win: the next push sends them to NetSuite.
                    report.kept_local += 1
                    continue
                if any(values[n] != fields[name] for name, n in PULL_FIELD_INDEXES):
                    values = list(values)
                    for name, n in PULL_FIELD_INDEXES:
                        values[n] = fields[name]
                    changed[pk] = values
                    report.updated += 1
                else:
                    report.unchanged += 1
            else:
                customer_id = keys.external_id
                if customer_id in taken or not _valid_customer_id(customer_id):
                    customer_id = new_customer_id()
                taken.add(customer_id)
                values = list(NEW_CUSTOMER_DEFAULTS)
                for name, n in PULL_FIELD_INDEXES:
                    values[n] = fields[name]
                values[_AT["customer_id"]] = customer_id
                values[_AT["segment"]] = B2B if fields["party_type"] == COMPANY or keys.parent_id else B2C
                values[_AT["created_at"]] = values[_AT["modified_at"]] = stamp
                # A new customer has no address yet and gets its link with this system below.
                state = self._validity(values, ())
                values[_AT["is_valid"]], values[_AT["problems"]] = state.is_ready, state.problems
                new_state[customer_id] = state
                new_rows.append(values)
                new_keys[customer_id] = keys
                report.created += 1

        self._update_customers(changed, local, links, stamp)
        if new_rows:
            # IDs taken up front: the new customers are linked without reading them back.
            for values, pk in zip(new_rows, reserve_ids(Customer, len(new_rows)), strict=True):
                values[0] = pk
                links.append((pk, new_keys[values[_AT["customer_id"]]]))
            insert_rows(Customer, CUSTOMER_ATTNAMES, new_rows)
        self._link(links, local, now, {v[0]: new_state[v[_AT["customer_id"]]] for v in new_rows})
        attempts_record(failures, now=now)

    def _update_customers(
        self, changed: dict[int, list], local: dict[int, _Local], links: list[tuple[int, Any]], stamp: Any
    ) -> None:
        """Write the changed customers, and the stored validity of those whose fields or link changed."""
        # A matched customer without a sync with this system gets one below: its validity may change too.
        relinked = [pk for pk, _ in links if pk not in changed and local[pk].sync_id is None]
        check = [*changed, *relinked]
        if not check:
            return
        addresses: dict[int, list[Address]] = {pk: [] for pk in check}
        for address in Address.objects.filter(customer_id__in=check).order_by("id"):
            addresses[address.customer_id].append(address)
        validity = []
        for pk in check:
            found = local[pk]
            values = changed.get(pk) or found.values
            # A customer without a sync with this system gets an enabled one below; one with a disabled sync
            # keeps it, and counts as linked only through other enabled syncs.
            state = self._validity(values, addresses[pk], linked=found.sync_id is None or found.has_enabled_sync)[:2]
            if pk in changed:
                values[_AT["is_valid"]], values[_AT["problems"]] = state
            elif state != (values[_AT["is_valid"]], values[_AT["problems"]]):
                validity.append((pk, *state))
        update_rows(
            Customer,
            [*CUSTOMER_PULL_FIELDS, "is_valid", "problems", "modified_at"],
            [
                (pk, *(values[_AT[name]] for name in CUSTOMER_PULL_FIELDS), values[_AT["is_valid"]],
                 values[_AT["problems"]], stamp)
                for pk, values in changed.items()
            ],
        )  # fmt: skip
        # Validity is derived, not a change to sync: modified_at stays.
        update_rows(Customer, ["is_valid", "problems"], validity)

    def _link(
        self,
        links: list[tuple[int, NetSuiteKeys]],
        local: dict[int, _Local],
        now: datetime,
        readiness: dict[int, SyncReadiness],
    ) -> None:
        """Create the NetSuite and Shopify identifications and the synced links; set parent companies.

        ``readiness``: the new customers' validity, which is also their new link's (it is their only one)."""
        stamp = db_value(PartyIdentification, "created_at", now)
        idents = {
            (self.ident_type, keys.internal_id): pk for pk, keys in links if pk not in local or not local[pk].linked_to
        }
        idents.update({(SHOPIFY_CUST_ID, keys.shopify_id): pk for pk, keys in links if keys.shopify_id})
        insert_rows(
            PartyIdentification,
            ("customer_id", "type", "value", "created_at"),
            [(pk, kind, value, stamp) for (kind, value), pk in idents.items()],
            on_conflict_ignore=True,
        )

        synced_at = db_value(CustomerSync, "last_synced_at", now)
        new_syncs, changed_syncs = [], []
        for pk, keys in links:
            found = local.get(pk)
            if found is None or found.sync_id is None:
                state = readiness.get(pk, NOT_SELECTED)
                new_syncs.append((pk, self.system.pk, True, SYNCED, keys.internal_id, synced_at, *state))
                continue
            # A pending or failed link keeps its status: local changes still have to be sent.
            keep = found.sync_status in (PENDING, ERROR)
            if found.sync_external_id == keys.internal_id and (keep or found.sync_status == SYNCED):
                continue
            if keep:
                last = db_value(CustomerSync, "last_synced_at", _aware(found.sync_last_synced_at))
                changed_syncs.append((found.sync_id, keys.internal_id, found.sync_status, last))
            else:
                changed_syncs.append((found.sync_id, keys.internal_id, SYNCED, synced_at))
        insert_rows(
            CustomerSync,
            ("customer_id", "external_system_id", "enabled", "status", "external_id", "last_synced_at", "is_ready",
             "problems", "problem_code", "last_error_code", "last_error_message"),
            [(*row, "", "") for row in new_syncs],
            on_conflict_ignore=True,
        )  # fmt: skip
        update_rows(CustomerSync, ["external_id", "status", "last_synced_at"], changed_syncs)

        # Sub-customers: link to the parent company when the portal knows it (parents usually come first).
        wanted = {pk: keys.parent_id for pk, keys in links if keys.parent_id}
        if wanted:
            parents = dict(
                PartyIdentification.objects.filter(type=self.ident_type, value__in=set(wanted.values())).values_list(
                    "value", "customer_id"
                )
            )
            parent_at = _AT["parent_id"]
            update_rows(
                Customer,
                ["parent_id"],
                [
                    (pk, parents[ns_parent])
                    for pk, ns_parent in wanted.items()
                    if ns_parent in parents
                    and parents[ns_parent] != pk
                    and (pk not in local or local[pk].values[parent_at] != parents[ns_parent])
                ],
            )


def update_rows(model: type[Model], columns: Sequence[str], rows: list[tuple]) -> None:
    """Set ``columns`` on rows given as (pk, *values): on PostgreSQL one UPDATE … FROM (VALUES …) per few
    thousand rows, elsewhere one prepared UPDATE run with executemany."""
    if not rows:
        return
    db = db_connection
    qn = db.ops.quote_name
    table = qn(model._meta.db_table)
    fields = [model._meta.get_field(c) for c in columns]
    pk = qn(model._meta.pk.column)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            names = ", ".join(["pk", *(f"v{n}" for n in range(len(fields)))])
            assign = ", ".join(f"{qn(f.column)} = v.v{n}::{f.db_type(db)}" for n, f in enumerate(fields))
            placeholders = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
            per_statement = max(1, 30_000 // (len(fields) + 1))
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                sql = (
                    f"UPDATE {table} SET {assign} FROM (VALUES {', '.join([placeholders] * len(chunk))}) "
                    f"AS v({names}) WHERE {table}.{pk} = v.pk::bigint"
                )
                cursor.execute(sql, [value for row in chunk for value in row])
        else:
            assign = ", ".join(f"{qn(f.column)} = %s" for f in fields)
            sql = f"UPDATE {table} SET {assign} WHERE {pk} = %s"
            cursor.executemany(sql, [(*row[1:], row[0]) for row in rows])


def _max_query_params() -> int:
    """Return how many parameters one statement may take (Django's SQLite figure is the old default, 999)."""
    if db_connection.vendor == "sqlite":
        db_connection.ensure_connection()
        return db_connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return db_connection.features.max_query_params or 65_535


def _aware(value: Any) -> datetime | None:
    """Read a datetime column fetched by raw SQL (SQLite gives naive UTC) as an aware datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _valid_customer_id(value: str) -> bool:
    return 0 < len(value) <= 40 and external_id_validator.regex.search(value) is not None
