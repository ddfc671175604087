"""Writing a page of NetSuite customers: match, create or update, link, in a few statements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from customers.errors import ErrorCode
from customers.models import (
    SHOPIFY_CUST_ID,
    Address,
    Customer,
    CustomerSync,
    PartyIdentification,
    SyncLog,
    external_id_validator,
    new_customer_id,
)
from customers.services import (
    NOT_SELECTED,
    Attempt,
    SyncReadiness,
    attempts_record,
    customer_validate_for_export,
)
from integration_portal.bulk import (
    aware,
    db_value,
    insert_rows,
    reserve_ids,
    select_in,
    table,
    update_rows,
    upsert_rows,
)

from ...mapping import NetSuiteKeys, suiteql_customer
from ...models import NetSuiteConnection, RemoteCustomer
from ..common import OPERATION_PULL
from ..references import mappings_for
from .match import (
    _AT,
    B2B,
    B2C,
    COMPANY,
    CUSTOMER_ATTNAMES,
    ERROR,
    NEW_CUSTOMER_DEFAULTS,
    PENDING,
    PULL_FIELD_INDEXES,
    SYNCED,
    _Local,
    match_rows,
)
from .query import CUSTOMER_PULL_FIELDS
from .report import PullReport


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
        matched, local, taken = (
            match_rows(rows, ident_type=self.ident_type, system_pk=self.system.pk) if rows else ({}, {}, set())
        )

        new_rows: list[tuple] = []
        generated: set[str] = set()  # customer IDs made up for rows whose external ID cannot be one
        new_keys: dict[str, NetSuiteKeys] = {}  # customer ID → NetSuite keys
        new_state: dict[int, SyncReadiness] = {}  # id() of a new row's values → its readiness (and its link's)
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
                    or aware(values[_AT["modified_at"]]) > aware(found.sync_last_synced_at)
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
                    while customer_id in taken:
                        customer_id = new_customer_id()
                    generated.add(customer_id)
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
                new_state[id(values)] = state
                new_rows.append(values)
                new_keys[customer_id] = keys
                report.created += 1

        self._update_customers(changed, local, links, stamp)
        written = set(changed)
        if generated:
            self._avoid_existing_ids(new_rows, new_keys, generated, taken)
        if new_rows:
            # IDs taken up front: the new customers are linked without reading them back.
            for values, pk in zip(new_rows, reserve_ids(Customer, len(new_rows)), strict=True):
                values[0] = pk
                written.add(pk)
                links.append((pk, new_keys[values[_AT["customer_id"]]]))
            insert_rows(Customer, CUSTOMER_ATTNAMES, new_rows)
        self._link(links, local, now, {v[0]: new_state[id(v)] for v in new_rows})
        self._remember(links, written, now)
        attempts_record(failures, now=now)

    def _remember(self, links: list[tuple[int, NetSuiteKeys]], written: set[int], now: datetime) -> None:
        """Record, per linked customer, the external ID NetSuite holds for it (a push leaves a foreign one alone),
        and for the customers this page wrote, the time it wrote them (a push sends them back only once they
        change after that)."""
        pulled_at = db_value(RemoteCustomer, "pulled_at", now)
        columns = ("connection_id", "customer_id", "internal_id", "external_id")
        rows = {pk: (self.connection.pk, pk, keys.internal_id, keys.external_id) for pk, keys in links}
        upsert_rows(
            RemoteCustomer,
            (*columns, "pulled_at"),
            [(*row, pulled_at) for pk, row in rows.items() if pk in written],
            unique=("connection_id", "customer_id"),
            update=("internal_id", "external_id", "pulled_at"),
        )
        upsert_rows(
            RemoteCustomer,
            columns,
            [row for pk, row in rows.items() if pk not in written],
            unique=("connection_id", "customer_id"),
            update=("internal_id", "external_id"),
        )

    @staticmethod
    def _avoid_existing_ids(new_rows: list, new_keys: dict, generated: set[str], taken: set[str]) -> None:
        """Give a fresh customer ID to a new customer whose made-up one another customer has already (rare: one
        in a trillion per pair, but a million-customer pull makes many pairs)."""
        sql = f"SELECT customer_id FROM {table(Customer)} WHERE customer_id IN ({{into}})"  # noqa: S608 (table name)
        clash = {row[0] for row in select_in(sql, sorted(generated))}
        for values in new_rows:
            old = values[_AT["customer_id"]]
            if old in clash:
                new = new_customer_id()
                while new in taken or new in clash:
                    new = new_customer_id()
                taken.add(new)
                values[_AT["customer_id"]] = new
                new_keys[new] = new_keys.pop(old)

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
        # readiness: the new customers' validity, which is also their new link's (it is their only one).
        """Create the NetSuite and Shopify identifications and the synced links; set parent companies."""
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
                last = db_value(CustomerSync, "last_synced_at", aware(found.sync_last_synced_at))
                changed_syncs.append((found.sync_id, keys.internal_id, found.sync_status, last))
            else:
                changed_syncs.append((found.sync_id, keys.internal_id, SYNCED, synced_at))
        insert_rows(
            CustomerSync,
            ("customer_id", "external_system_id", "enabled", "status", "external_id", "last_synced_at",
             "is_ready", "problems", "problem_code", "last_error_code", "last_error_message"),
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


def _valid_customer_id(value: str) -> bool:
    return 0 < len(value) <= 40 and external_id_validator.regex.search(value) is not None
