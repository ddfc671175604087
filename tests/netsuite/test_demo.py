"""Demo wiring: seed_demo points the "netsuite" system at the sandbox, and the first pull starts a push."""

from __future__ import annotations

import io
import random

import pytest
from django.apps import apps
from django.utils import timezone

from customers import demo
from customers.models import Customer, CustomerSync, ExternalSystem
from netsuite import services
from netsuite.mapping import customer_to_netsuite
from netsuite.models import NetSuiteConnection
from netsuite.services import mappings_for
from netsuite_sandbox import DEMO_CREDENTIALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_system() -> ExternalSystem:
    return ExternalSystem.objects.create(code="netsuite", name="NetSuite (REST)", transport="rest")


def test_demo_setup_creates_one_connection_to_the_sandbox_however_often_it_runs(demo_system, monkeypatch):
    monkeypatch.setenv("NETSUITE_SANDBOX_URL", "http://127.0.0.1:9999/")
    config = apps.get_app_config("netsuite")
    out = io.StringIO()
    config.demo_setup(stdout=out)
    config.demo_setup(stdout=out)

    connection = NetSuiteConnection.objects.get()
    assert connection.external_system == demo_system
    assert connection.rest_url == "http://127.0.0.1:9999/services/rest"
    assert connection.account_id == DEMO_CREDENTIALS.account_id
    assert connection.has_credentials and connection.token_secret == DEMO_CREDENTIALS.token_secret
    assert "Created" in out.getvalue() and "Updated" in out.getvalue()


def test_demo_customers_map_to_the_sandbox_reference_values(demo_system):
    apps.get_app_config("netsuite").demo_setup(stdout=io.StringIO())
    connection = NetSuiteConnection.objects.get()
    mappings = mappings_for(external_system=connection.external_system)
    rng = random.Random(1)
    for n in range(200):
        customer = demo._customer(rng, n, is_company=n % 3 == 0)
        body = customer_to_netsuite(customer, [], [], mappings, connection.defaults)  # raises if a value is unmapped
        assert body["subsidiary"]["id"] in {"1", "2", "3"}
        assert body["terms"]["id"] in {str(i) for i in range(1, 9)}
        assert body["priceLevel"]["id"] in {str(i) for i in range(1, 6)}


def test_demo_setup_without_the_system_does_nothing():
    apps.get_app_config("netsuite").demo_setup(stdout=io.StringIO())
    assert not NetSuiteConnection.objects.exists()


def test_the_first_complete_pull_queues_a_push_after_commit(
    connection, netsuite_sandbox, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[dict] = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, **kwargs: queued.append({"func": func, **kwargs}))
    system = connection.external_system
    system.historical_import_completed_at = None
    system.save()
    netsuite_sandbox.seed_customers(3)
    with django_capture_on_commit_callbacks(execute=True):
        services.customers_pull(connection=connection)
    assert [(q["func"], q["connection_id"]) for q in queued] == [("netsuite.tasks.push_customers", connection.pk)]

    # Later pulls, and complete pulls once the push is open, queue nothing more.
    queued.clear()
    connection.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.customers_pull(connection=connection, full=True)
    assert queued == []
    assert system.__class__.objects.get(pk=system.pk).historical_import_completed_at <= timezone.now()
    assert Customer.objects.count() == 3 and CustomerSync.objects.count() == 3
