"""Fixtures shared by every test module: an external system and customers valid for export."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from customers.models import Address, Customer, CustomerSync, ExternalSystem


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
    """Build a customer that passes export validation unless told otherwise."""
    counter = iter(range(1, 1_000_000))

    def make(*, address: bool = True, connector: bool = True, **fields) -> Customer:
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
        if connector:
            CustomerSync.objects.create(customer=customer, external_system=netsuite_system)
        return customer

    return make


@pytest.fixture
def totals_seen(monkeypatch) -> list[tuple[str, int | None, int]]:
    """(job, rows total, rows done) as each job run counts rows: a total known from the start is never None."""
    from jobs.services import JobProgress

    seen: list[tuple[str, int | None, int]] = []
    advance = JobProgress.advance

    def recording(self, done: int = 1, *, failed: int = 0) -> None:
        seen.append((self.run.job, self.run.rows_total, self.run.rows_done))
        advance(self, done, failed=failed)

    monkeypatch.setattr(JobProgress, "advance", recording)
    return seen
