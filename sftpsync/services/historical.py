"""Historical customers (NetSuite → portal): each row becomes one customer with both identifications."""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from django.utils import timezone

from customers.errors import ErrorCode
from customers.models import (
    NETSUITE_CUSTOMER_ID,
    SHOPIFY_CUST_ID,
    Customer,
    CustomerSync,
    ExternalSystem,
    PartyIdentification,
    external_id_validator,
)
from customers.services import SyncReadiness, SyncRows, connector_problems, customer_readiness
from integration_portal import bulk as sql
from jobs.services import JobRefused

from .. import formats
from ..models import Feed, FeedFile
from .bindings import ident_inserter
from .ledger import ImportSummary, RowProblem, RunContext, feed_import

NAME_FIELDS = ("first_name", "last_name", "company_name", "email", "phone")
_CUSTOMER_FIELDS = (
    "id", "customer_id", *NAME_FIELDS, "party_type", "is_valid", "problems", "created_at", "modified_at",
)  # fmt: skip


class ExportValidity:
    """Stored validity of customers the import writes, from the validation service on in-memory objects."""

    def __init__(self, system: ExternalSystem) -> None:
        self.system = system
        # Every historical row carries both identifications.
        self.types = {system.identification_type or NETSUITE_CUSTOMER_ID, SHOPIFY_CUST_ID}
        # A new historical customer has no addresses and one enabled sync row: the validator needs no query.
        self._blank = Customer().__dict__
        self._new_syncs = [CustomerSync(external_system=system, enabled=True)]

    def of_new(self, fields: dict[str, str], party_type: str) -> SyncReadiness:
        """The new customer's validity, which is also its one sync row's readiness: with one connector selected,
        customer_readiness comes to that connector's problems, computed here once rather than twice."""
        customer = Customer.__new__(Customer)
        customer.__dict__ = {**self._blank, **fields, "party_type": party_type}
        return SyncReadiness.of(
            connector_problems(
                customer=customer, external_system=self.system, addresses=[], identification_types=self.types
            )
        )

    def of_existing(
        self, names: dict[Any, dict[str, str]], new_sync: set[Any]
    ) -> tuple[dict[Any, tuple[bool, str]], dict[Any, SyncReadiness]]:
        """Validate existing customers as they will be once their names are filled and their syncs written:
        each customer's (is_valid, problems), and its new sync row's readiness."""
        out: dict[Any, tuple[bool, str]] = {}
        ready: dict[Any, SyncReadiness] = {}
        for part in sql.chunks(list(names)):
            customers = Customer.objects.filter(pk__in=part).prefetch_related(
                "addresses", "syncs__external_system", "identifications"
            )
            for customer in customers:
                for field, value in names[customer.pk].items():
                    setattr(customer, field, value)
                syncs = list(customer.syncs.all())
                if customer.pk in new_sync:
                    syncs.append(CustomerSync(external_system=self.system, enabled=True))
                readiness = customer_readiness(
                    customer=customer,
                    addresses=list(customer.addresses.all()),
                    syncs=syncs,
                    identification_types=self.types | {i.type for i in customer.identifications.all()},
                )
                out[customer.pk] = (readiness.is_valid, readiness.problems)
                ready[customer.pk] = readiness.syncs[self.system.pk]
        return out, ready


def _valid_customer_id(value: str) -> bool:
    return bool(external_id_validator.regex.match(value))


class HistoricalProcessor:
    """Create or complete customers from the historical file, one set of queries per batch."""

    layout = formats.HISTORICAL
    operation = "historical import"

    def __init__(self, *, feed: Feed, entry: FeedFile):
        self.feed = feed
        self.entry = entry
        self.system: ExternalSystem = feed.external_system
        self.ns_type = self.system.identification_type or NETSUITE_CUSTOMER_ID
        self.customers = sql.RowInserter(Customer, _CUSTOMER_FIELDS)
        self.validity = ExportValidity(self.system)
        self.idents = ident_inserter()
        self.syncs = SyncRows(self.system)
        c, i = sql.table(Customer), sql.table(PartyIdentification)
        # One type per query: `type IN (a, b) AND value IN (...)` probed the (type, value) index for every value
        # under both types, twice the index reads a million-row file needs.
        self.q_owner_idents = f"SELECT customer_id, type, value FROM {i} WHERE type = %s AND value IN ({{into}})"
        self.q_by_customer_id = f"SELECT id, customer_id FROM {c} WHERE customer_id IN ({{into}})"
        self.q_idents_of = (
            f"SELECT customer_id, type, value FROM {i} WHERE type IN (%s, %s) AND customer_id IN ({{into}})"
        )
        self.q_customers = f"SELECT id, customer_id, {', '.join(NAME_FIELDS)} FROM {c} WHERE id IN ({{into}})"
        self.q_fill = (
            f"UPDATE {c} SET {', '.join(f'{sql.column(Customer, f)} = %s' for f in NAME_FIELDS)}, "
            f"{sql.column(Customer, 'is_valid')} = %s, {sql.column(Customer, 'problems')} = %s, "
            f"{sql.column(Customer, 'modified_at')} = COALESCE(%s, {sql.column(Customer, 'modified_at')}) WHERE id = %s"
        )

    def write_batch(self, rows: list[formats.Row]) -> list[RowProblem]:
        """Match each row to a customer (NetSuite ID, Shopify ID, portal ID) and write the batch."""
        if not rows:
            return []
        ns_type, shop_type = self.ns_type, SHOPIFY_CUST_ID
        ns_ids = {r.values["internal_id"] for r in rows}
        shop_ids = {r.values["shopify_id"] for r in rows}
        wanted_ids = {r.values.get("customer_id") or f"NS{r.values['internal_id']}" for r in rows}

        ns_owner: dict[str, Any] = {}
        shop_owner: dict[str, Any] = {}
        existing_idents: set[tuple[str, str]] = set()
        for type_, values, owner in ((ns_type, ns_ids, ns_owner), (shop_type, shop_ids, shop_owner)):
            for pk, _type, value in sql.select_in(self.q_owner_idents, values, [type_]):
                existing_idents.add((type_, value))
                owner[value] = pk
        for value, pk in self.syncs.owners(ns_ids).items():
            ns_owner.setdefault(value, pk)
        id_owner: dict[str, Any] = {cid: pk for pk, cid in sql.select_in(self.q_by_customer_id, wanted_ids)}

        known = set(ns_owner.values()) | set(shop_owner.values()) | set(id_owner.values())
        label: dict[Any, str] = {}
        current: dict[Any, dict[str, str]] = {}
        for pk, cid, *names in sql.select_in(self.q_customers, known):
            label[pk] = cid
            current[pk] = dict(zip(NAME_FIELDS, names, strict=True))
        has_ns: dict[Any, set[str]] = {pk: set() for pk in known}
        has_shop: dict[Any, set[str]] = {pk: set() for pk in known}
        for pk, type_, value in sql.select_in(self.q_idents_of, known, [ns_type, shop_type]):
            (has_ns if type_ == ns_type else has_shop)[pk].add(value)
            existing_idents.add((type_, value))
        sync_of = self.syncs.of(known)

        problems: list[RowProblem] = []
        new: dict[str, dict[str, str]] = {}  # customer_id -> fields, for customers this batch creates
        changed: set[Any] = set()
        new_idents: list[tuple[Any, str, str]] = []
        want_sync: dict[Any, str] = {}

        def name(key: Any) -> str:
            return label.get(key, key if isinstance(key, str) else f"#{key}")

        def ns_of(key: Any) -> str:
            return ", ".join(sorted(has_ns.get(key, ()))) or "none"

        for row in rows:
            v = row.values
            ns, shop, given_id = v["internal_id"], v["shopify_id"], v.get("customer_id", "")
            if given_id and not _valid_customer_id(given_id):
                problems.append(
                    RowProblem(
                        row.line,
                        f"Customer ID '{given_id}' holds characters NetSuite external IDs do not allow "
                        "(letters, digits, '_' and '-' only).",
                    )
                )
                continue
            by_ns, by_shop = ns_owner.get(ns), shop_owner.get(shop)
            by_id = id_owner.get(given_id) if given_id else None
            if by_ns is not None and by_shop is not None and by_ns != by_shop:
                problems.append(
                    RowProblem(
                        row.line,
                        f"Shopify customer ID {shop} is claimed by two NetSuite customers: NetSuite ID "
                        f"{ns_of(by_shop)} (customer {name(by_shop)}) and NetSuite ID {ns} on this row "
                        f"(customer {name(by_ns)}). "
                        "Merge or correct them in NetSuite and send the row again.",
                        ErrorCode.CONFLICT,
                    )
                )
                continue
            match = by_ns if by_ns is not None else by_shop
            if by_id is not None and match is not None and by_id != match:
                problems.append(
                    RowProblem(
                        row.line,
                        f"Customer ID {given_id} is customer {name(by_id)} (NetSuite ID {ns_of(by_id)}), but NetSuite "
                        f"ID {ns} / Shopify ID {shop} belong to customer {name(match)}. Correct the external ID in "
                        "NetSuite and send the row again.",
                        ErrorCode.CONFLICT,
                    )
                )
                continue
            target = match if match is not None else by_id
            if target is None:
                cid = given_id or f"NS{ns}"
                if cid in id_owner:
                    problems.append(
                        RowProblem(
                            row.line,
                            f"Customer ID {cid} is already used by a customer with no NetSuite or Shopify ID; link "
                            "that customer by hand or give the row its external ID.",
                            ErrorCode.CONFLICT,
                        )
                    )
                    continue
                new[cid] = {f: v.get(f, "") for f in NAME_FIELDS}
                target = cid
                id_owner[cid] = cid
                has_ns[cid], has_shop[cid] = set(), set()
            else:
                other_ns = has_ns[target] - {ns}
                if other_ns and by_ns is None and by_shop is not None:
                    problems.append(
                        RowProblem(
                            row.line,
                            f"Shopify customer ID {shop} is claimed by two NetSuite customers: NetSuite ID "
                            f"{', '.join(sorted(other_ns))} (customer {name(target)}) and NetSuite ID {ns} on this "
                            "row. Merge or correct them in NetSuite and send the row again.",
                            ErrorCode.CONFLICT,
                        )
                    )
                    continue
                if other_ns:
                    problems.append(
                        RowProblem(
                            row.line,
                            f"Customer {name(target)} already has NetSuite ID {', '.join(sorted(other_ns))}; this row "
                            f"gives NetSuite ID {ns}. One portal customer maps to one NetSuite customer: merge the "
                            "duplicates in NetSuite.",
                            ErrorCode.CONFLICT,
                        )
                    )
                    continue
                other_shop = has_shop[target] - {shop}
                if other_shop:
                    problems.append(
                        RowProblem(
                            row.line,
                            f"Customer {name(target)} (NetSuite ID {ns}) already has Shopify customer ID "
                            f"{', '.join(sorted(other_shop))}; this row gives Shopify ID {shop}. Correct the Shopify "
                            "ID in NetSuite or on the customer.",
                            ErrorCode.CONFLICT,
                        )
                    )
                    continue
                # Fill what the portal does not know yet; the portal's own values win.
                fields = new[target] if isinstance(target, str) else current[target]
                for f in NAME_FIELDS:
                    if not fields[f] and v.get(f):
                        fields[f] = v[f]
                        if not isinstance(target, str):
                            changed.add(target)
            ns_owner[ns], shop_owner[shop] = target, target
            has_ns[target].add(ns)
            has_shop[target].add(shop)
            for type_, value in ((ns_type, ns), (shop_type, shop)):
                if (type_, value) not in existing_idents:
                    existing_idents.add((type_, value))
                    new_idents.append((target, type_, value))
            want_sync[target] = ns

        self._write(new, current, changed, new_idents, want_sync, sync_of)
        return problems

    def _write(
        self,
        new: dict[str, dict[str, str]],
        current: dict[Any, dict[str, str]],
        changed: set[Any],
        new_idents: list[tuple[Any, str, str]],
        want_sync: dict[Any, str],
        sync_of: dict[Any, tuple[int, str, str]],
    ) -> None:
        moment = timezone.now()
        now = sql.db_datetime(moment)
        person, company = Customer.PartyType.PERSON, Customer.PartyType.COMPANY
        pk_of = dict(zip(new, sql.reserve_ids(Customer, len(new)), strict=True))
        rows = []
        of_new = self.validity.of_new
        readiness: dict[int, SyncReadiness] = {}
        for cid, f in new.items():
            party = company if f["company_name"] and not (f["first_name"] or f["last_name"]) else person
            state = readiness[pk_of[cid]] = of_new(f, party)
            rows.append(
                (pk_of[cid], cid, *(f[n] for n in NAME_FIELDS), party, state.is_ready, state.problems, now, now)
            )
        self.customers.insert(rows)

        def pk(key: Any) -> int:
            return pk_of[key] if isinstance(key, str) else key

        self.idents.insert([(pk(k), t, v, now) for k, t, v in new_idents])
        # Existing customers that get names or a connector are validated again, and written once; a sync row's
        # status does not change validity.
        new_sync = {k for k in want_sync if not isinstance(k, str) and k not in sync_of}
        touched = changed | new_sync
        validity, ready = self.validity.of_existing({k: current[k] for k in touched}, new_sync) if touched else ({}, {})
        # Only a blank filled in is a change of the customer's data (modified_at, which the REST push sends): being
        # bound to this connector is not, or customers the REST connector pulled from NetSuite would be sent back.
        sql.execute_many(
            self.q_fill,
            [(*(current[k][f] for f in NAME_FIELDS), *validity[k], now if k in changed else None, k) for k in validity],
        )
        readiness.update(ready)
        self.syncs.bind({pk(k): ns for k, ns in want_sync.items()}, sync_of, moment, readiness)

    def file_done(self, entry: FeedFile) -> None:
        """Mark the connection's historical import as done, which lets exports run."""
        ExternalSystem.objects.filter(pk=self.system.pk, historical_import_completed_at__isnull=True).update(
            historical_import_completed_at=timezone.now()
        )


def historical_import(*, ctx: RunContext, local_file: str | None = None) -> ImportSummary:
    """Import new historical files of the feed (or one local file) into customers."""
    feed = ctx.feed
    if feed.kind != Feed.Kind.HISTORICAL:
        raise ValueError(f"Feed {feed.pk} is not a historical feed")
    if not feed.enabled and not local_file:
        raise JobRefused(f"The historical feed for {feed.external_system.name} is disabled; enable it in Feeds.")
    summary = feed_import(
        ctx=ctx, processor_factory=lambda entry: HistoricalProcessor(feed=feed, entry=entry), local_file=local_file
    )
    if feed.external_system.historical_import_completed_at is None:
        feed.external_system.refresh_from_db(fields=["historical_import_completed_at"])
        if feed.external_system.historical_import_completed_at is None:
            summary.notes.append(
                "No historical file has been imported yet, so the customer export stays blocked for "
                f"{feed.external_system.name}. Put NetSuite's historical customer file in {feed.folder}."
            )
    return summary
