"""Reconciliation against the Shopify sandbox over HTTP: bulk operations, JSONL streamed, the same apply as webhooks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from customers.models import SHOPIFY_CUST_ID, Contact, Customer, PartyIdentification, SyncLog
from jobs.models import JobRun
from jobs.registry import JOBS
from shopify import tasks
from shopify.client import BULK_FAILED, UNAUTHORIZED, ShopifyError
from shopify.mapping import SHOPIFY_COMPANY_ID
from shopify.models import InboxEvent, ShopifyConnection
from shopify.services import lines_apply, shopify_reconcile, subscriptions_create
from shopify_sandbox import ShopifySandbox


@pytest.fixture
def sandbox_connection(shopify_connection: ShopifyConnection, shopify_sandbox: ShopifySandbox) -> ShopifyConnection:
    """The fixture connection, pointed at the sandbox (its shop, token and secret)."""
    shopify_connection.shop_domain = shopify_sandbox.shop_domain
    shopify_connection.api_url = shopify_sandbox.admin_api_url
    shopify_connection.access_token = shopify_sandbox.access_token
    shopify_connection.client_secret = shopify_sandbox.client_secret
    shopify_connection.request_timeout = 5
    shopify_connection.save()
    return shopify_connection


def shopify_ids(kind: str = SHOPIFY_CUST_ID) -> set[str]:
    return set(PartyIdentification.objects.filter(type=kind).values_list("value", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_webhook_lost_on_purpose_is_recovered_by_reconciliation(
    sandbox_connection, shopify_sandbox, live_server, run_queued
):
    sandbox_connection.webhook_url = f"{live_server.url}/api/shopify/webhooks"
    sandbox_connection.save()
    report = subscriptions_create(connection=sandbox_connection)
    assert "customers/create" in report.created and "companies/create" in report.created

    delivered = shopify_sandbox.create_customer(**shopify_sandbox.store.fake_person())
    shopify_sandbox.wait_for_deliveries(1)
    shopify_sandbox.configure(drop_next=1)
    lost = shopify_sandbox.create_customer(**shopify_sandbox.store.fake_person())
    run_queued()
    assert shopify_ids() == {str(delivered["id"])}
    assert [d["outcome"] for d in shopify_sandbox.deliveries] == ["delivered", "dropped"]

    report = shopify_reconcile(connection=sandbox_connection, poll=0.05)
    assert shopify_ids() == {str(delivered["id"]), str(lost["id"])}
    assert (report.read, report.applied, report.stale, report.failed) == (2, 1, 1, 0)
    recovered = PartyIdentification.objects.get(type=SHOPIFY_CUST_ID, value=str(lost["id"])).customer
    assert (recovered.first_name, recovered.email) == (lost["firstName"], lost["email"])
    sandbox_connection.refresh_from_db()
    assert sandbox_connection.reconciled_since is not None and sandbox_connection.last_reconciled_at is not None
    # The end of each bulk operation (customers, companies) was announced by webhook too; kept, it needs nothing.
    shopify_sandbox.wait_for_deliveries(3)
    run_queued()
    finished = InboxEvent.objects.filter(topic="bulk_operations/finish")
    assert set(finished.values_list("status", flat=True)) == {InboxEvent.Status.IGNORED}


@pytest.mark.django_db
def test_reconciliation_reads_companies_with_locations_and_contacts(sandbox_connection, shopify_sandbox):
    store = shopify_sandbox.store
    company = store.create_company(**store.fake_company(locations=2, contacts=3))
    report = shopify_reconcile(connection=sandbox_connection, poll=0.05)
    assert report.failed == report.unreadable == 0
    parent = PartyIdentification.objects.get(type=SHOPIFY_COMPANY_ID, value=str(company["id"])).customer
    assert Customer.objects.filter(parent=parent).count() == 2
    assert Contact.objects.filter(customer=parent).exclude(email="").count() == 3
    assert parent.is_valid, parent.problems


@pytest.mark.django_db
def test_the_next_reconciliation_reads_only_customers_changed_since(sandbox_connection, shopify_sandbox):
    old = shopify_sandbox.create_customer(**shopify_sandbox.store.fake_person())
    shopify_reconcile(connection=sandbox_connection, poll=0.05)
    sandbox_connection.refresh_from_db()
    # Backdate what the shop holds: an unchanged customer is not read again.
    shopify_sandbox.store.customers[old["id"]]["updatedAt"] -= timedelta(hours=1)
    new = shopify_sandbox.create_customer(**shopify_sandbox.store.fake_person())
    report = shopify_reconcile(connection=sandbox_connection, poll=0.05)
    assert report.read == 1 and report.applied == 1
    assert str(new["id"]) in shopify_ids()


@pytest.mark.django_db
def test_a_bulk_operation_already_running_is_waited_for(sandbox_connection, shopify_sandbox):
    shopify_sandbox.seed_customers(3)
    shopify_sandbox.configure(bulk_delay=0.3)
    shopify_sandbox.graphql("mutation { bulkOperationRunQuery(query: \"{ customers { edges { node { id } } } }\") "
                            "{ bulkOperation { id } userErrors { message } } }", {})  # fmt: skip
    report = shopify_reconcile(connection=sandbox_connection, poll=0.05)
    assert report.applied == 3


@pytest.mark.django_db
def test_a_failed_bulk_operation_stops_and_keeps_the_watermark(sandbox_connection, shopify_sandbox):
    shopify_sandbox.configure(bulk_fail_next=1)
    with pytest.raises(ShopifyError) as failure:
        shopify_reconcile(connection=sandbox_connection, poll=0.05)
    assert failure.value.code == BULK_FAILED and "FAILED" in failure.value.message
    sandbox_connection.refresh_from_db()
    assert sandbox_connection.reconciled_since is None


@pytest.mark.django_db
def test_an_unreadable_line_is_reported_and_the_rest_applied(shopify_connection):
    lines = iter(
        [
            '{"id": "gid://shopify/Customer/42", "firstName": "Ada", "lastName": "Lovelace", "state": "ENABLED", '
            '"updatedAt": "2025-05-01T10:00:00Z", "addresses": [], "defaultEmailAddress": {"emailAddress": "a@x.io"}}',
            '{"id": "gid://shopify/Customer/43", "firstName": "No date"}',
            "not json at all",
        ]
    )
    report = lines_apply(connection=shopify_connection, lines=lines)
    assert (report.read, report.applied, report.unreadable) == (3, 1, 2)
    failures = SyncLog.objects.filter(outcome="failed").order_by("line_number")
    assert [f.line_number for f in failures] == [2, 3]
    assert "updated_at" in failures[0].message and failures[0].error_code == "SHOPIFY_PAYLOAD_UNREADABLE"


@pytest.mark.django_db
def test_the_command_reconciles_since_a_time_and_records_a_job_run(sandbox_connection, shopify_sandbox, capsys):
    shopify_sandbox.create_customer(**shopify_sandbox.store.fake_person())
    since = (timezone.now() - timedelta(minutes=1)).isoformat()
    call_command("reconcile_shopify", "--connection", shopify_sandbox.shop_domain, "--since", since)
    assert "1 applied" in capsys.readouterr().out
    assert JobRun.objects.get(job="reconcile_shopify").status == JobRun.Status.DONE


def test_reconciliation_is_a_daily_job_by_default():
    spec = JOBS["reconcile_shopify"]
    assert (spec.default_minutes, spec.task, spec.command) == (1440, "shopify.tasks.reconcile", "reconcile_shopify")


@pytest.mark.django_db
def test_reconciliation_writes_without_signals_yet_marks_and_queues_the_push(
    shopify_connection, connection, task_queue, django_capture_on_commit_callbacks
):
    from customers.models import CustomerSync

    connection.push_on_change = True
    connection.save()

    def line(updated_at: str, last_name: str) -> str:
        import json

        return json.dumps(
            {"id": "gid://shopify/Customer/77", "firstName": "Ada", "lastName": last_name, "state": "ENABLED",
             "updatedAt": updated_at, "addresses": []}
        )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        lines_apply(connection=shopify_connection, lines=iter([line("2025-05-01T10:00:00Z", "Lovelace")]))
    customer = PartyIdentification.objects.get(type=SHOPIFY_CUST_ID, value="77").customer
    CustomerSync.objects.filter(customer=customer).update(status="synced", external_id="4242")
    task_queue.drain()
    with django_capture_on_commit_callbacks(execute=True):
        lines_apply(connection=shopify_connection, lines=iter([line("2025-05-02T10:00:00Z", "King")]))
    assert CustomerSync.objects.get(customer=customer).status == CustomerSync.Status.PENDING
    pushes = [t for t in task_queue.drain() if t["func"] == "netsuite.tasks.push_changed_customers"]
    assert [t["kwargs"]["customer_pks"] for t in pushes] == [[customer.pk]]


@pytest.fixture
def refused_shop(db) -> ShopifyConnection:
    """An active shop created before the sandbox's one whose token Shopify refuses (the sandbox answers 401)."""
    return ShopifyConnection.objects.create(shop_domain="refused-shop.myshopify.com", access_token="shpat_revoked")


@pytest.mark.django_db
def test_a_shop_that_refuses_the_token_does_not_keep_the_next_shop_from_reconciling(
    refused_shop, sandbox_connection, shopify_sandbox
):
    refused_shop.api_url = shopify_sandbox.admin_api_url
    refused_shop.save()
    assert refused_shop.pk < sandbox_connection.pk  # the refused shop comes first
    shopify_sandbox.seed_customers(2)
    with pytest.raises(ShopifyError) as failure:
        tasks.reconcile()
    assert failure.value.code == UNAUTHORIZED
    assert "refused-shop.myshopify.com: stopped" in failure.value.message and "2 applied" in failure.value.message
    assert len(shopify_ids()) == 2
    runs = JobRun.objects.filter(job="reconcile_shopify").order_by("pk")
    assert [r.status for r in runs] == [JobRun.Status.FAILED, JobRun.Status.DONE]


@pytest.mark.django_db
def test_the_command_reconciles_every_shop_and_then_reports_the_one_that_failed(
    refused_shop, sandbox_connection, shopify_sandbox, capsys
):
    refused_shop.api_url = shopify_sandbox.admin_api_url
    refused_shop.save()
    shopify_sandbox.seed_customers(2)
    with pytest.raises(CommandError, match=r"refused-shop\.myshopify\.com: reconciliation stopped"):
        call_command("reconcile_shopify")
    assert "2 applied" in capsys.readouterr().out
    assert len(shopify_ids()) == 2
