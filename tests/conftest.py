"""Fixtures shared by every test module: an external system and customers valid for export."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from customers.models import SHOPIFY_CUST_ID, Address, Customer, CustomerSync, ExternalSystem, PartyIdentification
from customers.services import customer_refresh_validation


class TaskQueue:
    """The django-q2 queue the portal enqueues on, whichever broker is configured (ORM or Redis)."""

    def __init__(self) -> None:
        from django_q.brokers import get_broker

        self.broker = get_broker()

    def drain(self) -> list[dict]:
        """Take every queued task off the queue and return the decoded tasks, oldest first."""
        from django_q.signing import SignedPackage

        tasks = []
        while batch := self.broker.dequeue():
            for ack_id, payload in batch:
                tasks.append(SignedPackage.loads(payload))
                self.broker.acknowledge(ack_id)
        return tasks


@pytest.fixture
def task_queue(monkeypatch, db) -> TaskQueue:
    """A queue of the test's own (a fresh queue name), so tests on a shared Redis never see each other's tasks."""
    from uuid import uuid4

    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "CLUSTER_NAME", f"test-{uuid4().hex[:12]}")
    return TaskQueue()


pytest_plugins = ["netsuite_sandbox.pytest_plugin"]


@pytest.fixture
def netsuite_system(db) -> ExternalSystem:
    return ExternalSystem.objects.create(code="netsuite", name="NetSuite", kind=ExternalSystem.Kind.NETSUITE)


@pytest.fixture
def make_customer(db, netsuite_system) -> Callable[..., Customer]:
    """Build a customer that passes export validation unless told otherwise.

    For a file connector (HotWax's file needs one) the customer gets a Shopify customer ID unless
    ``shopify_id=False``; ``shopify_id=True`` gives one whatever the connector.
    """
    counter = iter(range(1, 1_000_000))

    def make(*, address: bool = True, connector: bool = True, shopify_id: bool | None = None, **fields) -> Customer:
        n = next(counter)
        values = {
            "customer_id": f"C{10000 + n}",
            "first_name": "Ada",
            "last_name": f"Lovelace{n}",
            "email": f"ada{n}@example.com",
            "payment_term": "Net 30",
            "price_level": "Base Price",
            "subsidiary": "Parent Company",
        }
        values.update(fields)
        customer = Customer.objects.create(**values)
        if address:
            Address.objects.create(
                customer=customer,
                label="Home",
                line1="1 Main St",
                city="Springfield",
                state="IL",
                zip="62701",
                country="US",
                is_default_billing=True,
                is_default_shipping=True,
            )
        if shopify_id or (shopify_id is None and connector and netsuite_system.carries_persons_only):
            PartyIdentification.objects.create(customer=customer, type=SHOPIFY_CUST_ID, value=str(6_000_000_000 + n))
        if connector:
            CustomerSync.objects.create(customer=customer, external_system=netsuite_system)
        customer_refresh_validation(customer=customer)
        return customer

    return make
