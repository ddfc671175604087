"""Every way of sending a customer goes through the same guards (customers.dispatch): schedule, event, RESYNC,
selective export, ensure and push by ID are all refused for a connection switched off, and nothing reaches NetSuite."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from console.services import customers_export_selected, customers_resync
from customers.dispatch import CONNECTION_INACTIVE, HISTORICAL_IMPORT_PENDING, sync_refusal
from customers.models import SyncLog
from jobs.services import JobRefused
from netsuite.services import (
    connection_test,
    customer_ensure_in_netsuite,
    customers_push_changed,
    customers_push_scheduled,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def switched_off(connection):
    connection.is_active = False
    connection.save()
    return connection


def test_every_way_of_sending_is_refused_for_a_connection_switched_off(
    switched_off, make_customer, netsuite_sandbox, operator
):
    customer = make_customer()
    system = switched_off.external_system
    netsuite_sandbox.reset_stats()
    assert sync_refusal(external_system=system).code == CONNECTION_INACTIVE

    with pytest.raises(JobRefused, match="switched off"):
        customers_push_scheduled(connection=switched_off, trigger=SyncLog.Trigger.SCHEDULED)
    # The event-driven push only looks at active connections: nothing is pushed.
    assert customers_push_changed(customer_pks=[customer.pk]) == "Nothing to push."
    (resync,) = customers_resync(customers=[customer], external_system=system, user=operator)
    assert not resync.ok and resync.error_code == CONNECTION_INACTIVE
    (selected,) = customers_export_selected(ids=[customer.customer_id], external_system=system, user=operator)
    assert not selected.ok and selected.error_code == CONNECTION_INACTIVE
    presence = customer_ensure_in_netsuite(customer=customer, connection=switched_off)
    assert not presence.present and "switched off" in presence.message
    with pytest.raises(CommandError, match="switched off"):
        call_command("push_customers", "--id", customer.customer_id, "--connection", system.code)
    assert netsuite_sandbox.stats["total_requests"] == 0
    assert not customer.identifications.exists()


def test_nothing_is_sent_before_the_first_pull(connection, make_customer, netsuite_sandbox, operator):
    customer = make_customer()
    system = connection.external_system
    system.historical_import_completed_at = None
    system.save()
    netsuite_sandbox.reset_stats()
    connection.push_on_change = True
    connection.save()
    assert "pulled once" in customers_push_changed(customer_pks=[customer.pk])
    with pytest.raises(JobRefused, match="pulled once"):
        customers_push_scheduled(connection=connection, trigger=SyncLog.Trigger.SCHEDULED)
    (resync,) = customers_resync(customers=[customer], external_system=system, user=operator)
    assert resync.error_code == HISTORICAL_IMPORT_PENDING
    with pytest.raises(CommandError, match="pulled once"):
        call_command("push_customers", "--id", customer.customer_id)
    assert netsuite_sandbox.stats["total_requests"] == 0
    # Test connection is not a send: it still signs in.
    assert connection_test(connection=connection).ok
