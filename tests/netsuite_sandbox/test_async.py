"""Asynchronous requests, batches of up to 100 records, and idempotency keys, as Oracle's pages describe them."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from netsuite_sandbox import NetSuiteSandbox

from .conftest import error_code, person

BATCH = {"Prefer": "respond-async", "Content-Type": "application/vnd.oracle.resource+json; type=collection"}


def wait_done(rest, location: str) -> dict:
    path = location.split("/services/rest", 1)[1]
    for _ in range(200):
        job = rest("GET", path).json()
        if job["completed"]:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {location} never completed")


def batch(rest, method: str, items: list[dict], key: str | None = None, query: str = "") -> requests.Response:
    headers = {**BATCH, **({"X-NetSuite-Idempotency-Key": key} if key else {})}
    return rest(method, f"/record/v1/customer{query}", json={"items": items}, headers=headers)


def test_respond_async_answers_202_with_the_job_to_poll(sandbox: NetSuiteSandbox, rest) -> None:
    answer = rest("PUT", "/record/v1/customer/eid:ASYNC1", json=person(), headers={"Prefer": "respond-async"})
    assert answer.status_code == 202
    assert answer.headers["Preference-Applied"] == "respond-async"
    assert answer.headers["Location"].startswith(sandbox.base_url + "/async/v1/job/")
    job = wait_done(rest, answer.headers["Location"])
    assert (job["progress"], job["completed"]) == ("succeeded", True)
    tasks = rest("GET", f"/async/v1/job/{job['id']}/task").json()
    assert [t["id"] for t in tasks["items"]] == ["1"]
    task = rest("GET", f"/async/v1/job/{job['id']}/task/1").json()
    assert task["progress"] == "succeeded"
    result = rest("GET", f"/async/v1/job/{job['id']}/task/1/result").json()
    internal_id = sandbox.customers_by_external_id("ASYNC1")[0]["id"]
    assert result["links"][0]["href"] == f"{sandbox.base_url}/record/v1/customer/{internal_id}"


def test_a_batch_upserts_each_record_in_its_own_task(sandbox: NetSuiteSandbox, rest) -> None:
    items = [person(externalId=f"B{n}", lastName=f"L{n}") for n in range(3)] + [person(externalId="BAD", phone="1")]
    answer = batch(rest, "PUT", items, query="?replace=addressBook")
    assert answer.status_code == 202
    assert sandbox.stats["async_jobs_created"] == 1
    job = wait_done(rest, answer.headers["Location"])
    assert job["progress"] == "failed"  # one task failed
    outcomes = [rest("GET", f"/async/v1/job/{job['id']}/task/{n}").json()["progress"] for n in range(1, 5)]
    assert outcomes == ["succeeded", "succeeded", "succeeded", "failed"]
    failed = rest("GET", f"/async/v1/job/{job['id']}/task/4/result").json()
    assert failed["o:errorDetails"][0]["o:errorCode"] == "USER_ERROR"
    assert sandbox.count_customers() == 3

    # PATCH items name their record by internal ID (which wins) or external ID.
    first = sandbox.customers_by_external_id("B0")[0]["id"]
    patch = batch(rest, "PATCH", [{"id": first, "email": "b0@example.com"}, {"externalId": "B1", "email": "b1@x.io"}])
    wait_done(rest, patch.headers["Location"])
    assert sandbox.customers_by_external_id("B0")[0]["email"] == "b0@example.com"
    assert sandbox.customers_by_external_id("B1")[0]["email"] == "b1@x.io"


def test_a_resubmitted_idempotency_key_returns_the_first_job_and_runs_nothing(sandbox: NetSuiteSandbox, rest) -> None:
    key = str(uuid.uuid4())
    first = batch(rest, "PUT", [person(externalId="K1")], key=key)
    again = batch(rest, "PUT", [person(externalId="K1"), person(externalId="K2")], key=key)
    assert again.status_code == 400
    assert error_code(again) == "IDEMPOTENCY_ERROR"
    assert again.headers["Location"] == first.headers["Location"]
    wait_done(rest, first.headers["Location"])
    assert sandbox.stats["async_jobs_created"] == 1
    assert sandbox.count_customers() == 1


def test_an_answer_lost_after_the_job_was_made_is_found_again_by_its_key(sandbox: NetSuiteSandbox, rest) -> None:
    sandbox.configure(timeout_after_commit=1)
    key = str(uuid.uuid4())
    with pytest.raises(requests.ConnectionError):
        batch(rest, "PUT", [person(externalId="L1")], key=key)
    again = batch(rest, "PUT", [person(externalId="L1")], key=key)
    assert error_code(again) == "IDEMPOTENCY_ERROR"
    wait_done(rest, again.headers["Location"])
    assert sandbox.stats["async_jobs_created"] == 1


@pytest.mark.parametrize(
    ("headers", "items", "code"),
    [
        ({"Content-Type": BATCH["Content-Type"]}, [person(externalId="X")], "INVALID_HEADER"),  # no respond-async
        (BATCH, [person(externalId=f"X{n}") for n in range(101)], "USER_ERROR"),
        (BATCH, [person()], "USER_ERROR"),  # a PUT item without its externalId
        ({**BATCH, "X-NetSuite-Idempotency-Key": "not-a-uuid"}, [person(externalId="X")], "INVALID_HEADER"),
    ],
)
def test_bad_batches_are_refused_whole(sandbox: NetSuiteSandbox, rest, headers, items, code) -> None:
    answer = rest("PUT", "/record/v1/customer", json={"items": items}, headers=headers)
    assert (answer.status_code, error_code(answer)) == (400, code)
    assert sandbox.stats["async_jobs_created"] == 0


def test_jobs_wait_while_held_and_do_not_count_as_requests_in_flight(sandbox: NetSuiteSandbox, rest) -> None:
    sandbox.configure(async_hold=True)
    answer = batch(rest, "PUT", [person(externalId="H1")])
    path = answer.headers["Location"].split("/services/rest", 1)[1]
    time.sleep(0.1)
    assert rest("GET", path).json()["progress"] == "pending"
    assert rest("GET", f"{path}/task/1/result").status_code == 400  # not finished yet
    assert sandbox.stats["in_flight"] == 0
    sandbox.configure(async_hold=False)
    assert wait_done(rest, answer.headers["Location"])["progress"] == "succeeded"


def test_an_unknown_job_is_nonexistent(rest) -> None:
    answer = rest("GET", "/async/v1/job/4242")
    assert (answer.status_code, error_code(answer)) == (404, "NONEXISTENT_ID")
