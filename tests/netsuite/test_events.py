"""Event-driven push: a saved change queues one push per transaction, after commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from customers.models import Address, Contact, Customer, CustomerSync
from netsuite import tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch) -> list[dict]:
    """Capture the tasks sent to the django-q2 cluster instead of queueing them."""
    calls: list[dict] = []

    def fake_async_task(func, *args, **kwargs):
        calls.append({"func": func, **kwargs})
        return "task-id"

    monkeypatch.setattr("django_q.tasks.async_task", fake_async_task)
    return calls


@pytest.fixture
def pushing(connection):
    connection.push_on_change = True
    connection.save()
    return connection


def test_changes_in_one_transaction_queue_one_push_after_commit(
    pushing, make_customer, queued, django_capture_on_commit_callbacks
):
    customer = make_customer()
    CustomerSync.objects.filter(customer=customer).update(status="synced", external_id="77")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            customer.email = "new@example.com"
            customer.save()
            Address.objects.filter(customer=customer).first().save()
            Contact.objects.create(customer=customer, first_name="Bob", email="bob@example.com")
        assert queued == []  # nothing before commit
    assert callbacks
    assert len(queued) == 1
    assert queued[0]["func"] == "netsuite.tasks.push_changed_customers"
    assert queued[0]["customer_pks"] == [customer.pk]
    # Marked pending too, so the scheduled run sends it even if the queued task is lost.
    assert CustomerSync.objects.get(customer=customer).status == "pending"


def test_rolled_back_change_queues_nothing(pushing, make_customer, queued, django_capture_on_commit_callbacks):
    customer = make_customer()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        customer.save()
        raise RuntimeError("rolled back")
    assert queued == []


def test_bulk_updates_queue_nothing(pushing, make_customer, queued, django_capture_on_commit_callbacks):
    make_customer()
    with django_capture_on_commit_callbacks(execute=True):
        Customer.objects.update(email="bulk@example.com")
    assert queued == []


def test_nothing_is_queued_when_no_connection_pushes_on_change(
    connection, make_customer, queued, django_capture_on_commit_callbacks
):
    customer = make_customer()
    with django_capture_on_commit_callbacks(execute=True):
        customer.save()
    assert queued == []


def test_the_queued_task_pushes_the_changed_customer(pushing, make_customer, netsuite_sandbox):
    customer = make_customer()
    message = tasks.push_changed_customers(customer_pks=[customer.pk])
    assert "1 customer(s) sent" in message
    assert netsuite_sandbox.count_customers(external_id=customer.customer_id) == 1


def test_the_queued_task_waits_for_the_first_pull(pushing, make_customer, netsuite_sandbox):
    pushing.external_system.historical_import_completed_at = None
    pushing.external_system.save()
    customer = make_customer()
    message = tasks.push_changed_customers(customer_pks=[customer.pk])
    assert "pulled once" in message
    assert netsuite_sandbox.stats["total_requests"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_is_not_pushed_with_the_next_one(pushing, make_customer, queued):
    first, second = make_customer(), make_customer()
    queued.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        first.save()
        raise RuntimeError("rolled back")
    with transaction.atomic():
        second.save()
        Address.objects.filter(customer=second).first().save()
    assert [call["customer_pks"] for call in queued] == [[second.pk]]
