"""Batches and asynchronous jobs (Oracle: "Batch Operations", "REST Web Services Request Processing").

A batch of up to 100 records of one type goes as one request with ``Prefer: respond-async`` and
``Content-Type: application/vnd.oracle.resource+json; type=collection``; NetSuite answers 202 with the
``Location`` of an async job. The ``X-NetSuite-Idempotency-Key`` makes a resubmitted batch (after a timeout or a
crash) answer 400 ``IDEMPOTENCY_ERROR`` with the ``Location`` of the job the first submission made, instead of
running it twice: ``submit_batch`` reads both as the same job. The job's tasks (one per record, in the order of
the items) carry each record's result: the record's URL, or NetSuite's error, read as a synchronous write's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .errors import IDEMPOTENCY_ERROR, MALFORMED_RESPONSE, BadResponse, NetSuiteError, error_from_answer
from .http import COLLECTION_TYPE, NetSuiteClient, WriteResult, location_result

BATCH_MAX = 100
REST_PREFIX = "/services/rest"


@dataclass(frozen=True)
class JobRef:
    """An async job NetSuite made for a request."""

    url: str
    # NetSuite's clock when this submission made the job; None when the job was made by an earlier one.
    submitted_at: datetime | None


@dataclass(frozen=True)
class JobStatus:
    completed: bool
    progress: str


def _path(url: str) -> str:
    # Oracle's examples give the Location as a path (/services/rest/async/v1/job/123456) or a full URL.
    return url.split(REST_PREFIX, 1)[1] if REST_PREFIX in url else url


def submit_batch(
    client: NetSuiteClient,
    *,
    record_type: str,
    method: str,
    items: Sequence[dict],
    idempotency_key: str,
    replace: Sequence[str] = (),
) -> JobRef:
    """Send up to 100 records as one asynchronous batch; return its job (the first one, for a key sent before)."""
    if not 0 < len(items) <= BATCH_MAX:
        raise ValueError(f"A NetSuite batch holds 1 to {BATCH_MAX} records.")
    headers = {"Prefer": "respond-async", "X-NetSuite-Idempotency-Key": idempotency_key}
    try:
        answer = client.request(
            method,
            f"/record/v1/{record_type}",
            params={"replace": ",".join(replace)} if replace else None,
            json_body={"items": list(items)},
            headers=headers,
            content_type=COLLECTION_TYPE,
        )
    except NetSuiteError as exc:
        if exc.code == IDEMPOTENCY_ERROR and exc.location:
            return JobRef(url=exc.location, submitted_at=None)
        raise
    location = answer.headers.get("Location", "")
    if answer.status != 202 or "/async/" not in location:
        raise BadResponse(
            MALFORMED_RESPONSE,
            f"NetSuite answered a batch with HTTP {answer.status} and no async job ({location or 'no Location'}).",
            status=answer.status,
        )
    return JobRef(url=location, submitted_at=answer.date)


def job_status(client: NetSuiteClient, job_url: str) -> JobStatus:
    """Read whether an async job has completed."""
    body = client._json(client.request("GET", _path(job_url)), "an async job's status")
    return JobStatus(completed=bool(body.get("completed")), progress=str(body.get("progress") or ""))


def task_ids(client: NetSuiteClient, job_url: str) -> list[str]:
    """Return the IDs of a job's tasks, in order."""
    body = client._json(client.request("GET", _path(job_url) + "/task"), "an async job's task list")
    return [str(item.get("id")) for item in body.get("items", []) if isinstance(item, dict)]


def task_result(client: NetSuiteClient, job_url: str, task_id: str, what: str) -> WriteResult | NetSuiteError:
    """Return a finished write task's outcome: the record written, or NetSuite's error for it."""
    body = client._json(client.request("GET", f"{_path(job_url)}/task/{task_id}/result"), f"the result of {what}")
    if isinstance(body, dict) and body.get("o:errorDetails"):
        status = body.get("status") if isinstance(body.get("status"), int) else 400
        return error_from_answer(status, body)
    links = body.get("links") if isinstance(body, dict) else None
    href = next((link.get("href", "") for link in links or () if link.get("rel") == "self"), "")
    try:
        return location_result(href, what)
    except NetSuiteError as exc:
        return exc
