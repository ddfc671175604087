"""From Shopify to NetSuite: both sandboxes over HTTP, the portal's webhook endpoint live, the REST push as it is."""

from __future__ import annotations

import time

import pytest

from customers.models import SHOPIFY_CUST_ID, Contact, Customer, CustomerSync, PartyIdentification, SyncFailure
from shopify.mapping import SHOPIFY_COMPANY_ID
from shopify.models import InboxEvent
from shopify.services import subscriptions_create


@pytest.fixture
def live_shop(shopify_connection, shopify_sandbox, live_server, connection):
    """The sandbox shop subscribed to the live portal; the NetSuite connection pushes on change."""
    connection.push_on_change = True
    connection.save()
    shopify_connection.shop_domain = shopify_sandbox.shop_domain
    shopify_connection.api_url = shopify_sandbox.admin_api_url
    shopify_connection.access_token = shopify_sandbox.access_token
    shopify_connection.client_secret = shopify_sandbox.client_secret
    shopify_connection.webhook_url = f"{live_server.url}/api/shopify/webhooks"
    shopify_connection.save()
    subscriptions_create(connection=shopify_connection)
    return shopify_sandbox


def settle(shop, run_queued, deliveries: int) -> list[str]:
    """Wait for the deliveries, then run what they queued until every delivery kept in the inbox is applied (a
    delivery that lands while the queue is drained queues its task after the drain)."""
    shop.wait_for_deliveries(deliveries)
    shop.wait_idle()
    ran = run_queued()
    deadline = time.monotonic() + 20
    while InboxEvent.objects.filter(status=InboxEvent.Status.RECEIVED).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
        ran += run_queued()
    return ran


@pytest.mark.django_db(transaction=True)
def test_a_company_with_two_locations_and_three_contacts_reaches_netsuite_parent_first_with_its_contacts(
    live_shop, run_queued, netsuite_sandbox
):
    from django.db import connection

    if connection.vendor == "sqlite":
        # The live server shares the test's one in-memory SQLite connection among its threads; nine deliveries at
        # once through it lose one now and then (a thread-sharing error, never seen with a database per thread).
        pytest.skip("concurrent deliveries to the live server need a database per thread: run on PostgreSQL")
    store = live_shop.store
    company = store.create_company(**store.fake_company(locations=2, contacts=3))
    # companies/create, 2 x company_locations/create, 3 x (customers/create + company_contacts/create)
    ran = settle(live_shop, run_queued, 9)
    # Every delivery kept and settled: applied, or older than (or already in) what the portal holds.
    done = (InboxEvent.Status.APPLIED, InboxEvent.Status.STALE, InboxEvent.Status.IGNORED)
    assert InboxEvent.objects.count() == 9 and not InboxEvent.objects.exclude(status__in=done).exists()
    assert "netsuite.tasks.push_changed_customers" in ran

    parent = PartyIdentification.objects.get(type=SHOPIFY_COMPANY_ID, value=str(company["id"])).customer
    locations = list(Customer.objects.filter(parent=parent))
    assert len(locations) == 2
    assert Contact.objects.filter(customer=parent).exclude(email="").count() == 3

    in_netsuite = netsuite_sandbox.store.get_by_external_id(parent.customer_id)
    assert in_netsuite is not None and in_netsuite["isperson"] == "F"
    assert in_netsuite["companyname"] == company["name"]
    for location in locations:
        row = netsuite_sandbox.store.get_by_external_id(location.customer_id)
        assert row is not None, f"{location} is not in NetSuite"
        assert row["parent"] == in_netsuite["id"]
    assert CustomerSync.objects.get(customer=parent).status == CustomerSync.Status.SYNCED
    for customer in (parent, *locations):
        assert netsuite_sandbox.count_customers(external_id=customer.customer_id) == 1
    # Its three contacts are NetSuite contact records attached to the parent, once each.
    contacts = netsuite_sandbox.contacts_of(int(in_netsuite["id"]))
    portal_contacts = Contact.objects.filter(customer=parent)
    assert sorted(c["externalId"] for c in contacts) == sorted(portal_contacts.values_list("contact_id", flat=True))
    assert sorted(c["email"] for c in contacts) == sorted(portal_contacts.values_list("email", flat=True))
    assert not SyncFailure.objects.filter(record_type="contact", resolved_at=None).exists()


@pytest.mark.django_db(transaction=True)
def test_a_customer_update_in_shopify_is_pushed_again(live_shop, run_queued, netsuite_sandbox):
    customer = live_shop.create_customer(**live_shop.store.fake_person())
    settle(live_shop, run_queued, 1)
    portal = PartyIdentification.objects.get(type=SHOPIFY_CUST_ID, value=str(customer["id"])).customer
    assert netsuite_sandbox.store.get_by_external_id(portal.customer_id)["email"] == customer["email"]

    live_shop.update_customer(customer["id"], email="changed@example.com")
    settle(live_shop, run_queued, 2)
    assert netsuite_sandbox.store.get_by_external_id(portal.customer_id)["email"] == "changed@example.com"
    assert netsuite_sandbox.count_customers(external_id=portal.customer_id) == 1
