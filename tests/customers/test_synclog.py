"""Logging sync attempts: one or many at once, a success resolving the record's earlier open failures."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from customers.models import ExternalSystem, SyncLog
from customers.services import SyncLogEntry, synclog_record, synclog_record_many

pytestmark = pytest.mark.django_db


def entry(record_id: str, outcome: str, system: ExternalSystem | None, **fields) -> SyncLogEntry:
    return SyncLogEntry(
        record_type=fields.pop("record_type", SyncLog.RecordType.CUSTOMER),
        record_id=record_id,
        trigger=SyncLog.Trigger.SCHEDULED,
        outcome=outcome,
        external_system=system,
        **fields,
    )


def test_many_entries_are_logged_and_successes_resolve_earlier_failures_per_system(netsuite_system, make_customer):
    other = ExternalSystem.objects.create(code="joor", name="JOOR", kind=ExternalSystem.Kind.JOOR)
    user = get_user_model().objects.create_user("operator", password="x")
    customer = make_customer(customer_id="C1")
    old_a = synclog_record(**vars(entry("C1", "failed", netsuite_system, error_code="E1")))
    old_b = synclog_record(**vars(entry("C2", "failed", netsuite_system)))
    other_system = synclog_record(**vars(entry("C1", "failed", other)))
    other_type = synclog_record(**vars(entry("C1", "failed", netsuite_system, record_type="company")))

    logs = synclog_record_many(
        [
            entry("C1", "success", netsuite_system, customer=customer, user=user, message="ok"),
            entry("C2", "failed", netsuite_system, error_code="E2"),
            entry("C3", "failed", netsuite_system),
            entry("C3", "success", netsuite_system, user=user),
            entry("C3", "failed", netsuite_system, error_code="LATER"),
        ]
    )

    assert [log.pk is not None for log in logs] == [True] * 5
    assert (logs[0].customer, logs[0].created_by, logs[0].message) == (customer, user, "ok")
    assert SyncLog.objects.count() == 9
    old_a.refresh_from_db()
    assert (old_a.resolved_at is not None, old_a.resolved_by) == (True, user)
    open_ids = set(SyncLog.objects.filter(outcome="failed", resolved_at=None).values_list("pk", flat=True))
    # Still open: C2 (no success), the other system's and the other record type's failures, and the failure
    # of C3 logged after its success in the same batch.
    assert open_ids == {old_b.pk, logs[1].pk, other_system.pk, other_type.pk, logs[4].pk}


def test_many_without_a_success_only_inserts(netsuite_system):
    failure = synclog_record(**vars(entry("C1", "failed", netsuite_system)))
    logs = synclog_record_many([entry("C1", "failed", None), entry("C1", "skipped", netsuite_system)])
    assert len(logs) == 2
    failure.refresh_from_db()
    assert failure.resolved_at is None
    assert synclog_record_many([]) == []


def test_a_success_without_a_system_resolves_failures_without_one():
    failure = synclog_record(**vars(entry("f.csv", "failed", None, record_type="file")))
    kept = synclog_record(**vars(entry("f.csv", "failed", None, record_type="file_row")))
    synclog_record(**vars(entry("f.csv", "success", None, record_type="file")))
    failure.refresh_from_db()
    kept.refresh_from_db()
    assert failure.resolved_at is not None
    assert kept.resolved_at is None
