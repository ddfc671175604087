"""Console fixtures: users in the two roles, and a connector for a fake transport that answers at once."""

from __future__ import annotations

import os
import pydoc
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from console.roles import OPERATOR, VIEWER, roles_ensure
from customers import dispatch
from customers.dispatch import SyncResult
from customers.models import Customer, CustomerSync, ExternalSystem, SyncFailure, SyncLog
from customers.services import attempt_record, customer_attempt, customer_validate_for_export

from .browsing import CHROMIUM

FAKE = "fake"


def fake_handler(*, customers, external_system, trigger, user=None) -> list[SyncResult]:
    """Stand in for a connector: a customer valid for export is accepted, as NetSuite would; logs like one."""
    results = []
    for customer in customers:
        problems = customer_validate_for_export(customer=customer, external_system=external_system)
        common = {"trigger": trigger, "operation": "fake push", "user": user}
        if problems:
            message = "; ".join(p.message for p in problems)
            code = problems[0].code
            attempt_record(customer_attempt(customer, external_system, ok=False, code=code, message=message, **common))
            results.append(SyncResult(customer, ok=False, status="error", message=message, error_code=code))
        else:
            external_id = str(9000 + customer.pk)
            attempt_record(
                customer_attempt(
                    customer, external_system, ok=True, external_id=external_id,
                    message=f"In NetSuite as {external_id}.", **common,
                )
            )  # fmt: skip
            results.append(SyncResult(customer, ok=True, status="synced", external_id=external_id))
    return results


@pytest.fixture
def fake_transport() -> Iterator[str]:
    previous = dispatch._handlers.get(FAKE)
    dispatch.register_sync_handler(FAKE, fake_handler)
    yield FAKE
    if previous is None:
        dispatch._handlers.pop(FAKE, None)
    else:
        dispatch._handlers[FAKE] = previous


@pytest.fixture
def fake_system(netsuite_system, fake_transport) -> ExternalSystem:
    """The conftest's NetSuite system, reached through the fake transport."""
    netsuite_system.transport = fake_transport
    netsuite_system.save()
    return netsuite_system


def _user(username: str, group: str) -> User:
    roles_ensure()
    user = User.objects.create_user(username, password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def operator(db) -> User:
    return _user("olivia", OPERATOR)


@pytest.fixture
def viewer(db) -> User:
    return _user("victor", VIEWER)


@pytest.fixture
def operator_client(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def viewer_client(viewer) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


@pytest.fixture
def failed_customer(make_customer, fake_system) -> Callable[..., tuple[Customer, SyncFailure]]:
    """A customer whose last attempt failed, and the open failure in the queue."""

    def make(**fields) -> tuple[Customer, SyncFailure]:
        fields.setdefault("price_level", "")
        customer = make_customer(**fields)
        fake_handler(customers=[customer], external_system=fake_system, trigger=SyncLog.Trigger.SCHEDULED)
        entry = SyncFailure.objects.get(customer=customer, resolved_at=None)
        assert CustomerSync.objects.get(customer=customer).status == CustomerSync.Status.ERROR
        return customer, entry

    return make


@pytest.fixture
def registered_job(db) -> Iterator:
    """A job in the registry with its schedule, as a connector app would register it."""
    from jobs.registry import JOBS, JobSpec, schedule_ensure

    spec = JobSpec(
        key="console_test_job",
        title="Console test job",
        task="tests.console.conftest.noop_task",
        command="console_test_job",
        description="Does nothing.",
    )
    JOBS[spec.key] = spec
    schedule_ensure(spec=spec)
    yield spec
    JOBS.pop(spec.key, None)


def noop_task(**kwargs) -> None:
    """A task that does nothing."""


def run_task(task: dict):
    """Run a queued django-q2 task here and now, as a cluster worker does: locate its function, pass its arguments."""
    func = task["func"] if callable(task["func"]) else pydoc.locate(task["func"])
    assert func is not None, f"{task['func']} is not a function the cluster could run"
    return func(*task["args"], **task["kwargs"])


@pytest.fixture
def browser() -> Iterator:
    """Debian's chromium, headless, driven by Playwright."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (requirements-dev.txt)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
