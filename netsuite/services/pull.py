"""Pulling customers from NetSuite by lastmodifieddate watermark, keyset-paged, a few statements per page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections, router, transaction
from django.utils import timezone

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
    synclog_record,
)

from ..client import NetSuiteClient
from ..limiter import slots_for_run
from ..mapping import (
    Mappings,
    netsuite_keys,
    netsuite_to_customer_fields,
)
from ..models import NetSuiteConnection
from .common import OPERATION_PULL, client_for
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
