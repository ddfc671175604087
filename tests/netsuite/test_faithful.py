"""The connector against NetSuite's documented behaviour: address books, foreign external IDs, slots held while
NetSuite works, and messages that say what happened."""

from __future__ import annotations

import pytest

from customers.models import Address, Customer, CustomerSync, SyncLog
from netsuite import services
from netsuite.models import NetSuiteConnection, RemoteCustomer
from netsuite_sandbox import NetSuiteSandbox

pytestmark = pytest.mark.django_db


def push(connection: NetSuiteConnection, *customers: Customer) -> services.PushReport:
    return services.customers_push(connection=connection, customer_pks=[c.pk for c in customers], trigger="on_demand")


def book(sandbox: NetSuiteSandbox, customer: Customer) -> list[tuple]:
    [record] = sandbox.customers_by_external_id(customer.customer_id)
    return sorted(
        (i["label"], i["addressBookAddress"].get("addr1"), i["addressBookAddress"].get("city"))
        for i in record["addressBook"]["items"]
    )


def local_book(customer: Customer) -> list[tuple]:
    return sorted((a.label, a.line1, a.city) for a in Address.objects.filter(customer=customer))


@pytest.mark.parametrize("mode", ["drop", "hold"])
def test_a_customer_updated_three_times_and_retried_after_timeouts_has_exactly_its_own_addresses(
    connection, make_customer, netsuite_sandbox, mode
):
    connection.request_timeout = 1
    connection.save()
    customer = make_customer()
    Address.objects.create(customer=customer, label="Warehouse", line1="9 Dock Rd", city="Gary", state="IN", zip="1")
    for round_no in range(3):
        # Each push's first write is done by NetSuite but its answer is lost: the push repeats it.
        netsuite_sandbox.configure(timeout_after_commit=1, timeout_mode=mode, hold_seconds=1.5)
        Address.objects.filter(customer=customer, label="Home").update(line1=f"{round_no} Main St")
        Customer.objects.filter(pk=customer.pk).update(email=f"round{round_no}@example.com")
        assert push(connection, customer).results[customer.pk].ok
        assert book(netsuite_sandbox, customer) == local_book(customer)
    Address.objects.filter(customer=customer, label="Warehouse").delete()
    assert push(connection, customer).results[customer.pk].ok
    assert book(netsuite_sandbox, customer) == local_book(customer) == [("Home", "2 Main St", "Springfield")]
    assert netsuite_sandbox.count_customers() == 1


def test_a_pulled_customers_foreign_external_id_survives_a_push(connection, netsuite_sandbox):
    internal_id = netsuite_sandbox.create_customer(
        {"isPerson": True, "firstName": "Ada", "lastName": "Shopper", "subsidiary": {"id": "1"}}
    )
    netsuite_sandbox.set_external_id(internal_id, "shop.ify/77 A")  # set by another integration
    services.customers_pull(connection=connection, full=True)
    customer = Customer.objects.get()
    assert customer.customer_id != "shop.ify/77 A"  # not a valid portal ID: the customer got one of its own
    assert RemoteCustomer.objects.get(customer=customer).external_id == "shop.ify/77 A"

    Customer.objects.filter(pk=customer.pk).update(payment_term="Net 30", price_level="Base Price", phone="5551234567")
    Address.objects.create(customer=customer, label="Home", line1="1 Main St", city="Springfield", state="IL", zip="1")
    report = push(connection, Customer.objects.get())

    assert report.results[customer.pk].ok
    record = netsuite_sandbox.customer(internal_id)
    assert record["externalId"] == "shop.ify/77 A"
    assert record["phone"] == "5551234567"
    assert netsuite_sandbox.count_customers() == 1
    assert netsuite_sandbox.stats["requests_by_route"].get("PUT /record/v1/customer/eid:{externalId}", 0) == 0


@pytest.mark.django_db(transaction=True)
def test_the_share_holds_when_the_client_gives_up_before_netsuite_is_done(connection, make_customer, netsuite_sandbox):
    connection.concurrency_share = 3
    connection.request_timeout = 1
    connection.save()
    # Every request takes NetSuite longer than the portal waits; NetSuite refuses a 4th at once with 429.
    netsuite_sandbox.configure(latency_ms=1300, concurrency_limit=3)
    customers = [make_customer() for _ in range(4)]
    report = push(connection, *customers)

    stats = netsuite_sandbox.stats
    assert stats["peak_in_flight"] <= 3
    assert "429" not in stats["responses_by_status"]
    # NetSuite did every write once (the retries upsert the same records); the portal heard no answer in time.
    assert netsuite_sandbox.count_customers() == 4
    assert not netsuite_sandbox.duplicates()["email"]
    assert {r.error_code for r in report.results.values()} == {"TIMEOUT"}
    assert "may still do the request" in report.results[customers[0].pk].message


def test_a_connection_dropped_after_netsuite_saved_says_so(connection, make_customer, netsuite_sandbox):
    connection.request_timeout = 1
    connection.save()
    netsuite_sandbox.configure(timeout_after_commit=4, timeout_mode="drop")
    customer = make_customer()
    push(connection, customer)

    log = SyncLog.objects.get(customer=customer)
    assert log.error_code == "CONNECTION_DROPPED"
    assert "after the request was sent" in log.message
    assert "Could not connect" not in log.message
    assert netsuite_sandbox.count_customers() == 1


def test_no_connection_at_all_says_nothing_was_sent(connection, make_customer):
    connection.base_url = "http://127.0.0.1:9/services/rest"
    connection.save()
    customer = make_customer()
    push(connection, customer)
    log = SyncLog.objects.get(customer=customer)
    assert log.error_code == "NETWORK_ERROR"
    assert "nothing was sent" in log.message


def test_netsuites_unexpected_error_keeps_its_code_and_the_portals_own_errors_have_another(
    connection, make_customer, netsuite_sandbox, monkeypatch
):
    netsuite_sandbox.configure(fail_next=100)
    theirs = make_customer()
    push(connection, theirs)
    assert SyncLog.objects.get(customer=theirs).error_code == "UNEXPECTED_ERROR"

    netsuite_sandbox.configure(fail_next=0)
    from netsuite.client import NetSuiteClient

    def broken(*args, **kwargs):
        raise KeyError("internal")

    monkeypatch.setattr(NetSuiteClient, "upsert_customer", broken)
    ours = make_customer()
    push(connection, ours)
    log = SyncLog.objects.get(customer=ours)
    assert log.error_code == services.PORTAL_INTERNAL_ERROR
    assert "The portal failed" in log.message
    assert CustomerSync.objects.get(customer=ours).last_error_code == services.PORTAL_INTERNAL_ERROR


def test_test_connection_tries_a_transient_503_again(connection, netsuite_sandbox):
    netsuite_sandbox.configure(fail_next=1, error_status=503)
    check = services.connection_test(connection=connection)
    assert check.ok, check.message
    assert netsuite_sandbox.stats["responses_by_status"] == {"503": 1, "200": 1}
