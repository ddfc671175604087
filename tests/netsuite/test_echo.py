"""Both ways without echoes: what a pull wrote is not pushed back to NetSuite until it changes here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Customer, SyncLog
from netsuite import services, tasks
from netsuite.models import NetSuiteConnection
from netsuite_sandbox import NetSuiteSandbox

pytestmark = pytest.mark.django_db


def test_a_pull_followed_by_a_push_sends_nothing_for_unchanged_customers(
    connection: NetSuiteConnection, make_customer, netsuite_sandbox: NetSuiteSandbox
):
    customers = [make_customer() for _ in range(5)]
    tasks.push_customers()
    # NetSuite has new customers of its own, and changes to some of the portal's.
    netsuite_sandbox.seed_customers(7, start=timezone.now() - timedelta(hours=2))
    for customer in customers[:3]:
        [record] = netsuite_sandbox.customers_by_external_id(customer.customer_id)
        netsuite_sandbox.store.update(int(record["id"]), {"email": f"changed-{customer.pk}@example.com"})
    since = timezone.now() - timedelta(days=1)
    report = services.customers_pull(connection=connection, since=since)
    assert (report.created, report.updated) == (7, 3)
    assert Customer.objects.filter(email__startswith="changed-").count() == 3

    netsuite_sandbox.reset_stats()
    logs = SyncLog.objects.count()
    tasks.push_customers()
    assert netsuite_sandbox.stats["total_requests"] == 0
    assert SyncLog.objects.count() == logs

    # A change made here afterwards is sent, and only that one.
    changed = Customer.objects.get(pk=customers[0].pk)
    changed.phone = "555 123 4567"
    changed.save()
    tasks.push_customers()
    assert netsuite_sandbox.stats["total_requests"] == 1
    [record] = netsuite_sandbox.customers_by_external_id(changed.customer_id)
    assert (record["phone"], record["email"]) == ("555 123 4567", f"changed-{changed.pk}@example.com")
