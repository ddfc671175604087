"""Bulk loads: new customers sent in asynchronous batches of up to 100, each job's results read back per customer.

A batch's life: its idempotency key, customers and items are stored (``BatchJob``) and its customers' claims are
handed to it, and that is committed, before it is first sent; it is sent (``PUT /record/v1/customer`` as a
collection, upserting by external ID, with ``?replace=addressBook``); NetSuite's job is recorded; its results are
read; they are recorded as single writes' results are (``_Push._finish_batch``), and the batch is forgotten in the
same transaction. A run that crashes or times out anywhere leaves the batch to the next run, which sends it again
with the same key: NetSuite answers with the job the first sending made (IDEMPOTENCY_ERROR + Location), never a
second job, and the results are read from it.

Reading results costs few requests: the customers a batch created are found by one SuiteQL query per ten batches
(``externalid IN (...)``, created at or after NetSuite's time of the submission, from the ``Date`` of its 202
answer), which is proof that the batch's job wrote them. Only a batch with customers not found that way (a record
that existed already, a record NetSuite refused, a batch recovered after a crash, whose submission time is unknown)
has its job polled and its tasks' results read one by one. So a bulk load of new customers costs about one
request per batch, plus one per ten batches.

Only new customers go in batches. A linked customer's update is a PATCH per customer: its outcome can only be read
from its task (one more request per customer), so a batch would cost more requests than it saves.

The contacts of the companies a bulk load binds go in batches too (``send_contacts``: ``PUT /record/v1/contact`` as a
collection, confirmed by SuiteQL on the contact table). Those batches are not stored: a contact is upserted by its
external ID, so sending it again as a new job duplicates nothing, and its company stays due
(``CustomerSync.contacts_due``) until each of its contacts has been answered, so a crash only means the next run
sends them again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Union
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..client import AuthError, NetSuiteError, WriteResult
from ..client.jobs import BATCH_MAX, JobRef, job_status, submit_batch, task_ids, task_result
from ..mapping import parse_netsuite_datetime
from ..models import BatchJob, NetSuiteConnection
from .claims import claim_seconds, release_batch_claims
from .threads import run_in_threads

if TYPE_CHECKING:
    from .push import _ContactItem, _Prepared, _Push

REPLACED_SUBLISTS = ("addressBook",)
# At most this many external IDs in one SuiteQL IN list (Oracle's limit on an IN list is 1,000).
CONFIRM_IDS = 1000
# A batch with customers not found by SuiteQL has its job polled once it is this old, or once a later batch is done.
POLL_AFTER = timedelta(seconds=3)
# A job not completed after this long is left to the next run (its batch stays, its customers wait).
SETTLE_MAX_SECONDS = 900.0

Item = Union["_Prepared", "_ContactItem"]
Outcome = tuple[Item, WriteResult | None, BaseException | None]


def _chunks(items: list) -> Iterator[list]:
    return (items[start : start + BATCH_MAX] for start in range(0, len(items), BATCH_MAX))


@dataclass
class _Batch:
    job: BatchJob
    items: list[Item]
    # "customer" (stored as a BatchJob before it is sent) or "contact" (not stored: see the module's docstring).
    record_type: str = "customer"
    found: dict[int, WriteResult] = field(default_factory=dict)
    errors: dict[int, NetSuiteError] = field(default_factory=dict)
    polled_at: datetime | None = None
    # SuiteQL rounds in a row that found none of its missing customers (a job done with failures stays so).
    still: int = 0

    @property
    def key(self) -> str:
        return str(self.job.idempotency_key)

    @property
    def stored(self) -> bool:
        return self.job.pk is not None

    def unconfirmed(self) -> list[int]:
        return [n for n in range(len(self.items)) if n not in self.found and n not in self.errors]


class BatchSender:
    """Send one push's new customers in batches and hand their results back to it."""

    def __init__(self, push: _Push) -> None:
        self.push = push
        self.connection: NetSuiteConnection = push.connection
        self.tz = ZoneInfo(self.connection.time_zone or "UTC")
        self.owner = push.claims.token if push.claims is not None else uuid.uuid4().hex
        self.left_for_later = 0
        self._owned_at = time.monotonic()

    # -- the run's own batches --

    def send(self, items: list[_Prepared]) -> Iterator[tuple[list[Outcome], Callable[[], None]]]:
        """Send the items in batches; yield each batch's outcomes with what forgets the batch once they are kept."""
        yield from self._send_batches([self._store(chunk) for chunk in _chunks(items)])

    def send_contacts(self, items: list[_ContactItem]) -> Iterator[tuple[list[Outcome], Callable[[], None]]]:
        """Upsert contacts of companies bound by this run in batches; yield each batch's outcomes."""
        yield from self._send_batches([self._contact_batch(chunk) for chunk in _chunks(items)])

    def _send_batches(self, batches: list[_Batch]) -> Iterator[tuple[list[Outcome], Callable[[], None]]]:
        share = self.connection.concurrency_share
        pending: list[_Batch] = []
        sent = run_in_threads(iter(batches), self._submit, workers=min(share, len(batches)), backlog=share * 2)
        for done in sent:
            for batch, ref, error in done:
                if error is None:
                    self._submitted(batch, ref)
                    pending.append(batch)
                else:
                    yield from self._not_submitted(batch, error)
        yield from self.settle(pending)

    def _contact_batch(self, items: list[_ContactItem]) -> _Batch:
        job = BatchJob(
            connection=self.connection, idempotency_key=uuid.uuid4(), method="PUT", created_at=timezone.now(),
            customers=[item.company.pk for item in items], items=[item.body for item in items],
        )  # fmt: skip
        return _Batch(job, items, record_type="contact")

    def _store(self, items: list[_Prepared]) -> _Batch:
        key = uuid.uuid4()
        with transaction.atomic():
            job = BatchJob.objects.create(
                connection=self.connection,
                idempotency_key=key,
                customers=[item.customer.pk for item in items],
                items=[item.body for item in items],
                owner=self.owner,
                owner_until=timezone.now() + timedelta(seconds=claim_seconds()),
            )
            if self.push.claims is not None:
                self.push.claims.hand_to_batch([item.customer.pk for item in items], str(key))
        return _Batch(job, items)

    def _submit(self, batch: _Batch) -> JobRef:
        return submit_batch(
            self.push.client,
            record_type=batch.record_type,
            method=batch.job.method,
            items=batch.job.items,
            idempotency_key=batch.key,
            replace=REPLACED_SUBLISTS if batch.record_type == "customer" else (),
        )

    def _submitted(self, batch: _Batch, ref: JobRef) -> None:
        batch.job.job_url, batch.job.submitted_at = ref.url, ref.submitted_at
        if batch.stored:
            BatchJob.objects.filter(pk=batch.job.pk).update(job_url=ref.url, submitted_at=ref.submitted_at)

    def _not_submitted(self, batch: _Batch, error: BaseException) -> Iterator[tuple[list[Outcome], Callable]]:
        if isinstance(error, NetSuiteError) and (error.retryable or isinstance(error, AuthError)):
            # NetSuite may have the job: the batch stays, and the next run sends it again with the same key.
            self._leave(batch)
            if isinstance(error, NetSuiteError) and not isinstance(error, AuthError):
                error.message += (
                    " The batch is sent again, with the same idempotency key, by the next run."
                    if batch.stored
                    else " Its contacts are sent again by the next run."
                )
            yield [(item, None, error) for item in batch.items], lambda: None
            return
        # Refused outright (or the portal failed before sending): no job exists; the customers are free again.
        yield [(item, None, error) for item in batch.items], lambda: self._forget(batch)

    def _leave(self, batch: _Batch) -> None:
        if not batch.stored:
            return  # contacts: their companies stay due, and the next run sends them again
        self.left_for_later += 1
        BatchJob.objects.filter(pk=batch.job.pk).update(owner="", owner_until=timezone.now())

    def _forget(self, batch: _Batch) -> None:
        if not batch.stored:
            return
        BatchJob.objects.filter(pk=batch.job.pk).delete()
        release_batch_claims(connection=self.connection, key=batch.key)

    # -- batches left by an earlier run --

    def resume(self) -> Iterator[tuple[list[Outcome], Callable[[], None]]]:
        """Take over the batches no live run owns (their run crashed, or left them) and read their results."""
        now = timezone.now()
        stale = Q(owner="") | Q(owner_until__lt=now) | Q(owner_until__isnull=True)
        taken = []
        for job in BatchJob.objects.filter(connection=self.connection).filter(stale).order_by("created_at", "pk"):
            claimed = (
                BatchJob.objects.filter(pk=job.pk)
                .filter(stale)
                .update(owner=self.owner, owner_until=now + timedelta(seconds=claim_seconds()))
            )
            if claimed:
                taken.append(job)
        if not taken:
            return
        batches = [_Batch(job, self._recovered(job)) for job in taken]
        pending = []
        for batch in batches:
            try:
                # Sent again with its key: NetSuite answers with the job the first sending made, if there was one.
                ref = self._submit(batch)
            except NetSuiteError as exc:
                yield from self._not_submitted(batch, exc)
                if isinstance(exc, AuthError):
                    return
                continue
            self._submitted(batch, ref)
            pending.append(batch)
        yield from self.settle(pending)

    def _recovered(self, job: BatchJob) -> list[_Prepared]:
        items = self.push.recovered_items(job.customers, job.items)
        for item in items:
            item.read_at = job.created_at  # its body was read then
        return items

    # -- reading results --

    def settle(self, pending: list[_Batch]) -> Iterator[tuple[list[Outcome], Callable[[], None]]]:
        """Read the batches' results as their jobs finish; yield each batch's outcomes."""
        deadline = time.monotonic() + SETTLE_MAX_SECONDS
        wait = 0.05
        try:
            while pending and not self.push.stopped:
                if time.monotonic() > deadline:
                    break
                self._keep_ownership(pending)
                finished = list(self._confirm(pending))
                finished += [b for b in pending if b not in finished and self._poll(b, pending)]
                for batch in finished:
                    pending.remove(batch)
                    outcomes = [(item, batch.found.get(n), batch.errors.get(n)) for n, item in enumerate(batch.items)]
                    yield outcomes, (lambda batch=batch: self._forget(batch))
                if finished:
                    wait = 0.05
                else:
                    time.sleep(wait)
                    wait = min(wait * 1.5, 1.0)
        except AuthError as exc:
            self.push.stopped = exc
        except NetSuiteError as exc:
            self.push.note_problem(f"Reading batch results failed ({exc.code}): {exc.message}")
        for batch in pending:
            self._leave(batch)

    def _confirm(self, pending: list[_Batch]) -> Iterator[_Batch]:
        """Find, by SuiteQL, the customers the oldest batches created; yield the batches found whole."""
        group: list[_Batch] = []
        wanted: dict[str, tuple[_Batch, int]] = {}
        for batch in pending:
            if batch.job.submitted_at is None:
                continue
            missing = batch.unconfirmed()
            if len(wanted) + len(missing) > CONFIRM_IDS:
                break
            group.append(batch)
            for n in missing:
                wanted[batch.items[n].external_id] = (batch, n)
        if not wanted:
            return
        before = {batch.key: len(batch.unconfirmed()) for batch in group}
        record_type = group[0].record_type  # one push settles customers' and contacts' batches apart
        # External IDs hold [A-Za-z0-9_-] only (the client refuses others before sending): safe in a literal.
        listed = ", ".join(f"'{external_id}'" for external_id in wanted)
        query = f"SELECT id, externalid, datecreated FROM {record_type} WHERE externalid IN ({listed})"  # noqa: S608
        page = self.push.client.suiteql_page(query, limit=CONFIRM_IDS)
        for row in page.items:
            found = wanted.get(str(row.get("externalid") or ""))
            created = parse_netsuite_datetime(row.get("datecreated"), self.tz)
            if found is None or created is None:
                continue
            batch, n = found
            if created >= batch.job.submitted_at:
                location = f"{self.push.client.config.rest_url}/record/v1/{record_type}/{row['id']}"
                batch.found[n] = WriteResult(internal_id=str(row["id"]), location=location)
        for batch in group:
            missing = batch.unconfirmed()
            batch.still = batch.still + 1 if len(missing) == before[batch.key] else 0
            if not missing:
                yield batch

    def _poll(self, batch: _Batch, pending: list[_Batch]) -> bool:
        """Read the job of a batch SuiteQL could not settle whole, once it is likely done; return whether it was.

        Likely done: SuiteQL found some of its customers but none more in the last rounds (the rest failed), or a
        batch sent after it is done, or it is older than POLL_AFTER; a batch recovered from a crash at once.
        """
        now = timezone.now()
        if batch.polled_at is not None and now - batch.polled_at < POLL_AFTER / 3:
            return False
        if batch.job.submitted_at is not None:
            later_done = any(b.job.created_at > batch.job.created_at and not b.unconfirmed() for b in pending)
            stalled = batch.still >= 2 and bool(batch.found)
            old = now - batch.job.submitted_at >= POLL_AFTER
            if not (old or stalled or (later_done and batch.still >= 1)):
                return False
        batch.polled_at = now
        client = self.push.client
        if not job_status(client, batch.job.job_url).completed:
            return False
        tasks = task_ids(client, batch.job.job_url)
        for n in batch.unconfirmed():
            what = f"{batch.record_type} {batch.items[n].external_id}"
            if n >= len(tasks):
                batch.errors[n] = NetSuiteError("MALFORMED_RESPONSE", f"NetSuite's batch job has no task for {what}.")
                continue
            result = task_result(client, batch.job.job_url, tasks[n], what)
            if isinstance(result, WriteResult):
                batch.found[n] = result
            else:
                batch.errors[n] = result
        return True

    def _keep_ownership(self, pending: list[_Batch]) -> None:
        if time.monotonic() - self._owned_at < 30:
            return
        self._owned_at = time.monotonic()
        BatchJob.objects.filter(pk__in=[b.job.pk for b in pending if b.stored]).update(
            owner_until=timezone.now() + timedelta(seconds=claim_seconds())
        )
        if self.push.claims is not None:
            self.push.claims.renew()
