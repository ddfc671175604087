"""Governance and faults: the concurrency limit, 5xx share, lost answers after commit, malformed answers, stats."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from netsuite_sandbox import NetSuiteSandbox

from .conftest import company, error_code, new_id


def test_requests_over_the_concurrency_limit_get_429(sandbox: NetSuiteSandbox) -> None:
    sandbox.configure(concurrency_limit=2, latency_ms=300, retry_after=3)
    barrier = threading.Barrier(6)

    def call(_: int) -> requests.Response:
        auth = sandbox.oauth()
        barrier.wait()
        return requests.get(sandbox.base_url + "/record/v1/customer/1", auth=auth, timeout=10)

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(call, range(6)))
    throttled = [r for r in responses if r.status_code == 429]
    assert len(throttled) >= 3
    assert error_code(throttled[0]) == "CONCURRENCY_LIMIT_EXCEEDED"
    assert throttled[0].headers["Retry-After"] == "3"
    assert sandbox.stats["peak_in_flight"] >= 3


def test_peak_in_flight_counts_what_a_client_sent_at_once(sandbox: NetSuiteSandbox) -> None:
    sandbox.configure(latency_ms=200)
    barrier = threading.Barrier(4)

    def call(_: int) -> int:
        auth = sandbox.oauth()
        barrier.wait()
        return requests.get(sandbox.base_url + "/record/v1/customer/1", auth=auth, timeout=10).status_code

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(call, range(4))) == {404}
    stats = sandbox.stats
    assert stats["peak_in_flight"] == 4
    assert stats["in_flight"] == 0
    assert stats["requests_by_route"]["GET /record/v1/customer/{id}"] == 4


def test_sequential_requests_never_overlap_in_the_stats(sandbox: NetSuiteSandbox, rest) -> None:
    sandbox.configure(concurrency_limit=1)
    for n in range(5):
        assert rest("PUT", f"/record/v1/customer/eid:SEQ{n}", json=company()).status_code == 204
    assert sandbox.stats["peak_in_flight"] == 1


def test_error_rate_gives_a_repeatable_share_of_5xx(sandbox: NetSuiteSandbox, rest) -> None:
    def statuses() -> list[int]:
        sandbox.configure(error_rate=0.3, seed=7)
        return [rest("GET", "/record/v1/customer/1").status_code for _ in range(40)]

    first = statuses()
    assert 4 <= first.count(500) <= 24
    assert set(first) == {404, 500}
    assert statuses() == first


def test_fail_next_and_throttle_next_then_recover(sandbox: NetSuiteSandbox, rest) -> None:
    sandbox.configure(fail_next=1, throttle_next=1, error_status=503)
    assert rest("PUT", "/record/v1/customer/eid:R1", json=company()).status_code == 429
    failed = rest("PUT", "/record/v1/customer/eid:R1", json=company())
    assert failed.status_code == 503
    assert error_code(failed) == "UNEXPECTED_ERROR"
    assert sandbox.count_customers() == 0
    assert rest("PUT", "/record/v1/customer/eid:R1", json=company()).status_code == 204


@pytest.mark.parametrize("mode", ["drop", "hold"])
def test_timeout_after_commit_writes_but_never_answers(sandbox: NetSuiteSandbox, rest, mode: str) -> None:
    sandbox.configure(timeout_after_commit=1, timeout_mode=mode, hold_seconds=5)
    with pytest.raises(requests.RequestException):
        rest("PUT", "/record/v1/customer/eid:LOST1", json=company(), timeout=0.5)
    assert sandbox.count_customers(external_id="LOST1") == 1
    # The client repeats its upsert: still one customer, and this time the answer arrives.
    cid = new_id(rest("PUT", "/record/v1/customer/eid:LOST1", json=company()))
    assert sandbox.customers_by_external_id("LOST1")[0]["id"] == str(cid)
    assert sandbox.count_customers() == 1


def test_malformed_json_answer_writes_nothing(sandbox: NetSuiteSandbox, rest) -> None:
    sandbox.configure(malformed="json", malformed_count=1)
    response = rest("PUT", "/record/v1/customer/eid:M1", json=company())
    with pytest.raises(ValueError):
        response.json()
    assert sandbox.count_customers() == 0
    assert rest("PUT", "/record/v1/customer/eid:M1", json=company()).status_code == 204


def test_html_error_page(sandbox: NetSuiteSandbox, rest) -> None:
    sandbox.configure(malformed="html", malformed_status=503)
    response = rest("GET", "/record/v1/customer/1")
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text


def test_missing_location_still_writes(sandbox: NetSuiteSandbox, rest) -> None:
    sandbox.configure(malformed="no_location")
    response = rest("PUT", "/record/v1/customer/eid:NL1", json=company())
    assert response.status_code == 204
    assert "Location" not in response.headers
    assert sandbox.count_customers(external_id="NL1") == 1


def test_unknown_error_code(sandbox: NetSuiteSandbox, rest) -> None:
    sandbox.configure(malformed="unknown_error")
    response = rest("PUT", "/record/v1/customer/eid:U1", json=company())
    assert response.status_code == 400
    assert error_code(response) not in {"USER_ERROR", "NONEXISTENT_ID", "INVALID_LOGIN", "UNEXPECTED_ERROR"}
    assert sandbox.count_customers() == 0


def test_control_endpoint_configures_faults_and_reports_stats(sandbox: NetSuiteSandbox, rest) -> None:
    root = sandbox.root_url
    answer = requests.post(root + "/_sandbox/config", json={"throttle_next": 1, "latency_ms": 1}, timeout=10)
    assert answer.json()["throttle_next"] == 1
    assert rest("GET", "/record/v1/customer/1").status_code == 429
    stats = requests.get(root + "/_sandbox/stats", timeout=10).json()
    assert stats["responses_by_status"] == {"429": 1}
    assert requests.post(root + "/_sandbox/config", json={"no_such_fault": 1}, timeout=10).status_code == 400
    seeded = requests.post(root + "/_sandbox/seed", json={"customers": 3, "subsidiary": 2}, timeout=10).json()
    assert (seeded["first_id"], seeded["last_id"]) == (1, 3)
    requests.post(root + "/_sandbox/reset", json={}, timeout=10)
    assert sandbox.count_customers() == 0
    assert sandbox.faults.latency_ms == 0


def test_a_request_the_client_gave_up_on_holds_its_slot_until_done(sandbox: NetSuiteSandbox, rest) -> None:
    sandbox.configure(concurrency_limit=1, latency_ms=400)
    with pytest.raises(requests.Timeout):
        rest("PUT", "/record/v1/customer/eid:GAVEUP", json=company(), timeout=0.1)
    # NetSuite is still working on the first request: a second one over the limit is refused.
    second = rest("GET", "/record/v1/customer/1", timeout=5)
    assert second.status_code == 429
    assert sandbox.stats["peak_in_flight"] == 2
    # And the first one was done, though nobody heard the answer.
    while sandbox.stats["in_flight"]:
        time.sleep(0.02)
    assert sandbox.count_customers(external_id="GAVEUP") == 1
