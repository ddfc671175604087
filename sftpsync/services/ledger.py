"""The file ledger and the one way every inbound file is taken in: spool, hash, dedupe, batches, move.

A file's life: it is copied to a local spool while its SHA-256 is computed; the ledger is asked whether
that content was seen before; its rows go in batch by batch, each batch in one transaction together with
its row errors and the ledger's checkpoint; the file's outcome is committed; only then is the file moved
to archive/ or failed/ on the server. A run killed anywhere resumes from the last committed batch, and a
file whose outcome is committed but whose move did not happen is moved on the next run without being
read again.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import logging
import os
import posixpath
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from customers.errors import ErrorCode
from customers.models import SyncLog
from customers.services import Attempt, attempt_record, attempts_record
from jobs.locks import job_lock_or_refuse
from jobs.services import JobProgress

from ..formats import FileFormatError, Row, RowFailure
from ..models import Feed, FeedFile
from ..transport import RemoteFile, Transport, TransportError, transport_for
from .folders import folders_ensure

logger = logging.getLogger(__name__)

SPOOL_CHUNK = 1 << 20


@dataclass
class RowProblem:
    """A row that was read but could not be applied (a conflict, an unknown customer)."""

    line: int
    reason: str
    code: str = ErrorCode.ROW_INVALID
    customer_pk: int | None = None


class FileLayout(Protocol):
    """How a feed's file is read: ``open`` a binary stream, iterate Row and RowFailure items."""

    name: str

    def open(self, stream: IO[bytes], mapping: Any = None) -> Any:
        """Start reading (FileFormatError when the file cannot be read at all)."""


class BatchProcessor(Protocol):
    """What a feed does with its rows; the ledger does the rest."""

    layout: FileLayout
    operation: str

    def write_batch(self, rows: list[Row]) -> list[RowProblem]:
        """Apply a batch inside the caller's transaction; return the rows that could not be applied."""

    def file_done(self, entry: FeedFile) -> None:
        """Record what a completed file means, inside the transaction that completes it."""


@dataclass
class RunContext:
    """Who runs the job and where progress goes."""

    feed: Feed
    trigger: str
    user: Any = None
    progress: JobProgress | None = None
    job_run_id: int | None = None
    # A folder of the feed other than its own (export/error/), with its own pattern; archive/ and failed/ go
    # under it.
    folder: str = ""
    file_pattern: str = ""

    @property
    def remote_folder(self) -> str:
        return self.folder or self.feed.folder


@dataclass
class ImportSummary:
    """What one run of an inbound feed came to."""

    files: list[FeedFile] = field(default_factory=list)
    rows_ok: int = 0
    rows_failed: int = 0
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if not self.files:
            return " ".join(self.notes) or "No new file."
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.get_status_display().lower()] = counts.get(f.get_status_display().lower(), 0) + 1
        kinds = ", ".join(f"{n} {k}" for k, n in counts.items())
        text = f"{len(self.files)} file(s) ({kinds}); {self.rows_ok} rows imported, {self.rows_failed} rows failed."
        return " ".join([text, *self.notes])


# --- locks -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def feed_lock(feed: Feed) -> Iterator[None]:
    """Hold the feed for this run, so two runs never read the same file; a dead run's lock goes with it."""
    with job_lock_or_refuse("feed", feed.pk, busy_message=_busy_message(feed)):
        yield


def _busy_message(feed: Feed) -> str:
    return (
        f"Another run of the {feed.get_kind_display()} feed for {feed.external_system.name} is still going; "
        "this run did nothing. Wait for it to finish (see Job runs)."
    )


# --- spooling and hashing --------------------------------------------------------------------------


@dataclass
class Spool:
    """A local copy of a file, with what was learnt while copying it."""

    path: str
    size: int
    sha256: str
    lines: int


def _copy_hashing(src: IO[bytes], dst: IO[bytes] | None) -> tuple[int, str, int]:
    sha = hashlib.sha256()
    size = lf = cr = 0
    while chunk := src.read(SPOOL_CHUNK):
        sha.update(chunk)
        size += len(chunk)
        lf += chunk.count(b"\n")
        cr += chunk.count(b"\r")
        if dst is not None:
            dst.write(chunk)
    # Old Mac and Excel files end lines with a bare CR; CRLF counts the same either way.
    return size, sha.hexdigest(), max(lf, cr)


@contextlib.contextmanager
def spool_remote(transport: Transport, path: str) -> Iterator[Spool]:
    """Copy a remote file to a local temporary file, hashing it on the way; remove the copy afterwards."""
    fd, local = tempfile.mkstemp(prefix="feed-", suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as dst, transport.open_read(path) as src:
            size, sha, lines = _copy_hashing(src, dst)
        yield Spool(local, size, sha, lines)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(local)


def spool_local(path: str) -> Spool:
    """Hash a local file in place."""
    with open(path, "rb") as src:
        size, sha, lines = _copy_hashing(src, None)
    return Spool(path, size, sha, lines)


# --- the ledger ------------------------------------------------------------------------------------


def feedfile_move(*, entry: FeedFile, transport: Transport, base: str = "") -> FeedFile:
    """Move a finished file to archive/ (or failed/ when it failed) under base (the feed's folder); record it."""
    feed = entry.feed
    failed = entry.status == FeedFile.Status.FAILED
    if base:
        # A folder beside the feed's own (export/error/) keeps its files under itself, whatever the feed's setting.
        target = posixpath.join(base, "failed" if failed else "archive")
    else:
        sub = feed.failed_folder if failed else feed.archive_folder
        target = sub if sub.startswith("/") else posixpath.join(feed.folder, sub)
    new_path = transport.move(entry.remote_path, target)
    entry.remote_path, entry.moved_at = new_path, timezone.now()
    FeedFile.objects.filter(pk=entry.pk).update(remote_path=new_path, moved_at=entry.moved_at)
    return entry


def feed_import(
    *,
    ctx: RunContext,
    processor_factory: Callable[[FeedFile], BatchProcessor],
    local_file: str | None = None,
) -> ImportSummary:
    """Take in every new file of an inbound feed (or one local file) through the ledger."""
    summary = ImportSummary()
    feed = ctx.feed
    with feed_lock(feed):
        if local_file:
            spool = spool_local(local_file)
            remote = RemoteFile(os.path.basename(local_file), os.path.abspath(local_file), spool.size, 0.0)
            _take_in(ctx, remote, spool, processor_factory, None, summary)
            return summary
        with transport_for(feed.sftp_connection) as transport:
            # The other side makes no folder: the feed's own, archive/ and failed/ are made here when missing.
            for folder, reason in folders_ensure(transport, [feed]).failed:
                summary.notes.append(f"The folder {folder} could not be created: {reason}")
            folder, pattern = ctx.remote_folder, ctx.file_pattern or feed.file_pattern
            files = transport.list_files(folder, pattern)
            if not files:
                summary.notes.append(f"No file matching {pattern} in {folder}.")
            for remote in files:
                try:
                    with spool_remote(transport, remote.path) as spool:
                        now = transport.stat(remote.path)
                        if (now.size, now.mtime) != (spool.size, remote.mtime):
                            # N/sftp uploads in place: a file that changed while it was read is still being written.
                            summary.notes.append(f"{remote.name} is still being written; the next run reads it.")
                            continue
                        _take_in(ctx, remote, spool, processor_factory, transport, summary)
                except TransportError as exc:
                    # One unreachable file must not stop the others; the next run tries it again.
                    logger.warning("Feed %s: %s", feed.pk, exc)
                    summary.notes.append(str(exc))
    return summary


def _take_in(
    ctx: RunContext,
    remote: RemoteFile,
    spool: Spool,
    processor_factory: Callable[[FeedFile], BatchProcessor],
    transport: Transport | None,
    summary: ImportSummary,
) -> None:
    feed = ctx.feed
    seen = (
        FeedFile.objects.filter(feed=feed, sha256=spool.sha256, direction=FeedFile.Direction.INBOUND)
        .exclude(status=FeedFile.Status.DUPLICATE)
        .first()
    )
    if seen is not None and seen.status != FeedFile.Status.PROCESSING:
        if seen.moved_at is None and seen.remote_path == remote.path:
            # Committed by an earlier run that stopped before the move: move it, do not read it again.
            if transport is not None:
                feedfile_move(entry=seen, transport=transport, base=ctx.folder)
            summary.notes.append(f"{remote.name} was already imported; moved it now.")
            return
        duplicate = _inbound_entry(
            ctx,
            remote,
            spool,
            status=FeedFile.Status.DUPLICATE,
            reason=(
                f"Same content as {seen.file_name} (ledger #{seen.pk}, {seen.get_status_display().lower()}); "
                "not imported again."
            ),
            finished_at=timezone.now(),
        )
        if transport is not None:
            feedfile_move(entry=duplicate, transport=transport, base=ctx.folder)
        summary.files.append(duplicate)
        return
    if seen is None:
        try:
            with transaction.atomic():
                entry = _inbound_entry(ctx, remote, spool)
        except IntegrityError:
            summary.notes.append(f"{remote.name} is being imported by another run; skipped.")
            return
    else:
        # A run stopped halfway through this file: carry on after its last committed batch.
        entry = seen
        entry.file_name, entry.remote_path, entry.job_run_id = remote.name, remote.path, ctx.job_run_id
        entry.save(update_fields=["file_name", "remote_path", "job_run"])
    if ctx.progress is not None:
        ctx.progress.add_total(max(spool.lines - 1, 0))
        if entry.checkpoint_line:
            ctx.progress.advance(entry.rows_ok + entry.rows_failed, failed=entry.rows_failed)
    _read_rows(ctx, entry, spool, processor_factory(entry))
    entry.refresh_from_db()
    summary.files.append(entry)
    summary.rows_ok += entry.rows_ok
    summary.rows_failed += entry.rows_failed
    if transport is not None:
        try:
            feedfile_move(entry=entry, transport=transport, base=ctx.folder)
        except TransportError as exc:
            summary.notes.append(f"{entry.file_name} was imported but could not be moved ({exc}); the next run will.")


def _inbound_entry(ctx: RunContext, remote: RemoteFile, spool: Spool, **fields: Any) -> FeedFile:
    """Record a file taken in from the server in the ledger."""
    return FeedFile.objects.create(
        feed=ctx.feed,
        direction=FeedFile.Direction.INBOUND,
        file_name=remote.name,
        remote_path=remote.path,
        size=spool.size,
        sha256=spool.sha256,
        job_run_id=ctx.job_run_id,
        **fields,
    )


def _read_rows(ctx: RunContext, entry: FeedFile, spool: Spool, processor: BatchProcessor) -> None:
    batch_size = max(ctx.feed.batch_size, 1)
    reader = None
    with open(spool.path, "rb") as stream:
        try:
            reader = processor.layout.open(stream, ctx.feed.column_mapping or {})
            batch: list[Row | RowFailure] = []
            checkpoint = entry.checkpoint_line
            for item in reader:
                if item.line <= checkpoint:
                    continue
                batch.append(item)
                if len(batch) >= batch_size:
                    _commit_batch(ctx, entry, processor, batch)
                    batch = []
            if batch:
                _commit_batch(ctx, entry, processor, batch)
        except FileFormatError as exc:
            _finish(ctx, entry, processor, failed_reason=f"{exc} {_imported_so_far(entry)}")
            return
        except (csv.Error, UnicodeError, ValueError) as exc:
            line = reader.line if reader is not None else 0
            reason = (
                f"The file could not be read past line {line}: {exc}. {_imported_so_far(entry)} Fix the file and "
                "send it again."
            )
            _finish(ctx, entry, processor, failed_reason=reason)
            return
    _finish(ctx, entry, processor, header_only=reader.rows_read == 0 and entry.rows_total == 0)


def _imported_so_far(entry: FeedFile) -> str:
    """Say how much of a file that failed halfway is in the database: exactly, from the ledger's counts."""
    entry.refresh_from_db(fields=["rows_total", "rows_ok", "rows_failed"])
    if not entry.rows_total:
        return "No row of it was imported."
    return (
        f"The {entry.rows_total} rows before it were taken in ({entry.rows_ok} imported, {entry.rows_failed} "
        "reported in the failed record queue)."
    )


def _commit_batch(ctx: RunContext, entry: FeedFile, processor: BatchProcessor, batch: list[Row | RowFailure]) -> None:
    rows = [r for r in batch if isinstance(r, Row)]
    problems = [RowProblem(r.line, r.reason) for r in batch if isinstance(r, RowFailure)]
    with transaction.atomic():
        problems += processor.write_batch(rows)
        _log_row_problems(ctx, entry, processor, problems)
        failed = len(problems)
        FeedFile.objects.filter(pk=entry.pk).update(
            checkpoint_line=batch[-1].line,
            rows_total=F("rows_total") + len(batch),
            rows_ok=F("rows_ok") + len(batch) - failed,
            rows_failed=F("rows_failed") + failed,
        )
    if ctx.progress is not None:
        ctx.progress.advance(len(batch), failed=failed)


def _log_row_problems(ctx: RunContext, entry: FeedFile, processor: BatchProcessor, problems: list[RowProblem]) -> None:
    attempts_record(
        [
            Attempt(
                external_system=ctx.feed.external_system_id,
                record_type=SyncLog.RecordType.FILE_ROW,
                record_id=f"{entry.file_name}:{p.line}",
                ok=False,
                customer=p.customer_pk,
                code=p.code,
                message=f"{entry.file_name}, line {p.line}: {p.reason}",
                operation=processor.operation,
                trigger=ctx.trigger,
                file_name=entry.file_name,
                line_number=p.line,
                user=ctx.user,
            )
            for p in sorted(problems, key=lambda p: p.line)
        ]
    )


def _finish(
    ctx: RunContext,
    entry: FeedFile,
    processor: BatchProcessor,
    *,
    failed_reason: str = "",
    header_only: bool = False,
) -> None:
    entry.refresh_from_db()
    now = timezone.now()
    if failed_reason:
        status, reason = FeedFile.Status.FAILED, failed_reason
    elif entry.rows_total and not entry.rows_ok:
        status = FeedFile.Status.FAILED
        reason = f"None of the {entry.rows_failed} rows could be imported; see the failed record queue for each line."
    elif entry.rows_failed:
        status = FeedFile.Status.PARTLY_FAILED
        reason = f"{entry.rows_failed} of {entry.rows_total} rows failed; see the failed record queue for each line."
    else:
        status = FeedFile.Status.DONE
        reason = "The file has a header line but no rows; nothing to import." if header_only else ""
    with transaction.atomic():
        FeedFile.objects.filter(pk=entry.pk).update(status=status, reason=reason, finished_at=now)
        entry.status, entry.reason, entry.finished_at = status, reason, now
        failed = status == FeedFile.Status.FAILED
        attempt_record(
            Attempt(
                external_system=ctx.feed.external_system_id,
                record_type=SyncLog.RecordType.FILE,
                record_id=entry.file_name,
                ok=not failed,
                code=ErrorCode.FILE_REJECTED if failed else "",
                message=f"{entry.file_name} was not imported: {reason}"
                if failed
                else f"{entry.file_name}: {entry.rows_ok} rows imported, {entry.rows_failed} failed.",
                operation=processor.operation,
                trigger=ctx.trigger,
                file_name=entry.file_name,
                user=ctx.user,
            )
        )
        if not failed:
            processor.file_done(entry)
