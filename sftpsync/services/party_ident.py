"""Created customer IDs (NetSuite → portal, IMP_PARTY_IDENT): identifications, and synced customers."""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from django.utils import timezone

from customers.errors import ErrorCode
from customers.models import NETSUITE_CUSTOMER_ID, Customer, PartyIdentification
from customers.services import SyncRows
from integration_portal import bulk as sql
from jobs.services import JobRefused

from .. import formats
from ..models import Feed, FeedFile
from .bindings import ident_inserter
from .ledger import ImportSummary, RowProblem, RunContext, feed_import


class PartyIdentProcessor:
    """Attach each identification to its customer; the connector's own ID type marks the customer synced."""

    layout = formats.PARTY_IDENT
    operation = "NetSuite ID import"

    def __init__(self, *, feed: Feed, entry: FeedFile):
        self.feed = feed
        self.system = feed.external_system
        self.sys_type = self.system.identification_type or NETSUITE_CUSTOMER_ID
        self.idents = ident_inserter()
        self.syncs = SyncRows(self.system)
        c, i = sql.table(Customer), sql.table(PartyIdentification)
        self.q_customers = f"SELECT id, customer_id FROM {c} WHERE customer_id IN ({{into}})"
        # By type and value, so the (type, value) unique index answers it.
        self.q_owners = f"SELECT customer_id, type, value FROM {i} WHERE type = %s AND value IN ({{into}})"
        self.q_sys_idents_of = f"SELECT customer_id, value FROM {i} WHERE type = %s AND customer_id IN ({{into}})"

    def write_batch(self, rows: list[formats.Row]) -> list[RowProblem]:
        """Apply a batch of identifications with one query per lookup."""
        if not rows:
            return []
        sys_type = self.sys_type
        pk_of = {cid: pk for pk, cid in sql.select_in(self.q_customers, {r.values["party_id"] for r in rows})}
        values = {r.values["value"] for r in rows}
        by_type: dict[str, set[str]] = {}
        for r in rows:
            by_type.setdefault(r.values["type"], set()).add(r.values["value"])
        owner = {
            (t, v): pk
            for type_, wanted in by_type.items()
            for pk, t, v in sql.select_in(self.q_owners, wanted, [type_])
        }
        pks = set(pk_of.values())
        sys_ids: dict[int, set[str]] = {pk: set() for pk in pks}
        for pk, value in sql.select_in(self.q_sys_idents_of, pks, [sys_type]):
            sys_ids[pk].add(value)
        sync_of = self.syncs.of(pks)
        sync_owner = self.syncs.owners(values)
        cid_of = {pk: cid for cid, pk in pk_of.items()}

        problems: list[RowProblem] = []
        new_idents: list[tuple[int, str, str]] = []
        synced: dict[int, str] = {}
        for row in rows:
            party, type_, value = row.values["party_id"], row.values["type"], row.values["value"]
            pk = pk_of.get(party)
            if pk is None:
                problems.append(
                    RowProblem(
                        row.line,
                        f"Customer {party} is not in the portal, so {type_} {value} was not attached. Check the "
                        "partyId in NetSuite (it must be the portal customer ID sent as externalId).",
                        ErrorCode.UNKNOWN_PARTY,
                    )
                )
                continue
            held_by = owner.get((type_, value))
            if type_ == sys_type and held_by is None:
                held_by = sync_owner.get(value)
            if held_by is not None and held_by != pk:
                other = (
                    cid_of.get(held_by)
                    or Customer.objects.filter(pk=held_by).values_list("customer_id", flat=True).first()
                )
                problems.append(
                    RowProblem(
                        row.line,
                        f"{type_} {value} already belongs to customer {other}; it cannot also be given to {party}. "
                        "One of the two is a duplicate in NetSuite: merge them there, then resync.",
                        ErrorCode.CONFLICT,
                        pk,
                    )
                )
                continue
            if type_ == sys_type:
                others = sys_ids[pk] - {value}
                if others:
                    problems.append(
                        RowProblem(
                            row.line,
                            f"Customer {party} already has {type_} {', '.join(sorted(others))}; the file gives "
                            f"{value}. NetSuite may hold the customer twice: merge them there, then resync.",
                            ErrorCode.CONFLICT,
                            pk,
                        )
                    )
                    continue
                sys_ids[pk].add(value)
                synced[pk] = value
                sync_owner[value] = pk
            if held_by is None and (type_, value) not in owner:
                owner[(type_, value)] = pk
                new_idents.append((pk, type_, value))

        now = timezone.now()
        at = sql.db_datetime(now)
        self.idents.insert([(pk, t, v, at) for pk, t, v in new_idents])
        # A customer now in NetSuite has nothing left to fix: binding resolves its open failures.
        self.syncs.bind(synced, sync_of, now)
        return problems

    def file_done(self, entry: FeedFile) -> None:
        """Nothing more to record: each batch is complete in itself."""


def party_ident_import(*, ctx: RunContext, local_file: str | None = None) -> ImportSummary:
    """Import new created-IDs files of the feed (or one local file) into identifications."""
    feed = ctx.feed
    if feed.kind != Feed.Kind.PARTY_IDENT:
        raise ValueError(f"Feed {feed.pk} is not a created-IDs feed")
    if not feed.enabled and not local_file:
        raise JobRefused(f"The created-IDs feed for {feed.external_system.name} is disabled; enable it in Feeds.")
    return feed_import(
        ctx=ctx, processor_factory=lambda entry: PartyIdentProcessor(feed=feed, entry=entry), local_file=local_file
    )
