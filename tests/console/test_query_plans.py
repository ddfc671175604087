"""The dashboard's reads stay on small indexes however many customer failures are open."""

from __future__ import annotations

import pytest
from django.utils import timezone

from console.selectors import connection_failures_open
from customers.models import SyncFailure
from integration_portal.bulk import RowInserter, db_datetime

from ..plans import analyze, queryset_plan

pytestmark = pytest.mark.django_db


def test_the_open_connection_failures_are_read_from_their_own_index(netsuite_system) -> None:
    # Shaped like a large shop's queue: thousands of open customer failures, one connection refused.
    now = db_datetime(timezone.now())
    columns = ("record_type", "record_id", "external_system_id", "error_code", "message", "operation", "trigger",
               "file_name", "occurrences", "first_seen_at", "last_seen_at", "resolution")  # fmt: skip
    rows = [("customer", f"C{n}", netsuite_system.pk, "MISSING_EMAIL", "", "", "", "", 3, now, now, "")
            for n in range(3000)]  # fmt: skip
    rows.append(("connection", "rest", netsuite_system.pk, "INVALID_LOGIN", "", "", "", "", 1, now, now, ""))
    RowInserter(SyncFailure, columns).insert(rows)
    analyze(SyncFailure)  # with statistics both planners see 3,000 open rows per system and record type

    assert [f.record_id for f in connection_failures_open()] == ["rest"]
    assert "sync_failure_open_conn" in queryset_plan(connection_failures_open()[:10])
