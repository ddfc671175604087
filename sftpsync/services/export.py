"""Unsynced customers (portal → NetSuite): export files for HotWax's HC_SC_ImportCustomer, crash-consistent.

HC_SC_ImportCustomer takes every entry of export/ that is not a folder, so a file appears there only complete: it
is written in export/staging/ (a folder: never taken) and renamed into place. Each file is first a ledger entry:

1. claim: one transaction records the entries with their file names, claims every waiting customer for one of them
   (at most the feed's rows per file each, with its line) in one statement, and marks them "exported, awaiting
   ID"; it commits before any byte is written;
2. place: the file is written from the ledger's claims into staging/ and renamed into export/ under that name;
3. placed: the entry is marked done with the file's size and hash.

A worker that dies anywhere leaves an entry that is not done. The next export run (under the entry's lock, so
never beside a live writer) looks for its name in export/ and in the folders the script moves files to: found,
the entry is marked done; not found, the file is written again from the same claims. So every customer ends in
exactly one file NetSuite reads, and the ledger agrees with the folder. A file never exceeds the CSV import's
25,000 records nor N/sftp's 100,000,000 bytes: when the bytes run out first, the rest of the claims move to a new
entry before the file is placed.
"""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import hashlib
import posixpath
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from customers.dispatch import HISTORICAL_IMPORT_PENDING, Refusal, SyncResult, sync_refusal
from customers.errors import ErrorCode
from customers.models import (
    NETSUITE_CUSTOMER_ID,
    SHOPIFY_CUST_ID,
    Customer,
    CustomerSync,
    ExternalSystem,
    PartyIdentification,
)
from customers.services import (
    Attempt,
    attempts_record,
    customer_attempt,
    customer_refresh_validation,
    syncs_mark_sent,
)
from integration_portal import bulk as sql
from jobs.locks import job_lock
from jobs.services import JobProgress, JobRefused
from netsuite.services import mappings_for

from ..formats import MAX_BYTES, MAX_ROWS, ExportWriter, safe_cells
from ..models import ExportedCustomer, Feed, FeedFile
from ..transport import RemoteFileExists, Transport, TransportError, transport_for
from .failures import FailureGroup, customers_fail
from .folders import EXPORT_ARCHIVE, EXPORT_FAILED, folders_ensure, staging_folder

OPERATION = "export file"
READ_CHUNK = 5000
EXPORTABLE_STATUSES = (
    CustomerSync.Status.PENDING,
    CustomerSync.Status.NOT_SYNCED,
    CustomerSync.Status.ERROR,
)
MAPPING_MISSING = ErrorCode.MAPPING_MISSING
# Set by export_errors: NetSuite's ID has not come back in time, or NetSuite could not take the file (an error file,
# a file in failed/). A scheduled export leaves these customers to a RESYNC: the same row or file would be refused
# again, and every run would add one more file to NetSuite's failed/ folder until the cause is fixed.
ID_NOT_RETURNED = ErrorCode.NETSUITE_ID_NOT_RETURNED
WAIT_FOR_RESYNC = (ID_NOT_RETURNED, ErrorCode.NETSUITE_IMPORT_ERROR, ErrorCode.NETSUITE_FILE_FAILED)
# Lock namespaces: an export entry being placed (PostgreSQL), and a feed's export run (SQLite); the inbound feeds'
# own is the feed's job lock.


def file_refusal(external_system: ExternalSystem) -> Refusal | None:
    """Say why no customer may be exported to the system now, or return None (registered with dispatch)."""
    if external_system.historical_import_completed_at is None:
        return Refusal(
            HISTORICAL_IMPORT_PENDING,
            f"The customer export to {external_system.name} did not run: NetSuite's historical customers have not "
            "been imported yet, and exporting now would create customers NetSuite already has. Run the historical "
            f"import first (Run now on its feed, or manage.py import_historical_customers --connection "
            f"{external_system.code}).",
        )
    return None


def export_refusal(*, external_system: ExternalSystem) -> str:
    """Return why exports to the system must not run now (the guards every way of sending applies), or ''."""
    refusal = sync_refusal(external_system=external_system, transport=ExternalSystem.Transport.FILE)
    return refusal.message if refusal is not None else ""


# --- references: subsidiary and lead source by internal ID ---------------------------------------


@dataclass
class ExportReferences:
    """Turns a customer's subsidiary and lead source into the internal IDs custimport_customer_hc requires.

    A customer without a value of its own takes the export feed's default; a value (or default) without an internal
    ID in the system's reference mappings keeps its customers out of the file, in error (MAPPING_MISSING).
    """

    feed: Feed
    _ids: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.mappings = mappings_for(external_system=self.feed.external_system_id)
        self.defaults = {
            "subsidiaries": self.feed.default_subsidiary.strip(),
            "lead_sources": self.feed.default_account_source.strip(),
        }

    def resolve(self, kind: str, value: str) -> str | None:
        """Return the internal ID for a customer's value (blank: the feed's default); None if it has none.

        A blank lead source with no default is sent blank: the import map does not require one.
        """
        key = (kind, value)
        if key not in self._ids:
            local = value.strip() or self.defaults[kind]
            if not local:
                self._ids[key] = "" if kind == "lead_sources" else None
            else:
                self._ids[key] = self.mappings.to_netsuite(kind, local)
        return self._ids[key]


# --- the three steps: claim, place, placed ---------------------------------------------------------


def export_file_name(*, entry: FeedFile) -> str:
    """Name the file after its ledger entry, so a restart knows which file on the server is which entry's."""
    return f"HCCustomerExport-{timezone.localtime(entry.started_at):%Y%m%d-%H%M%S}-{entry.pk:08d}.csv"


@dataclass(frozen=True)
class _Which:
    """Which customers a claim takes: the given ones (an operator's resync or selective export) or every waiting
    one, less those whose subsidiary or lead source this run found without an internal ID."""

    given: tuple[int, ...] | None
    unmapped_subsidiaries: tuple[str, ...] = ()
    unmapped_sources: tuple[str, ...] = ()

    def where(self) -> tuple[str, list[Any]]:
        """The claimable customers' conditions (sync row s, customer c) and their parameters."""
        i = sql.table(PartyIdentification)
        # An operator's resync or selective export takes any status, but never a customer NetSuite already has. A
        # scheduled run leaves to a RESYNC a customer whose NetSuite ID never came back (NetSuite rejected its row
        # for a reason only its CSV import status page shows) or whose file NetSuite could not take (WAIT_FOR_RESYNC).
        if self.given is not None:
            which, params = f"s.customer_id IN ({', '.join(['%s'] * len(self.given))})", list(self.given)
        else:
            waiting = ", ".join(["%s"] * len(WAIT_FOR_RESYNC))
            which = f"s.status IN (%s, %s, %s) AND NOT (s.status = %s AND s.last_error_code IN ({waiting}))"
            params = [*EXPORTABLE_STATUSES, CustomerSync.Status.ERROR, *WAIT_FOR_RESYNC]
        for column, values in (("subsidiary", self.unmapped_subsidiaries), ("account_source", self.unmapped_sources)):
            if values:
                which += f" AND c.{column} NOT IN ({', '.join(['%s'] * len(values))})"
                params += list(values)
        # `y.type || ''` keeps the planner off the (type, value) index, which it took for `y.type = %s` and walked
        # per customer (an export of 62,579 customers took 11 min 55 s).
        return (
            f"s.external_system_id = %s AND s.enabled = %s AND s.external_id = '' AND s.is_ready = %s AND {which} "
            f"AND NOT EXISTS (SELECT 1 FROM {i} y WHERE y.customer_id = c.id AND y.type || '' = %s)"
        ), params


def _count_sql(where: str) -> str:
    c, s = sql.table(Customer), sql.table(CustomerSync)
    return f"SELECT COUNT(*) FROM {s} s JOIN {c} c ON c.id = s.customer_id WHERE {where}"


def _claim_sql(where: str, files: int) -> str:
    """Link every claimable customer to one of ``files`` entries (a file's worth each, in sync row order) with
    its line in that file, locking the sync rows, in one statement: one pass however many files."""
    c, s, e = sql.table(Customer), sql.table(CustomerSync), sql.table(ExportedCustomer)
    lock = " FOR UPDATE OF s SKIP LOCKED" if connection.vendor == "postgresql" else ""
    entry = " ".join("WHEN %s THEN %s" for _ in range(files))
    # The n-th customer goes to file (n - 1) / rows-per-file, at line (n - 1) % rows-per-file + 2 (the header is
    # line 1). PostgreSQL allows no window function next to FOR UPDATE, hence the locking subquery. Customers that
    # became claimable after the count are left for the next run.
    return (
        f"INSERT INTO {e} ({sql.column(ExportedCustomer, 'feed_file')}, {sql.column(ExportedCustomer, 'customer')}, "
        f"{sql.column(ExportedCustomer, 'line')}) "
        f"SELECT CASE (n.rn - 1) / %s {entry} END, n.cid, (n.rn - 1) %% %s + 2 FROM ("
        "SELECT w.cid, ROW_NUMBER() OVER (ORDER BY w.sid) AS rn FROM ("
        f"SELECT s.id AS sid, c.id AS cid FROM {s} s JOIN {c} c ON c.id = s.customer_id WHERE {where}{lock}) w) n "
        "WHERE (n.rn - 1) / %s < %s"
    )


def _of_entry(select: str, entries: int = 1) -> str:
    """``select`` over the customers some entries claimed (its parameters: the entries)."""
    c, e = sql.table(Customer), sql.table(ExportedCustomer)
    return (
        f"SELECT {select} FROM {e} e JOIN {c} c ON c.id = e.{sql.column(ExportedCustomer, 'customer')} "
        f"WHERE e.{sql.column(ExportedCustomer, 'feed_file')} IN ({', '.join(['%s'] * entries)})"
    )


def _claimed_sql() -> str:
    """Read back an entry's customers in file order, with the Shopify ID the file carries (first parameter)."""
    i = sql.table(PartyIdentification)
    # `x.type || ''`: the (customer, type) index, never the (type, value) one (see _claim_sql).
    return (
        _of_entry(
            f"e.{sql.column(ExportedCustomer, 'line')}, c.customer_id, "
            f"(SELECT MIN(x.value) FROM {i} x WHERE x.customer_id = c.id AND x.type || '' = %s), "
            "c.first_name, c.last_name, c.company_name, c.email, c.phone, c.party_type, c.export_status, c.subsidiary, "
            "c.order_priority, c.account_source"
        )
        + f" ORDER BY e.{sql.column(ExportedCustomer, 'line')}"
    )


def _claimed_customers_sql(entries: int) -> str:
    """The customers some entries claimed, as a subquery (its parameters: the entries)."""
    return (
        f"SELECT {sql.column(ExportedCustomer, 'customer')} FROM {sql.table(ExportedCustomer)} "
        f"WHERE {sql.column(ExportedCustomer, 'feed_file')} IN ({', '.join(['%s'] * entries)})"
    )


@dataclass
class _Claims:
    """What claiming found besides the entries: values that map to no internal ID."""

    unmapped: dict[str, set[str]] = field(default_factory=lambda: {"subsidiaries": set(), "lead_sources": set()})


class _Unmapped(Exception):
    """A claim met values without an internal ID: it is rolled back and made again without them."""


def _claim(
    feed: Feed,
    refs: ExportReferences,
    claims: _Claims,
    customer_pks: Sequence[int] | None,
    job_run_id: int | None,
    counted: int | None = None,
) -> list[FeedFile]:
    """Step 1: record the entries, their names and their customers, committed before any file is written.

    ``counted``: the claimable customers as counted just before (the progress total); the claim takes what it
    finds, fewer (a concurrent run took some) or up to that many files' worth.
    """
    system = feed.external_system
    ns_type = system.identification_type or NETSUITE_CUSTOMER_ID
    per_file = max(1, min(feed.rows_per_file, MAX_ROWS))
    while True:
        which = _Which(
            tuple(customer_pks) if customer_pks is not None else None,
            tuple(sorted(claims.unmapped["subsidiaries"])),
            tuple(sorted(claims.unmapped["lead_sources"])),
        )
        where, params = which.where()
        params = [system.pk, True, True, *params, ns_type]
        try:
            with transaction.atomic():
                if counted is None:
                    [(count,)] = _fetch(_count_sql(where), params)
                else:
                    count, counted = counted, None
                if not count:
                    return []
                files = -(-count // per_file)
                entries = [
                    FeedFile.objects.create(
                        feed=feed,
                        direction=FeedFile.Direction.OUTBOUND,
                        file_name="(being claimed)",
                        remote_path="",
                        job_run_id=job_run_id,
                    )
                    for _ in range(files)
                ]
                numbered = [v for n, entry in enumerate(entries) for v in (n, entry.pk)]
                claimed = sql.execute(
                    _claim_sql(where, files), [per_file, *numbered, per_file, *params, per_file, files]
                )
                # Claims fill the entries in order: fewer than counted (another run took some) leave the last empty.
                entries, empty = entries[: -(-claimed // per_file)], entries[-(-claimed // per_file) :]
                FeedFile.objects.filter(pk__in=[entry.pk for entry in empty]).delete()
                if not entries:
                    return []
                pks = [entry.pk for entry in entries]
                new = _unmapped(refs, _fetch(_of_entry("DISTINCT c.subsidiary, c.account_source", len(pks)), pks))
                if any(new.values()):
                    raise _Unmapped(new)
                for entry in entries:
                    entry.file_name = export_file_name(entry=entry)
                    entry.remote_path = posixpath.join(feed.folder, entry.file_name)
                    entry.save(update_fields=["file_name", "remote_path"])
                syncs_mark_sent(
                    external_system=system,
                    customers_sql=_claimed_customers_sql(len(pks)),
                    params=pks,
                    status=CustomerSync.Status.EXPORTED,
                    now=timezone.now(),
                )
            return entries
        except _Unmapped as exc:
            # Values this run had not met map to nothing: the claim is rolled back and made again without them.
            for kind, values in exc.args[0].items():
                claims.unmapped[kind] |= values


def _waiting(feed: Feed, customer_pks: Sequence[int] | None) -> int:
    """Count the customers a claim would take now."""
    system = feed.external_system
    where, params = _Which(tuple(customer_pks) if customer_pks is not None else None).where()
    [(count,)] = _fetch(
        _count_sql(where), [system.pk, True, True, *params, system.identification_type or NETSUITE_CUSTOMER_ID]
    )
    return count


def _fetch(statement: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _unmapped(refs: ExportReferences, pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"subsidiaries": set(), "lead_sources": set()}
    for subsidiary, source in pairs:
        if refs.resolve("subsidiaries", subsidiary or "") is None:
            found["subsidiaries"].add(subsidiary)
        if refs.resolve("lead_sources", source or "") is None:
            found["lead_sources"].add(source)
    return found


def _export_rows(rows: Iterable[tuple], feed: Feed, refs: ExportReferences) -> Iterator[tuple]:
    """Turn read-back rows into export rows in EXPORT_HEADER order, every cell spreadsheet-safe."""
    person = Customer.PartyType.PERSON
    d_status, taxable, d_priority = feed.default_status, feed.default_taxable, feed.default_order_priority
    resolve = refs.resolve
    for _line, cid, shop, first, last, company, email, phone, party, status, subsidiary, priority, source in rows:
        if party != person:
            # The file has no company name column: whatever is sent, NetSuite refuses a company ("Please enter
            # value(s) for: Company Name"); the company name goes where the import reads a name at all.
            first, last = company, ""
        if "\n" in (joined := first + last + email + phone) or "\r" in joined:
            # One physical line per customer, so a line number in the file names one customer.
            first, last, email, phone = (_one_line(v) for v in (first, last, email, phone))
        yield safe_cells(
            (
                cid,
                cid,
                shop or "",
                first,
                last,
                email,
                phone,
                "T" if party == person else "F",
                status or d_status,
                resolve("subsidiaries", subsidiary or ""),
                taxable,
                priority if priority is not None else d_priority,
                resolve("lead_sources", source or "") or "",
            )
        )


def _one_line(value: str) -> str:
    return " ".join(value.splitlines()) if value else value


def _placed_path(transport: Transport, feed: Feed, name: str) -> str:
    """Where a file of this name is, if it reached the export folder: there, or where the script moved it."""
    for folder in (
        feed.folder,
        posixpath.join(feed.folder, EXPORT_ARCHIVE),
        posixpath.join(feed.folder, EXPORT_FAILED),
    ):
        path = posixpath.join(folder, name)
        if transport.exists(path):
            return path
    return ""


def _place(
    entry: FeedFile, feed: Feed, refs: ExportReferences, transport: Transport, progress: JobProgress | None
) -> FeedFile | None:
    """Steps 2 and 3 for one entry; return the entry that took the rest of its claims when the bytes ran out."""
    with _placing(entry) as mine:
        if not mine:
            return None  # another live run is placing it
        entry.refresh_from_db()
        if entry.status != FeedFile.Status.PROCESSING:
            return None
        found = _placed_path(transport, feed, entry.file_name)
        if found:
            # A run died after the rename and before its commit: the file is NetSuite's already; only record it.
            with transport.open_read(found) as stream:
                digest, size = hashlib.sha256(), 0
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
            _mark_placed(entry, found, size, digest.hexdigest())
            if progress is not None:
                progress.advance(ExportedCustomer.objects.filter(feed_file=entry).count())
            return None
        staged = posixpath.join(staging_folder(feed), entry.file_name)
        rest: FeedFile | None = None
        with transport.open_write(staged) as stream:
            writer = ExportWriter(stream, max_bytes=MAX_BYTES)
            cut = _write_claims(entry, feed, refs, writer, progress)
            size, sha = writer.finish()
        if cut:
            rest = _split(entry, cut)
        final = posixpath.join(feed.folder, entry.file_name)
        if not transport.rename_no_overwrite(staged, final):
            raise RemoteFileExists(
                f"{final} is taken by a file the portal did not write; {entry.file_name} stays in "
                f"{staging_folder(feed)} and its customers wait. Move the other file away; the next export places it."
            )
        _mark_placed(entry, final, size, sha)
        return rest


@contextlib.contextmanager
def _placing(entry: FeedFile) -> Iterator[bool]:
    """Hold an entry while it is placed. PostgreSQL: an advisory lock per entry, so concurrent exports place
    different files; SQLite (one writer at a time) holds the whole export run instead (_export_run)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with job_lock("feed-export-entry", entry.pk) as mine:
        yield mine


@contextlib.contextmanager
def _export_run(feed: Feed) -> Iterator[None]:
    """On SQLite, one export of a feed at a time (a lock file per feed, not per file: none pile up)."""
    if connection.vendor == "postgresql":
        yield
        return
    with job_lock("feed-export", feed.pk) as taken:
        if not taken:
            raise JobRefused(
                f"Another export to {feed.external_system.name} is still running; this one did nothing. Wait for it "
                "to finish (see Job runs)."
            )
        yield


def _write_claims(
    entry: FeedFile, feed: Feed, refs: ExportReferences, writer: ExportWriter, progress: JobProgress | None
) -> int:
    """Write the entry's claimed customers in line order; return the first line that did not fit (0: all did)."""
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(_claimed_sql(), [SHOPIFY_CUST_ID, entry.pk])
        while rows := cursor.fetchmany(READ_CHUNK):
            written = writer.add(list(_export_rows(rows, feed, refs)))
            if progress is not None:
                progress.advance(written)
            if written < len(rows):
                return rows[written][0]
    return 0


def _split(entry: FeedFile, cut: int) -> FeedFile:
    """Move the claims from line ``cut`` on to a new entry (the file ran out of bytes); committed before placing."""
    with transaction.atomic():
        rest = FeedFile.objects.create(
            feed=entry.feed, direction=FeedFile.Direction.OUTBOUND, file_name="(being claimed)", remote_path="",
            job_run_id=entry.job_run_id,
        )  # fmt: skip
        name = export_file_name(entry=rest)
        FeedFile.objects.filter(pk=rest.pk).update(file_name=name, remote_path=posixpath.join(entry.feed.folder, name))
        # Line `cut` becomes line 2 of the new file (its header is line 1).
        ExportedCustomer.objects.filter(feed_file=entry, line__gte=cut).update(
            feed_file=rest, line=F("line") - (cut - 2)
        )
    rest.refresh_from_db()
    return rest


def _mark_placed(entry: FeedFile, path: str, size: int, sha: str) -> None:
    rows = ExportedCustomer.objects.filter(feed_file=entry).count()
    FeedFile.objects.filter(pk=entry.pk).update(
        remote_path=path, size=size, sha256=sha, status=FeedFile.Status.DONE, rows_total=rows, rows_ok=rows,
        finished_at=timezone.now(),
    )  # fmt: skip


@dataclass
class ExportResult:
    """What an export run did: the files it placed, and the customers it held back for a missing internal ID."""

    files: list[FeedFile] = field(default_factory=list)
    unmapped: dict[str, set[str]] = field(default_factory=dict)
    held_back: int = 0

    def describe(self) -> str:
        if self.files:
            names = ", ".join(f.file_name for f in self.files)
            text = f"Wrote {sum(f.rows_total for f in self.files)} customers to {len(self.files)} file(s): {names}."
        else:
            text = "No customer is waiting to be exported."
        values = sorted(v or "(feed default)" for values in self.unmapped.values() for v in values)
        if values:
            text += (
                f" Customers with {', '.join(values)} were held back: no NetSuite internal ID in the reference "
                f"mappings ({self.held_back} newly in the failed record queue)."
            )
        return text


def customers_export(
    *,
    feed: Feed,
    trigger: str,
    user: Any = None,
    progress: JobProgress | None = None,
    job_run_id: int | None = None,
    customer_pks: Sequence[int] | None = None,
) -> ExportResult:
    """Write the customers waiting for NetSuite into export files; return the files placed by this run.

    Entries an earlier run left unplaced (it died) are placed first. Claims lock the customers' sync rows
    (PostgreSQL: SKIP LOCKED, so a concurrent run takes others; SQLite: one writer at a time).
    """
    refusal = export_refusal(external_system=feed.external_system)
    if refusal:
        raise JobRefused(refusal)
    if customer_pks is not None and not customer_pks:
        return ExportResult()
    refs = ExportReferences(feed)
    claims = _Claims()
    placed: list[FeedFile] = []
    with _export_run(feed), transport_for(feed.sftp_connection) as transport:
        check = folders_ensure(transport, [feed])
        if check.failed:
            folder, reason = check.failed[0]
            raise TransportError(f"The export needs the folder {folder}, which could not be created: {reason}")
        queue = list(
            FeedFile.objects.filter(
                feed=feed, direction=FeedFile.Direction.OUTBOUND, status=FeedFile.Status.PROCESSING
            ).order_by("pk")
        )
        claimed = False
        waiting = _waiting(feed, customer_pks)
        restarted = ExportedCustomer.objects.filter(feed_file__in=queue).count() if queue else 0
        if progress is not None:
            # Known before any row is written: the console and the terminal show "0 of N" at once.
            progress.set_total(restarted + waiting)
        while True:
            if not queue:
                if claimed:
                    break
                queue, claimed = _claim(feed, refs, claims, customer_pks, job_run_id, counted=waiting), True
                if progress is not None:
                    # What the claim took (fewer: customers held back for a missing internal ID, or taken by a
                    # concurrent run).
                    progress.set_total(restarted + ExportedCustomer.objects.filter(feed_file__in=queue).count())
                if not queue:
                    break
            entry = queue.pop(0)
            rest = _place(entry, feed, refs, transport, progress)
            if rest is not None:
                queue.insert(0, rest)
            entry.refresh_from_db()
            if entry.status == FeedFile.Status.DONE:
                placed.append(entry)
    held_back = _fail_unmapped(feed, claims, trigger, user)
    return ExportResult(placed, {k: v for k, v in claims.unmapped.items() if v}, held_back)


def _fail_unmapped(feed: Feed, claims: _Claims, trigger: str, user: Any) -> int:
    """Put the customers whose subsidiary or lead source maps to no internal ID in error, one group per value."""
    system = feed.external_system
    labels = {"subsidiaries": ("subsidiary", "Subsidiary"), "lead_sources": ("account_source", "Lead source")}
    groups = []
    for kind, values in claims.unmapped.items():
        attr, label = labels[kind]
        for value in sorted(values):
            default = (feed.default_subsidiary if kind == "subsidiaries" else feed.default_account_source).strip()
            shown = f"'{value}'" if value.strip() else f"(none, so the export feed's default '{default or 'none'}')"
            pks = list(
                CustomerSync.objects.filter(
                    external_system=system, enabled=True, external_id="", status__in=EXPORTABLE_STATUSES,
                    **{f"customer__{attr}": value},
                ).values_list("customer_id", flat=True)
            )  # fmt: skip
            message = (
                f"{label} {shown} has no NetSuite internal ID in {system.name}'s reference mappings, and NetSuite's "
                f"import takes the {label.lower()} by internal ID, so the customer was not exported. Add it under "
                f"NetSuite reference mappings ({label}), or change the customer's {label.lower()} (or the export "
                "feed's default)."
            )
            groups.append(FailureGroup(MAPPING_MISSING, message, tuple(pks)))
    return customers_fail(system=system, groups=groups, operation=OPERATION, trigger=trigger, user=user)


def invalid_customers_log(*, feed: Feed, trigger: str, user: Any = None) -> int:
    """Report the waiting customers the connector cannot take yet, once per change of their problems; return how
    many were reported (a customer already reported with the same problems is not reported again)."""
    system = feed.external_system
    waiting = (
        CustomerSync.objects.filter(
            external_system=system,
            enabled=True,
            external_id="",
            status__in=EXPORTABLE_STATUSES,
            is_ready=False,
        )
        .order_by("pk")
        .values_list(
            "customer_id", "customer__customer_id", "customer__party_type", "problems", "problem_code", "status",
            "last_error_code", "last_error_message",
        )
    )  # fmt: skip
    reported = 0
    batch: list[Attempt] = []
    for customer_pk, cid, party, problems, code, status, last_code, last_message in waiting.iterator(chunk_size=2000):
        message = _invalid_message(cid, system, problems)
        code = code or ErrorCode.CONNECTOR_NOT_SELECTED
        if status == CustomerSync.Status.ERROR and (last_code, last_message) == (code, message):
            continue  # reported before with the same problems, and still open: not again every run
        customer = Customer(pk=customer_pk, customer_id=cid, party_type=party)
        # Nothing was sent, so no attempt is logged: the failure (and the sync row's error) says what is missing.
        batch.append(
            customer_attempt(
                customer, system, ok=False, trigger=trigger, operation=OPERATION, code=code, message=message,
                user=user, log=False,
            )
        )  # fmt: skip
        if len(batch) >= 2000:
            reported += len(batch)
            attempts_record(batch)
            batch = []
    attempts_record(batch)
    return reported + len(batch)


def _invalid_message(customer_id: str, system: ExternalSystem, problems: str) -> str:
    # Each problem is a sentence of its own (ending with a period): joined into one sentence, without doubled stops.
    sentences = [p.strip().rstrip(".") for p in problems.splitlines() if p.strip()]
    listed = "; ".join(sentences) or "it has not been checked yet"
    return (
        f"Customer {customer_id} was not exported to {system.name}: {listed}. "
        "Fix this on the customer; the next export sends it."
    )


def export_feed_for(*, external_system: ExternalSystem) -> Feed | None:
    return (
        Feed.objects.select_related("sftp_connection", "external_system")
        .filter(external_system=external_system, kind=Feed.Kind.EXPORT)
        .first()
    )


def file_sync_handler(
    *, customers: list[Customer], external_system: ExternalSystem, trigger: str, user: Any = None
) -> list[SyncResult]:
    """Send the given customers to a file-exchange system now: write them into an export file at once."""
    feed = export_feed_for(external_system=external_system)
    if feed is None or not feed.enabled:
        message = (
            f"{external_system.name} has no enabled customer export feed, so nothing was sent. "
            "Add or enable its EXP_CUSTOMER feed under Feeds."
        )
        return [
            SyncResult(c, ok=False, status="error", message=message, error_code=ErrorCode.NO_FEED) for c in customers
        ]
    results: dict[int, SyncResult] = {}
    to_send: list[int] = []
    ns_type = external_system.identification_type or NETSUITE_CUSTOMER_ID
    for customer in customers:
        sync, _ = CustomerSync.objects.get_or_create(customer=customer, external_system=external_system)
        ident = customer.identifications.filter(type=ns_type).values_list("value", flat=True).first()
        if sync.external_id or ident:
            external_id = sync.external_id or ident or ""
            results[customer.pk] = SyncResult(
                customer,
                ok=True,
                status=CustomerSync.Status.SYNCED,
                message=f"Customer {customer.customer_id} is already in {external_system.name} "
                f"(internal ID {external_id}); it is not exported again, to avoid a duplicate.",
                external_id=external_id,
            )
            continue
        problems = customer_refresh_validation(customer=customer)
        if problems:
            message = _invalid_message(customer.customer_id, external_system, "\n".join(p.message for p in problems))
            results[customer.pk] = SyncResult(
                customer, ok=False, status=CustomerSync.Status.ERROR, message=message, error_code=problems[0].code
            )
            continue
        to_send.append(customer.pk)
    refused = ""
    try:
        entries = customers_export(feed=feed, trigger=trigger, user=user, customer_pks=to_send).files
    except (JobRefused, TransportError) as exc:
        entries, refused = [], str(exc)
    held = {
        pk: (code, message)
        for pk, code, message in CustomerSync.objects.filter(
            external_system=external_system, customer_id__in=to_send, last_error_code=MAPPING_MISSING
        ).values_list("customer_id", "last_error_code", "last_error_message")
    }
    file_of = dict(
        ExportedCustomer.objects.filter(feed_file__in=entries).values_list("customer_id", "feed_file__file_name")
    )
    for customer in customers:
        if customer.pk in results:
            continue
        if customer.pk in file_of:
            results[customer.pk] = SyncResult(
                customer,
                ok=True,
                status=CustomerSync.Status.EXPORTED,
                message=f"Customer {customer.customer_id} was written to {file_of[customer.pk]}; "
                f"it waits for {external_system.name}'s ID.",
            )
        else:
            code, message = held.get(customer.pk) or (
                ErrorCode.NOT_EXPORTED,
                f"Customer {customer.customer_id} was not exported: {refused}"
                if refused
                else f"Customer {customer.customer_id} was not exported: it is being exported by another run, "
                "or its connector is switched off. Try again in a minute.",
            )
            results[customer.pk] = SyncResult(
                customer, ok=False, status=CustomerSync.Status.ERROR, message=message, error_code=code
            )
    attempts = []
    for customer in customers:
        result = results[customer.pk]
        # Exported customers' sync rows were marked with the file, and those already in NetSuite stay synced;
        # failures set theirs to error.
        attempts.append(
            customer_attempt(
                customer, external_system, ok=result.ok, trigger=trigger, operation=OPERATION,
                code=result.error_code, message=result.message, user=user,
                status=None if result.ok else CustomerSync.Status.ERROR,
                file_name=file_of.get(customer.pk, ""),
            )
        )  # fmt: skip
    attempts_record([a if not a.ok else replace(a, sync_status=None) for a in attempts])
    return [results[c.pk] for c in customers]
