"""The failure lifecycle: one open failure per record and connector, occurrences, supersession, resolution."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Count

from customers.errors import GUIDANCE, ErrorCode, Kind, guidance
from customers.models import CustomerSync, ExternalSystem, SyncFailure, SyncFailureGroup, SyncLog
from customers.services import Attempt, attempts_record, customer_attempt, failures_mark_resolved
from customers.services import failures as failures_service

pytestmark = pytest.mark.django_db


def fail(customer, system, code=ErrorCode.MISSING_PRICE_LEVEL, **fields) -> Attempt:
    return customer_attempt(
        customer, system, ok=False, trigger="scheduled", operation="rest upsert", code=code, message=f"{code}", **fields
    )


def succeed(customer, system, **fields) -> Attempt:
    return customer_attempt(customer, system, ok=True, trigger="scheduled", operation="rest upsert", **fields)


def open_failures(**filters):
    return list(SyncFailure.objects.filter(resolved_at__isnull=True, **filters))


def group_counts() -> dict:
    return {
        (g.external_system_id, g.record_type, g.error_code): g.open_count
        for g in SyncFailureGroup.objects.exclude(open_count=0)
    }


def counted_groups() -> dict:
    rows = (
        SyncFailure.objects.filter(resolved_at__isnull=True)
        .values_list("external_system_id", "record_type", "error_code")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(s, t, c): n for s, t, c, n in rows}


def test_the_same_problem_again_counts_an_occurrence_not_a_row(netsuite_system, make_customer):
    customer = make_customer()
    for _ in range(3):
        attempts_record([fail(customer, netsuite_system)])

    (failure,) = open_failures()
    assert failure.occurrences == 3
    assert failure.last_seen_at > failure.first_seen_at
    assert (failure.record_type, failure.record_id, failure.error_code) == (
        "customer",
        customer.customer_id,
        "MISSING_PRICE_LEVEL",
    )
    assert SyncLog.objects.filter(outcome="failed").count() == 3  # every attempt stays in the history
    assert group_counts() == {(netsuite_system.pk, "customer", "MISSING_PRICE_LEVEL"): 1}


def test_a_different_problem_supersedes_the_open_one(netsuite_system, make_customer):
    customer = make_customer()
    attempts_record([fail(customer, netsuite_system, ErrorCode.MISSING_PAYMENT_TERM)])
    attempts_record([fail(customer, netsuite_system, ErrorCode.PARENT_NOT_IN_NETSUITE)])

    (current,) = open_failures()
    assert current.error_code == "PARENT_NOT_IN_NETSUITE"
    old = SyncFailure.objects.get(error_code="MISSING_PAYMENT_TERM")
    assert (old.resolution, old.resolved_at is not None) == (SyncFailure.Resolution.SUPERSEDED, True)
    assert group_counts() == {(netsuite_system.pk, "customer", "PARENT_NOT_IN_NETSUITE"): 1}


def test_a_success_resolves_the_records_failures_with_that_connector_only(netsuite_system, make_customer):
    other = ExternalSystem.objects.create(code="joor", name="JOOR", kind=ExternalSystem.Kind.JOOR)
    user = get_user_model().objects.create_user("operator", password="x")
    customer, bystander = make_customer(), make_customer()
    attempts_record([fail(customer, netsuite_system), fail(customer, other), fail(bystander, netsuite_system)])

    attempts_record([succeed(customer, netsuite_system, user=user, external_id="8812")])

    resolved = SyncFailure.objects.get(customer=customer, external_system=netsuite_system)
    assert (resolved.resolution, resolved.resolved_by) == (SyncFailure.Resolution.SUCCEEDED, user)
    assert {(f.customer_id, f.external_system_id) for f in open_failures()} == {
        (customer.pk, other.pk),
        (bystander.pk, netsuite_system.pk),
    }
    sync = CustomerSync.objects.get(customer=customer, external_system=netsuite_system)
    assert (sync.status, sync.external_id, sync.last_error_code) == ("synced", "8812", "")
    assert group_counts() == counted_groups()


def test_within_one_batch_the_last_attempt_of_a_record_decides(netsuite_system, make_customer):
    a, b = make_customer(), make_customer()
    attempts_record(
        [
            fail(a, netsuite_system),
            succeed(a, netsuite_system),
            fail(a, netsuite_system, ErrorCode.TIMEOUT),
            fail(b, netsuite_system),
            succeed(b, netsuite_system),
        ]
    )
    assert [(f.customer_id, f.error_code, f.occurrences) for f in open_failures()] == [(a.pk, "TIMEOUT", 1)]


def test_a_customer_that_became_a_company_keeps_one_open_failure(netsuite_system, make_customer):
    customer = make_customer()
    attempts_record([fail(customer, netsuite_system)])
    customer.party_type = "company"
    attempts_record([fail(customer, netsuite_system)])
    (failure,) = open_failures()
    assert failure.record_type == "company"
    assert group_counts() == counted_groups()


def test_failures_set_the_sync_row_to_error_and_create_a_missing_one(netsuite_system, make_customer):
    customer = make_customer(connector=False)
    attempts_record([fail(customer, netsuite_system, ErrorCode.USER_ERROR)])
    sync = CustomerSync.objects.get(customer=customer, external_system=netsuite_system)
    assert (sync.status, sync.last_error_code, sync.last_error_message) == ("error", "USER_ERROR", "USER_ERROR")


def test_an_unknown_netsuite_code_is_recorded_as_other_with_its_message(netsuite_system, make_customer):
    customer = make_customer()
    attempts_record([fail(customer, netsuite_system, "SOME_NEW_NETSUITE_CODE")])
    (failure,) = open_failures()
    assert failure.error_code == "NETSUITE_OTHER"
    assert SyncLog.objects.get().error_code == "SOME_NEW_NETSUITE_CODE"  # the history keeps NetSuite's own code


def test_file_rows_and_connections_are_records_too(netsuite_system):
    row = Attempt(netsuite_system, "file_row", "ids.csv:7", ok=False, code="ROW_INVALID", message="bad", line_number=7)
    login = Attempt(netsuite_system, "connection", "netsuite", ok=False, code="INVALID_LOGIN", message="refused")
    attempts_record([row, login, row])
    assert Counter(f.record_type for f in open_failures()) == {"file_row": 1, "connection": 1}
    assert SyncFailure.objects.get(record_type="file_row").occurrences == 2
    attempts_record([Attempt(netsuite_system, "connection", "netsuite", ok=True, log=False)])
    assert [f.record_type for f in open_failures()] == ["file_row"]


def test_marking_resolved_by_hand(netsuite_system, make_customer):
    user = get_user_model().objects.create_user("operator", password="x")
    attempts_record([fail(make_customer(), netsuite_system), fail(make_customer(), netsuite_system)])
    first = SyncFailure.objects.order_by("pk").first()
    assert failures_mark_resolved(ids=[first.pk], user=user) == 1
    assert failures_mark_resolved(ids=[first.pk], user=user) == 0
    first.refresh_from_db()
    assert (first.resolution, first.resolved_by) == (SyncFailure.Resolution.BY_HAND, user)
    assert group_counts() == {(netsuite_system.pk, "customer", "MISSING_PRICE_LEVEL"): 1}


def test_group_counts_always_equal_the_open_failures(netsuite_system, make_customer):
    other = ExternalSystem.objects.create(code="joor", name="JOOR", kind=ExternalSystem.Kind.JOOR)
    customers = [make_customer() for _ in range(12)]
    codes = [ErrorCode.MISSING_PRICE_LEVEL, ErrorCode.TIMEOUT, ErrorCode.USER_ERROR]
    rng = random.Random(7)
    for _ in range(40):
        batch = []
        for _ in range(rng.randint(1, 8)):
            customer, system = rng.choice(customers), rng.choice([netsuite_system, other])
            if rng.random() < 0.3:
                batch.append(succeed(customer, system))
            else:
                batch.append(fail(customer, system, rng.choice(codes)))
        attempts_record(batch)
        if rng.random() < 0.2:
            failures_mark_resolved(ids=[f.pk for f in open_failures()[:2]])
        assert group_counts() == counted_groups()
    # At most one open failure per record and connector, whatever happened.
    keys = Counter((f.customer_id, f.external_system_id) for f in open_failures())
    assert set(keys.values()) <= {1}


def test_an_insert_racing_another_run_counts_on_the_row_that_run_committed(netsuite_system, make_customer, monkeypatch):
    customer = make_customer()
    attempts_record([fail(customer, netsuite_system)])  # what the other run committed
    real_open = failures_service._open
    calls = []

    def racing_open(query):
        # Our first read happened before the other run's commit: it sees no open failure, so our insert meets
        # the unique index.
        calls.append(query)
        return real_open(query).none() if len(calls) == 1 else real_open(query)

    monkeypatch.setattr(failures_service, "_open", racing_open)
    failures_service.failures_record([fail_seen(customer, netsuite_system)])

    (failure,) = open_failures()
    assert failure.occurrences == 2
    assert group_counts() == counted_groups() == {(netsuite_system.pk, "customer", "MISSING_PRICE_LEVEL"): 1}


def fail_seen(customer, system) -> failures_service.FailureSeen:
    return failures_service.FailureSeen(
        system.pk, "customer", customer.customer_id, customer.pk, "MISSING_PRICE_LEVEL", "m"
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_never_double_a_failure(netsuite_system, make_customer):
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("shared-cache in-memory SQLite has table locks; concurrent writers need PostgreSQL")
    customers = [make_customer() for _ in range(30)]
    errors = []

    def run() -> None:
        try:
            for _ in range(3):
                attempts_record([fail(c, netsuite_system) for c in customers])
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert SyncFailure.objects.count() == 30
    assert {f.occurrences for f in open_failures()} == {12}
    assert group_counts() == {(netsuite_system.pk, "customer", "MISSING_PRICE_LEVEL"): 30}


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_code_has_guidance(code):
    info = GUIDANCE.get(code)
    assert info is not None, f"{code} has no guidance: add it to customers.errors.GUIDANCE"
    assert info.title and info.fix.endswith((".", ")")) and isinstance(info.kind, Kind)
    assert "RESYNC" not in guidance(code, can_resync=False)
    if info.kind in (Kind.DATA, Kind.SETUP):
        assert "RESYNC" in guidance(code, can_resync=True)
