"""Asynchronous requests and batch operations: jobs, their tasks, idempotency keys, and the processors that run them.

As Oracle documents them (NetSuite help center, "REST Web Services Request Processing", chapter_161251386312;
"Sending an Asynchronous Request", subsect_161278579295; "Polling for the Status of a Completed Asynchronous
Request", subsect_161252896355; "Getting the Result of an Executed Request", subsect_161252889998; "Sending an
Asynchronous Request Using an Idempotency Key", subsect_164494900632; "Batch Operations", article_0127092747):

- A request with `Prefer: respond-async` is queued and answered `202 Accepted` with `Preference-Applied:
  respond-async` and `Location: /services/rest/async/v1/job/{id}`.
- `GET .../async/v1/job/{id}` answers `{links, completed, id, progress, task: {links}}`;
  `GET .../job/{id}/task` lists the task IDs; `GET .../job/{id}/task/{task}` answers `{links (related: the
  result), completed, id, progress, startTime, endTime}`; `GET .../task/{task}/result` answers the result.
- A batch (`Content-Type: application/vnd.oracle.resource+json; type=collection`, body `{"items": [...]}`, at most
  100 records of one type, `Prefer: respond-async` required) is executed asynchronously, one task per record.
  POST creates, PUT upserts (each item names its `externalId`), PATCH updates (each item names its `id` or
  `externalId`; the internal ID wins when both are given).
- `X-NetSuite-Idempotency-Key`: a second request with a key already used is answered `400` ("Conflict",
  `IDEMPOTENCY_ERROR`) with the `Location` of the job the first request made, and runs nothing.
- Asynchronous jobs run in the account's REST async processors, not in the concurrency limit: only the
  requests that submit and poll them count as requests in flight.

Assumed where the pages say nothing:
- Tasks of a batch are numbered 1..n in the order of the items; the task list is one page of every task
  (`{links, count, hasMore, items: [{links, id}], offset, totalResults}`).
- A task's result answers 200 with JSON: a succeeded write gives `{"links": [{"rel": "self", "href": <the
  record's URL>}]}` (the Location a synchronous write answers); a failed one gives the error document the
  synchronous request would have answered (`type`, `title`, `status`, `o:errorDetails`). A result asked for before
  its task has finished is refused with 400 `INVALID_OPERATION`... as is an unknown job or task with 404
  `NONEXISTENT_ID`.
- A job's progress is `pending`, then `processing`, then `succeeded` when every task did, else `failed`;
  a task's is `pending`, `processing`, `succeeded` or `failed`. An idempotency key is a UUID (RFC 4122); keys are
  kept as long as the sandbox runs.
- `processors` jobs run at once (REST async processors: one, plus one per SuiteCloud Plus licence); the tasks
  of a job run one after the other in its processor, each taking `record_ms` besides its own write.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import NetSuiteError

MAX_BATCH = 100
# What a task does: returns the location of the record written (or the result document of a read).
Work = Callable[[], dict]


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


@dataclass
class Task:
    id: int
    work: Work = field(repr=False)
    progress: str = "pending"
    started: datetime | None = None
    ended: datetime | None = None
    result: dict = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.progress in ("succeeded", "failed")


@dataclass
class Job:
    id: int
    tasks: list[Task]
    idempotency_key: str | None
    progress: str = "pending"
    started: datetime | None = None
    ended: datetime | None = None

    @property
    def completed(self) -> bool:
        return self.progress in ("succeeded", "failed")


class AsyncJobs:
    """The account's queue of asynchronous jobs and the processors that run them."""

    def __init__(self, *, processors: Callable[[], int], record_ms: Callable[[], int], held: Callable[[], bool]):
        self._processors = processors
        self._record_ms = record_ms
        self._held = held
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._keys: dict[str, int] = {}
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._next = 1
        self.created = 0
        self.tasks_created = 0
        self.generation = 0

    # -- submitting ------------------------------------------------------------------------------

    def submit(self, works: list[Work], *, idempotency_key: str | None) -> tuple[Job, bool]:
        """Queue a job of one task per work; return it and whether it was made now (False: the key's first job)."""
        if idempotency_key is not None:
            try:
                uuid.UUID(idempotency_key)
            except ValueError:
                raise NetSuiteError(
                    400,
                    "INVALID_HEADER",
                    f"Invalid 'X-NetSuite-Idempotency-Key' header value {idempotency_key!r}: use a UUID.",
                ) from None
        with self._lock:
            if idempotency_key is not None and idempotency_key in self._keys:
                return self._jobs[self._keys[idempotency_key]], False
            job = Job(self._next, [Task(n, work) for n, work in enumerate(works, start=1)], idempotency_key)
            self._next += 1
            self._jobs[job.id] = job
            if idempotency_key is not None:
                self._keys[idempotency_key] = job.id
            self.created += 1
            self.tasks_created += len(job.tasks)
            self._grow()
        self._queue.put(job)
        return job, True

    def _grow(self) -> None:
        while len(self._threads) < max(1, self._processors()):
            thread = threading.Thread(target=self._process, name="netsuite-sandbox-async", daemon=True)
            self._threads.append(thread)
            thread.start()

    # -- reading ---------------------------------------------------------------------------------

    def job(self, job_id: int) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NetSuiteError(404, "NONEXISTENT_ID", f"The async job {job_id} does not exist.")
        return job

    def task(self, job_id: int, task_id: int) -> Task:
        job = self.job(job_id)
        if not 1 <= task_id <= len(job.tasks):
            raise NetSuiteError(404, "NONEXISTENT_ID", f"The async job {job_id} has no task {task_id}.")
        return job.tasks[task_id - 1]

    def reset(self) -> None:
        """Forget every job and key (jobs still running finish unseen)."""
        with self._lock:
            self._jobs.clear()
            self._keys.clear()
            self.created = self.tasks_created = 0
            self.generation += 1

    # -- running ---------------------------------------------------------------------------------

    def _process(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            while self._held():
                time.sleep(0.02)
            job.started = datetime.now(UTC).replace(microsecond=0)
            job.progress = "processing"
            for task in job.tasks:
                task.started = datetime.now(UTC).replace(microsecond=0)
                task.progress = "processing"
                if self._record_ms() > 0:
                    time.sleep(self._record_ms() / 1000)
                try:
                    task.result = task.work()
                    task.progress = "succeeded"
                except NetSuiteError as err:
                    task.result = err.body()
                    task.progress = "failed"
                except Exception as exc:
                    task.result = NetSuiteError(500, "UNEXPECTED_ERROR", f"An unexpected error occurred: {exc}").body()
                    task.progress = "failed"
                task.ended = datetime.now(UTC).replace(microsecond=0)
            job.ended = datetime.now(UTC).replace(microsecond=0)
            job.progress = "failed" if any(t.progress == "failed" for t in job.tasks) else "succeeded"


def job_json(job: Job, base: str) -> dict[str, Any]:
    """Render a job as `GET .../async/v1/job/{id}` answers it."""
    href = f"{base}/async/v1/job/{job.id}"
    out: dict[str, Any] = {
        "links": [{"rel": "self", "href": href}],
        "completed": job.completed,
        "id": str(job.id),
        "progress": job.progress,
        "task": {"links": [{"rel": "self", "href": f"{href}/task"}]},
    }
    if job.started:
        out["startTime"] = _iso(job.started)
    if job.ended:
        out["endTime"] = _iso(job.ended)
    return out


def tasks_json(job: Job, base: str) -> dict[str, Any]:
    """Render a job's task list."""
    href = f"{base}/async/v1/job/{job.id}/task"
    items = [{"links": [{"rel": "self", "href": f"{href}/{t.id}"}], "id": str(t.id)} for t in job.tasks]
    return {
        "links": [{"rel": "self", "href": href}],
        "count": len(items),
        "hasMore": False,
        "items": items,
        "offset": 0,
        "totalResults": len(items),
    }


def task_json(job: Job, task: Task, base: str) -> dict[str, Any]:
    """Render one task's status."""
    href = f"{base}/async/v1/job/{job.id}/task/{task.id}"
    out: dict[str, Any] = {
        "links": [{"rel": "related", "href": f"{href}/result"}, {"rel": "self", "href": href}],
        "completed": task.completed,
        "id": str(task.id),
        "progress": task.progress,
    }
    if task.started:
        out["startTime"] = _iso(task.started)
    if task.ended:
        out["endTime"] = _iso(task.ended)
    return out


def task_result(task: Task) -> dict[str, Any]:
    """Return a finished task's result, or refuse while it runs."""
    if not task.completed:
        raise NetSuiteError(400, "INVALID_OPERATION", f"Task {task.id} has not finished yet; poll it first.")
    return task.result
