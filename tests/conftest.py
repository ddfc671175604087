"""Fixtures shared by every test module: an external system and customers valid for export."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

from customers.models import SHOPIFY_CUST_ID, Address, Customer, CustomerSync, ExternalSystem, PartyIdentification
from customers.services import customer_refresh_validation

# The suite's own encryption key for stored secrets (the portal never derives one): in the environment too, so
# that the commands tests start in subprocesses read what the tests wrote.
os.environ.setdefault("PORTAL_ENCRYPTION_KEY", Fernet.generate_key().decode())
settings.PORTAL_ENCRYPTION_KEY = os.environ["PORTAL_ENCRYPTION_KEY"]


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


pytest_plugins = ["netsuite_sandbox.pytest_plugin", "shopify_sandbox.pytest_plugin"]


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


def sandbox_connection(system: ExternalSystem, sandbox, **fields):
    """A NetSuite REST connection of ``system`` to the sandbox, its first complete pull done (pushes may run);
    ``mappings`` ({kind: {local value: internal ID}}) go to the system's reference mappings."""
    from django.utils import timezone

    from netsuite.models import NetSuiteConnection
    from netsuite.services import reference_mappings_set

    system.historical_import_completed_at = timezone.now()
    system.save()
    if "mappings" in fields:
        reference_mappings_set(external_system=system, mappings=fields.pop("mappings"))
    values = {
        "account_id": sandbox.account_id,
        "base_url": sandbox.base_url,
        "consumer_key": sandbox.consumer_key,
        "consumer_secret": sandbox.consumer_secret,
        "token_id": sandbox.token_id,
        "token_secret": sandbox.token_secret,
        "request_timeout": 2,
        "push_on_change": False,
        **fields,
    }
    return NetSuiteConnection.objects.create(external_system=system, **values)


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
