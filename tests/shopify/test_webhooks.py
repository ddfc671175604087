"""Webhooks as Shopify sends them: verified, kept in the inbox, acknowledged, and applied once on the cluster."""

from __future__ import annotations

import pytest

from customers.models import (
    SHOPIFY_CUST_ID,
    Address,
    Contact,
    Customer,
    CustomerSync,
    PartyIdentification,
    SyncFailure,
)
from shopify.mapping import SHOPIFY_COMPANY_ID, SHOPIFY_COMPANY_LOCATION_ID
from shopify.models import InboxEvent, ShopifyRecord
from shopify.services import inbox_process

from .conftest import payload, run_task, signature

pytestmark = pytest.mark.django_db

BOB = "7064055069303"


def bob() -> Customer:
    return PartyIdentification.objects.get(type=SHOPIFY_CUST_ID, value=BOB).customer


def test_create_is_acknowledged_at_once_then_applied_by_the_queued_task(shopify_connection, deliver, run_queued):
    response = deliver("customers-create.json", "customers/create")
    assert response.status_code == 200
    event = InboxEvent.objects.get()
    assert event.status == InboxEvent.Status.RECEIVED and event.body == payload("customers-create.json").decode()
    assert not Customer.objects.exists()  # nothing applied inside the request

    assert "shopify.tasks.process_inbox" in run_queued()
    event.refresh_from_db()
    assert event.status == InboxEvent.Status.APPLIED and event.attempts == 1
    customer = bob()
    assert (customer.first_name, customer.last_name, customer.email) == ("Bob", "Biller", "bob@biller.example")
    assert customer.party_type == "person" and customer.segment == "b2c" and customer.is_active
    # New customers get the connection's commercial defaults and its target connectors.
    assert (customer.payment_term, customer.price_level, customer.subsidiary) == (
        "Net 30",
        "Base Price",
        "Parent Company",
    )
    assert CustomerSync.objects.get(customer=customer).status == CustomerSync.Status.PENDING
    address = customer.addresses.get()
    assert (address.label, address.city, address.state, address.zip, address.country) == (
        "Default", "Ottawa", "ON", "K2P 2L8", "CA"
    )  # fmt: skip
    assert customer.is_valid, customer.problems


def test_update_changes_the_customer_and_its_addresses(shopify_connection, deliver, run_queued):
    deliver("customers-create.json", "customers/create")
    deliver("customers-update.json", "customers/update")
    run_queued()
    customer = bob()
    assert (customer.last_name, customer.email) == ("Biller-Smith", "bob.smith@biller.example")
    assert list(customer.addresses.values_list("label", "line1")) == [
        ("Default", "151 O'Connor Street"),
        ("Address 2", "1 Rideau Street"),
    ]
    assert Customer.objects.count() == 1


def test_a_duplicate_delivery_is_acknowledged_and_ignored(shopify_connection, deliver, run_queued):
    first = deliver("customers-create.json", "customers/create", event_id="evt-1")
    again = deliver("customers-create.json", "customers/create", event_id="evt-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert b"Duplicate" in again.content
    assert InboxEvent.objects.count() == 1
    assert run_queued().count("shopify.tasks.process_inbox") == 1
    assert Customer.objects.count() == 1


def test_one_event_id_on_deliveries_of_two_topics_keeps_both(shopify_connection, deliver, run_queued):
    # One merchant action (an update that also disables the account) may share its event ID among its topics.
    update = deliver("customers-update.json", "customers/update", event_id="evt-7")
    disable = deliver("customers-disable.json", "customers/disable", event_id="evt-7")
    assert b"Duplicate" not in update.content and b"Duplicate" not in disable.content
    assert sorted(InboxEvent.objects.values_list("topic", flat=True)) == ["customers/disable", "customers/update"]
    run_queued()
    assert not bob().is_active


def test_an_older_update_arriving_late_changes_nothing(shopify_connection, deliver, run_queued):
    deliver("customers-create.json", "customers/create")
    deliver("customers-update.json", "customers/update")
    run_queued()
    deliver("customers-update-older.json", "customers/update")
    run_queued()
    late = InboxEvent.objects.get(body=payload("customers-update-older.json").decode())
    assert late.status == InboxEvent.Status.STALE
    assert "newer change" in late.reason
    assert bob().last_name == "Biller-Smith"


def test_out_of_order_delivery_keeps_the_newest(shopify_connection, deliver, run_queued):
    deliver("customers-update.json", "customers/update")  # the update overtakes the create
    deliver("customers-create.json", "customers/create")
    run_queued()
    assert bob().last_name == "Biller-Smith"
    statuses = sorted(InboxEvent.objects.values_list("topic", "status"))
    assert statuses == [("customers/create", "stale"), ("customers/update", "applied")]


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "tampered body", "no signature"],
)
def test_a_forged_signature_is_refused_and_nothing_is_kept(shopify_connection, deliver, how):
    body = payload("customers-create.json")
    if how == "wrong secret":
        response = deliver(body, "customers/create", secret="not-the-secret")
    elif how == "tampered body":
        response = deliver(body.replace(b"Biller", b"Forged"), "customers/create", hmac_header=signature(body))
    else:
        response = deliver(body, "customers/create", hmac_header="")
    assert response.status_code == 401
    assert not InboxEvent.objects.exists()


def test_an_unknown_shop_is_refused(shopify_connection, deliver):
    response = deliver("customers-create.json", "customers/create", shop="someone-else.myshopify.com")
    assert response.status_code == 401
    assert not InboxEvent.objects.exists()


def test_during_a_rotation_the_previous_secret_is_accepted(shopify_connection, deliver):
    shopify_connection.client_secret = "the-new-secret"
    shopify_connection.previous_client_secret = "fixture-client-secret"
    shopify_connection.save()
    signed_old = deliver("customers-create.json", "customers/create", secret="fixture-client-secret")
    signed_new = deliver("customers-update.json", "customers/update", secret="the-new-secret")
    assert (signed_old.status_code, signed_new.status_code) == (200, 200)
    shopify_connection.previous_client_secret = ""
    shopify_connection.save()
    after = deliver("customers-update-older.json", "customers/update", secret="fixture-client-secret")
    assert after.status_code == 401
    assert InboxEvent.objects.count() == 2


def test_delete_deactivates_and_keeps_every_link(shopify_connection, deliver, run_queued):
    deliver("customers-create.json", "customers/create")
    run_queued()
    CustomerSync.objects.filter(customer=bob()).update(status="synced", external_id="8812")
    deliver("customers-delete.json", "customers/delete")
    run_queued()
    customer = bob()
    assert not customer.is_active
    assert customer.addresses.count() == 1
    assert CustomerSync.objects.get(customer=customer).external_id == "8812"
    assert ShopifyRecord.objects.get(kind="customer", shopify_id=BOB).deleted_at is not None
    # Nothing revives a deleted customer: an update delivered late is stale.
    deliver("customers-update.json", "customers/update")
    run_queued()
    assert not bob().is_active
    assert InboxEvent.objects.filter(status="stale").count() == 1


def test_disable_deactivates_an_account_that_was_enabled(shopify_connection, deliver, run_queued):
    deliver("customers-create.json", "customers/create")  # state disabled: a guest, active in the portal
    run_queued()
    assert bob().is_active
    deliver("customers-update.json", "customers/update")  # enabled
    deliver("customers-disable.json", "customers/disable")
    run_queued()
    assert not bob().is_active


@pytest.mark.parametrize(
    "fixture, reason",
    [
        ("customers-create-without-id.json", "has no Shopify ID"),
        ("customers-update-truncated.txt", "is not JSON"),
    ],
)
def test_an_unreadable_payload_is_kept_with_its_reason_and_queued_for_operators(
    shopify_connection, deliver, run_queued, fixture, reason
):
    assert deliver(fixture, "customers/update").status_code == 200
    run_queued()
    event = InboxEvent.objects.get()
    assert event.status == InboxEvent.Status.UNREADABLE
    assert reason in event.reason and event.body == payload(fixture).decode()
    failure = SyncFailure.objects.get()
    assert failure.error_code == "SHOPIFY_PAYLOAD_UNREADABLE" and failure.resolved_at is None
    assert failure.external_system.transport == "source"  # queued under the shop, not under a NetSuite connector
    assert not Customer.objects.exists()


def test_processing_twice_applies_once(shopify_connection, deliver, run_queued):
    deliver("customers-create.json", "customers/create")
    event = InboxEvent.objects.get()
    first = inbox_process(event_pk=event.pk)
    second = inbox_process(event_pk=event.pk)
    assert "Applied" in first and "done already" in second
    event.refresh_from_db()
    assert event.attempts == 1


def test_a_company_with_two_locations_and_three_contacts_in_any_order(shopify_connection, deliver, run_queued):
    # Locations and contacts first: each embeds its company, which is applied from it.
    deliver("company-locations-create-toronto.json", "company_locations/create")
    deliver("company-contacts-create-claire.json", "company_contacts/create")
    deliver("companies-create.json", "companies/create")
    deliver("company-locations-create-montreal.json", "company_locations/create")
    for name in ("claire", "omar", "mei"):
        deliver(f"customers-create-buyer-{name}.json", "customers/create")
    deliver("company-contacts-create-omar.json", "company_contacts/create")
    deliver("company-contacts-create-mei.json", "company_contacts/create")
    run_queued()

    assert not InboxEvent.objects.exclude(status__in=["applied", "stale"]).exists()
    company = PartyIdentification.objects.get(type=SHOPIFY_COMPANY_ID, value="5100000001").customer
    assert (company.party_type, company.segment, company.company_name) == ("company", "b2b", "Maple Leaf Outfitters")
    locations = Customer.objects.filter(parent=company).order_by("company_name")
    assert [c.company_name for c in locations] == ["Montreal head office", "Toronto warehouse"]
    toronto = PartyIdentification.objects.get(type=SHOPIFY_COMPANY_LOCATION_ID, value="5200000002").customer
    assert list(toronto.addresses.values_list("label", "city", "is_default_billing", "is_default_shipping")) == [
        ("Billing", "Toronto", True, False),
        ("Shipping", "Mississauga", False, True),
    ]
    # The company carries its oldest location's billing address (NetSuite wants one on the parent): Montreal's
    # (the lowest Shopify ID), though Toronto's webhook came first.
    assert list(company.addresses.values_list("label", "city")) == [("Billing", "Montreal")]
    contacts = Contact.objects.filter(customer=company).order_by("first_name")
    assert [(c.first_name, c.email, c.role) for c in contacts] == [
        ("Claire", "claire@mapleleaf.example", "Buyer"),
        ("Mei", "mei@mapleleaf.example", "Buyer"),
        ("Omar", "omar@mapleleaf.example", "Buyer"),
    ]
    buyers = Customer.objects.filter(first_name__in=["Claire", "Omar", "Mei"])
    assert set(buyers.values_list("segment", flat=True)) == {"b2b"}
    assert company.is_valid and toronto.is_valid, (company.problems, toronto.problems)
    assert Address.objects.filter(customer=company).count() == 1


def test_a_company_with_one_location_gets_its_billing_address(shopify_connection, deliver, run_queued):
    deliver("company-locations-create-montreal.json", "company_locations/create")
    run_queued()
    company = PartyIdentification.objects.get(type=SHOPIFY_COMPANY_ID, value="5100000001").customer
    assert list(company.addresses.values_list("label", "city", "is_default_billing")) == [("Billing", "Montreal", True)]
    location = Customer.objects.get(parent=company)
    assert list(location.addresses.values_list("label", "is_default_billing", "is_default_shipping")) == [
        ("Billing and shipping", True, True)
    ]


def test_a_new_contact_of_a_company_already_in_netsuite_makes_the_company_due_again(
    shopify_connection, deliver, run_queued, connection
):
    from django.utils import timezone

    from netsuite.selectors import customer_pks_due_for_push

    deliver("companies-create.json", "companies/create")
    deliver("customers-create-buyer-claire.json", "customers/create")
    deliver("company-contacts-create-claire.json", "company_contacts/create")
    run_queued()
    company = PartyIdentification.objects.get(type=SHOPIFY_COMPANY_ID, value="5100000001").customer
    # As a push leaves it: in NetSuite, nothing changed since.
    CustomerSync.objects.filter(customer=company, external_system=connection.external_system).update(
        status=CustomerSync.Status.SYNCED, external_id="901", last_synced_at=timezone.now()
    )
    assert company.pk not in customer_pks_due_for_push(connection=connection)

    # Only the contact is new: the company is sent again, and its contacts with it.
    deliver("customers-create-buyer-mei.json", "customers/create")
    deliver("company-contacts-create-mei.json", "company_contacts/create")
    run_queued()
    assert Contact.objects.filter(customer=company).count() == 2
    assert company.pk in customer_pks_due_for_push(connection=connection)


def test_a_burst_of_deliveries_queues_one_drain_which_gives_each_entry_its_own_outcome(
    shopify_connection, deliver, run_queued, task_queue
):
    deliver("customers-update.json", "customers/update")
    deliver("customers-update-older.json", "customers/update")  # older than the one before it
    deliver("customers-create-without-id.json", "customers/update")  # unreadable
    deliver("customers-create-buyer-claire.json", "customers/create")
    queued = task_queue.drain()
    assert [t["func"] for t in queued] == ["shopify.tasks.process_inbox"]  # one task for the four

    run_task(queued[0])
    statuses = dict(InboxEvent.objects.values_list("body", "status"))
    assert [statuses[payload(name).decode()] for name in (
        "customers-update.json", "customers-update-older.json", "customers-create-without-id.json",
        "customers-create-buyer-claire.json",
    )] == ["applied", "stale", "unreadable", "applied"]  # fmt: skip
    assert bob().is_active and Customer.objects.filter(first_name="Claire").exists()
    # Once the drain has started, the next delivery queues the next drain.
    deliver("customers-disable.json", "customers/disable")
    assert "shopify.tasks.process_inbox" in run_queued()
    assert not bob().is_active


def test_an_entry_that_breaks_its_batch_is_applied_alone_and_the_others_still_are(
    shopify_connection, deliver, run_queued, monkeypatch
):
    from shopify.services import inbox

    real = inbox.shopify_objects_apply

    def breaks_on_claire(*, connection, objects):
        if any(getattr(o, "first_name", "") == "Claire" for o in objects):
            raise RuntimeError("a bug met by this payload only")
        return real(connection=connection, objects=objects)

    monkeypatch.setattr(inbox, "shopify_objects_apply", breaks_on_claire)
    deliver("customers-update.json", "customers/update")
    deliver("customers-create-buyer-claire.json", "customers/create")
    run_queued()
    events = {e.topic: e for e in InboxEvent.objects.all()}
    assert events["customers/update"].status == "applied" and bob()
    broken = events["customers/create"]
    assert broken.status == "failed" and "a bug met by this payload only" in broken.reason


def _claire_clones(count: int, start: int) -> list[bytes]:
    """customers/create payloads of ``count`` new customers shaped like the Claire fixture (own IDs and emails)."""
    import json

    base = json.loads(payload("customers-create-buyer-claire.json"))
    bodies = []
    for n in range(start, start + count):
        clone = {**base, "id": 7200000000 + n, "email": f"buyer{n}@mapleleaf.example",
                 "admin_graphql_api_id": f"gid://shopify/Customer/{7200000000 + n}"}  # fmt: skip
        clone["addresses"] = [{**a, "id": 8200000000 + n, "customer_id": clone["id"]} for a in base["addresses"]]
        bodies.append(json.dumps(clone).encode())
    return bodies


def test_a_drain_writes_its_batch_set_based(shopify_connection, deliver, task_queue):
    """The entries' outcomes and what they came to are written per batch, not per entry: a batch of 40 takes no
    more queries than a batch of 5 (and is all applied)."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    def drain_queries(bodies: list[bytes]) -> int:
        for body in bodies:
            deliver(body, "customers/create")
        queued = task_queue.drain()
        with CaptureQueriesContext(db) as ran:
            run_task(queued[0])
        return len(ran.captured_queries)

    small = drain_queries(_claire_clones(5, 0))
    large = drain_queries(_claire_clones(40, 100))
    assert InboxEvent.objects.filter(status="applied").count() == 45
    assert Customer.objects.filter(first_name="Claire").count() == 45
    assert large <= small + 5, f"a batch of 40 took {large} queries, one of 5 took {small}"


def test_a_drain_waits_for_a_burst_to_fill_its_next_batch_but_not_for_a_lone_delivery(
    shopify_connection, deliver, task_queue, monkeypatch
):
    from shopify.services import inbox

    slept: list[float] = []
    monkeypatch.setattr(inbox.time, "sleep", slept.append)
    first, second = _claire_clones(2, 500)
    deliver(first, "customers/create")
    run_task(task_queue.drain()[0])
    assert slept == [] and InboxEvent.objects.get().status == "applied"  # a lone delivery: applied, no wait

    real = inbox.inbox_process_batch
    arrivals = [second]

    def a_delivery_arrives_meanwhile(**kwargs):
        taken = real(**kwargs)
        if arrivals:
            deliver(arrivals.pop(), "customers/create")
        return taken

    monkeypatch.setattr(inbox, "inbox_process_batch", a_delivery_arrives_meanwhile)
    deliver(_claire_clones(1, 600)[0], "customers/create")
    run_task(task_queue.drain()[0])
    assert slept == [inbox.LINGER_SECONDS]  # the burst goes on: the next batch waited to fill up
    assert InboxEvent.objects.filter(status="applied").count() == 3
