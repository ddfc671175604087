"""Bulk loads: new customers in asynchronous batches of up to 100, bound or failed one by one as single writes are."""

from __future__ import annotations

import pytest

from customers.models import Customer, CustomerSync, SyncLog
from netsuite import tasks
from netsuite.models import BatchJob, NetSuiteConnection, PushClaim
from netsuite_sandbox import NetSuiteSandbox

pytestmark = pytest.mark.django_db

BATCH_ROUTE = "PUT /record/v1/customer"
SINGLE_ROUTE = "PUT /record/v1/customer/eid:{externalId}"


@pytest.fixture
def bulk(connection: NetSuiteConnection) -> NetSuiteConnection:
    connection.batch_threshold = 10
    connection.save()
    return connection


def routes(sandbox: NetSuiteSandbox) -> dict[str, int]:
    return sandbox.stats["requests_by_route"]


def test_a_bulk_load_goes_in_batches_and_each_customer_is_bound_or_failed(bulk, make_customer, netsuite_sandbox):
    good = [make_customer() for _ in range(230)]
    refused = make_customer(phone="12")  # NetSuite refuses it: its failure comes from its batch task
    invalid = make_customer(price_level="")  # never sent
    tasks.push_customers()

    assert routes(netsuite_sandbox)[BATCH_ROUTE] == 3  # 231 customers to send: batches of 100, 100, 31
    assert SINGLE_ROUTE not in routes(netsuite_sandbox)
    assert netsuite_sandbox.count_customers() == 230
    for customer in good:
        sync = CustomerSync.objects.get(customer=customer)
        [record] = netsuite_sandbox.customers_by_external_id(customer.customer_id)
        assert (sync.status, sync.external_id) == ("synced", record["id"])
        assert [i["label"] for i in record["addressBook"]["items"]] == ["Home"]
    failure = SyncLog.objects.get(customer=refused)
    assert (failure.outcome, failure.error_code) == ("failed", "USER_ERROR")
    assert "seven digits" in failure.message
    assert SyncLog.objects.get(customer=invalid).error_code == "MISSING_PRICE_LEVEL"
    # Results read: the batches and their claims are gone; few requests beyond the batches themselves.
    assert not BatchJob.objects.exists() and not PushClaim.objects.exists()
    stats = netsuite_sandbox.stats
    assert stats["total_requests"] <= 3 + 10, stats["requests_by_route"]
    assert stats["async_jobs_created"] == 3


def test_a_batch_whose_answer_was_lost_is_sent_again_with_its_key_and_read_from_the_first_job(
    bulk, make_customer, netsuite_sandbox
):
    bulk.request_timeout = 1
    bulk.save()
    customers = [make_customer() for _ in range(40)]
    netsuite_sandbox.configure(timeout_after_commit=1, timeout_mode="drop")
    tasks.push_customers()

    stats = netsuite_sandbox.stats
    assert stats["async_jobs_created"] == 1
    assert stats["responses_by_status"]["400"] == 1  # IDEMPOTENCY_ERROR: the job the lost answer would have named
    assert netsuite_sandbox.count_customers() == 40
    assert set(CustomerSync.objects.filter(customer__in=customers).values_list("status", flat=True)) == {"synced"}
    assert not BatchJob.objects.exists()


def test_linked_customers_of_a_bulk_run_are_updated_one_by_one(bulk, make_customer, netsuite_sandbox):
    customers = [make_customer() for _ in range(12)]
    tasks.push_customers()
    netsuite_sandbox.reset_stats()
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(email="new@example.com")
    for customer in customers:
        customer.refresh_from_db()
        customer.save()
    tasks.push_customers()
    assert routes(netsuite_sandbox) == {"PATCH /record/v1/customer/{id}": 12}


def test_a_small_run_stays_per_record(bulk, make_customer, netsuite_sandbox):
    [make_customer() for _ in range(5)]
    tasks.push_customers()
    assert routes(netsuite_sandbox) == {SINGLE_ROUTE: 5}


def test_parent_companies_are_batched_before_their_sub_customers(bulk, make_customer, netsuite_sandbox):
    parents = [
        make_customer(party_type="company", company_name=f"Co {n}", first_name="", last_name="", segment="b2b")
        for n in range(6)
    ]
    children = [make_customer(parent=p, segment="b2b") for p in parents for _ in range(2)]
    tasks.push_customers()
    assert routes(netsuite_sandbox)[BATCH_ROUTE] == 2
    for child in children:
        [record] = netsuite_sandbox.customers_by_external_id(child.customer_id)
        [parent] = netsuite_sandbox.customers_by_external_id(child.parent.customer_id)
        assert record["parent"]["id"] == parent["id"]
