"""Pushing customers to the sandbox over HTTP: bind, log, retry, parents first, concurrency share."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from customers.dispatch import customers_sync_now
from customers.models import Address, Customer, CustomerSync, PartyIdentification, SyncFailure, SyncLog
from customers.services import customers_find_by_ids
from jobs.models import JobRun
from netsuite import services, tasks
from netsuite.models import NetSuiteConnection, PushClaim
from netsuite_sandbox import NetSuiteSandbox

pytestmark = pytest.mark.django_db


def push(connection: NetSuiteConnection, *customers: Customer, trigger: str = "on_demand") -> services.PushReport:
    return services.customers_push(connection=connection, customer_pks=[c.pk for c in customers], trigger=trigger)


def only_in_netsuite(sandbox: NetSuiteSandbox, customer: Customer) -> dict:
    found = sandbox.customers_by_external_id(customer.customer_id)
    assert len(found) == 1, found
    return found[0]


def test_push_upserts_binds_the_internal_id_and_logs_success(connection, make_customer, netsuite_sandbox):
    customer = make_customer()
    report = push(connection, customer)

    record = only_in_netsuite(netsuite_sandbox, customer)
    assert report.results[customer.pk].ok
    assert report.results[customer.pk].external_id == record["id"]
    assert PartyIdentification.objects.get(customer=customer, type="NETSUITE_CUSTOMER_ID").value == record["id"]
    sync = CustomerSync.objects.get(customer=customer)
    assert (sync.status, sync.external_id) == ("synced", record["id"])
    assert sync.last_synced_at is not None
    log = SyncLog.objects.get(customer=customer)
    assert (log.outcome, log.operation, log.trigger) == ("success", "rest upsert", "on_demand")
    assert record["addressBook"]["items"][0]["label"] == "Home"
    assert record["terms"]["id"] == "2"


def test_second_push_updates_the_linked_record_by_internal_id(connection, make_customer, netsuite_sandbox):
    customer = make_customer()
    push(connection, customer)
    customer.email = "new@example.com"
    customer.save()
    report = push(connection, customer)

    assert report.results[customer.pk].ok
    assert only_in_netsuite(netsuite_sandbox, customer)["email"] == "new@example.com"
    assert netsuite_sandbox.stats["requests_by_route"]["PATCH /record/v1/customer/{id}"] == 1
    assert SyncLog.objects.filter(customer=customer, operation="rest update", outcome="success").count() == 1


def test_customer_pulled_without_external_id_gets_the_portal_id_not_a_duplicate(connection, netsuite_sandbox):
    internal_id = netsuite_sandbox.create_customer(
        {"isPerson": True, "firstName": "Ada", "lastName": "Old", "subsidiary": {"id": "1"}}
    )
    services.customers_pull(connection=connection, full=True)
    customer = Customer.objects.get()
    complete_for_push(customer)
    push(connection, customer)
    assert netsuite_sandbox.count_customers() == 1
    assert netsuite_sandbox.customer(internal_id)["externalId"] == customer.customer_id


def test_customer_linked_by_hand_is_updated_by_internal_id_and_its_external_id_left_alone(
    connection, make_customer, netsuite_sandbox
):
    internal_id = netsuite_sandbox.create_customer(
        {
            "externalId": "OTHER-SYSTEM-7",
            "isPerson": True,
            "firstName": "Ada",
            "lastName": "Old",
            "subsidiary": {"id": "1"},
        }
    )
    customer = make_customer()
    PartyIdentification.objects.create(customer=customer, type="NETSUITE_CUSTOMER_ID", value=str(internal_id))
    assert push(connection, customer).results[customer.pk].ok
    record = netsuite_sandbox.customer(internal_id)
    assert (record["externalId"], record["lastName"]) == ("OTHER-SYSTEM-7", customer.last_name)
    assert netsuite_sandbox.count_customers() == 1


def complete_for_push(customer: Customer) -> None:
    """Give a pulled customer what export validation asks for (NetSuite's pull brings no address or terms)."""
    Customer.objects.filter(pk=customer.pk).update(payment_term="Net 30", price_level="Base Price")
    Address.objects.create(
        customer=customer, label="Home", line1="1 Main St", city="Springfield", state="IL", zip="62701", country="US"
    )
    customer.refresh_from_db()


@pytest.mark.parametrize("mode", ["drop", "hold"])
def test_answer_lost_after_commit_leaves_one_customer_in_netsuite(connection, make_customer, netsuite_sandbox, mode):
    connection.request_timeout = 1
    connection.save()
    netsuite_sandbox.configure(timeout_after_commit=1, timeout_mode=mode, hold_seconds=3)
    customer = make_customer()
    report = push(connection, customer)

    assert report.results[customer.pk].ok
    record = only_in_netsuite(netsuite_sandbox, customer)
    assert CustomerSync.objects.get(customer=customer).external_id == record["id"]
    assert netsuite_sandbox.stats["requests_by_route"]["PUT /record/v1/customer/eid:{externalId}"] == 2
    assert netsuite_sandbox.stats["requests_by_route"].get("POST /record/v1/customer", 0) == 0


@pytest.mark.parametrize(
    ("faults", "code"),
    [
        ({"throttle_next": 100, "retry_after": 1}, "CONCURRENCY_LIMIT_EXCEEDED"),
        ({"fail_next": 100}, "UNEXPECTED_ERROR"),
    ],
)
def test_429_and_5xx_are_retried_then_logged_as_failed(connection, make_customer, netsuite_sandbox, faults, code):
    netsuite_sandbox.configure(**faults)
    customer = make_customer()
    report = push(connection, customer)

    assert not report.results[customer.pk].ok
    assert netsuite_sandbox.stats["total_requests"] == 4  # the first attempt and 3 retries
    log = SyncLog.objects.get(customer=customer)
    assert (log.outcome, log.error_code) == ("failed", code)
    assert SyncFailure.objects.get(customer=customer, resolved_at=None).occurrences == 1
    assert "Gave up after 4 attempts" in log.message
    sync = CustomerSync.objects.get(customer=customer)
    assert (sync.status, sync.last_error_code) == ("error", code)

    # Nothing is lost: the next scheduled run sends it again, and the success resolves the failure.
    netsuite_sandbox.configure(throttle_next=0, fail_next=0)
    tasks.push_customers()
    assert SyncFailure.objects.get(customer=customer).resolution == SyncFailure.Resolution.SUCCEEDED
    only_in_netsuite(netsuite_sandbox, customer)


@pytest.mark.parametrize(
    ("faults", "code", "words"),
    [
        ({"malformed": "no_location", "malformed_count": 1}, "MISSING_LOCATION", "did not return its internal ID"),
        ({"malformed": "json", "malformed_count": 1}, "MISSING_LOCATION", "did not return its internal ID"),
        ({"malformed": "html"}, "HTTP_502", "not a NetSuite error answer (text/html)"),
        ({"malformed": "unknown_error", "malformed_count": 1}, "SANDBOX_UNHEARD_OF_ERROR", "never seen"),
        ({"malformed": "empty", "malformed_count": 1}, "MISSING_LOCATION", "did not return its internal ID"),
    ],
)
def test_bad_answers_are_logged_clearly_and_nothing_is_lost(
    connection, make_customer, netsuite_sandbox, faults, code, words
):
    netsuite_sandbox.configure(**faults)
    customer = make_customer()
    push(connection, customer)

    log = SyncLog.objects.get(customer=customer)
    assert (log.outcome, log.error_code) == ("failed", code)
    assert words in log.message
    assert CustomerSync.objects.get(customer=customer).status == "error"

    netsuite_sandbox.configure(malformed=None)
    tasks.push_customers()
    record = only_in_netsuite(netsuite_sandbox, customer)
    assert CustomerSync.objects.get(customer=customer).external_id == record["id"]


def test_invalid_customer_is_not_sent_and_its_problems_are_the_error(connection, make_customer, netsuite_sandbox):
    customer = make_customer(address=False, price_level="")
    report = push(connection, customer)

    assert not report.results[customer.pk].ok
    assert netsuite_sandbox.stats["total_requests"] == 0
    log = SyncLog.objects.get(customer=customer)
    assert log.error_code == "MISSING_PRICE_LEVEL"  # the first problem names it, whichever connector meets it
    assert "Missing price level" in log.message
    assert "Incomplete address" in log.message


def test_value_without_mapping_is_not_sent(connection, make_customer, netsuite_sandbox):
    customer = make_customer(payment_term="Net 45")
    push(connection, customer)
    assert netsuite_sandbox.stats["total_requests"] == 0
    log = SyncLog.objects.get(customer=customer)
    assert log.error_code == "MAPPING_MISSING"
    assert "Payment term 'Net 45' has no NetSuite ID" in log.message


def test_netsuite_refusal_is_logged_with_its_detail(connection, make_customer, netsuite_sandbox):
    customer = make_customer(phone="12")
    push(connection, customer)
    log = SyncLog.objects.get(customer=customer)
    assert log.error_code == "USER_ERROR"
    assert "seven digits" in log.message


def test_parent_company_goes_first_when_a_sub_customer_is_pushed(connection, make_customer, netsuite_sandbox):
    parent = make_customer(party_type="company", company_name="Engines Ltd", segment="b2b", first_name="", last_name="")
    child = make_customer(parent=parent, segment="b2b")
    report = push(connection, child)

    assert report.results[parent.pk].ok and report.results[child.pk].ok
    parent_record = only_in_netsuite(netsuite_sandbox, parent)
    child_record = only_in_netsuite(netsuite_sandbox, child)
    assert child_record["parent"]["id"] == parent_record["id"]
    assert int(parent_record["id"]) < int(child_record["id"])
    assert SyncLog.objects.get(customer=parent).record_type == "company"


def test_sub_customer_waits_when_its_parent_cannot_be_sent(connection, make_customer, netsuite_sandbox):
    parent = make_customer(party_type="company", company_name="", first_name="", last_name="")
    child = make_customer(parent=parent)
    report = push(connection, child)

    assert not report.results[child.pk].ok
    assert netsuite_sandbox.stats["total_requests"] == 0
    log = SyncLog.objects.get(customer=child)
    assert log.error_code == "PARENT_NOT_IN_NETSUITE"
    assert parent.customer_id in log.message
    assert "Missing customer name" in log.message


def test_parent_missing_in_netsuite_is_explained(connection, make_customer, netsuite_sandbox):
    parent = make_customer(party_type="company", company_name="Gone Ltd", first_name="", last_name="")
    CustomerSync.objects.filter(customer=parent).update(external_id="999", status="synced")
    child = make_customer(parent=parent)
    push(connection, child)
    log = SyncLog.objects.get(customer=child)
    assert log.error_code == "NONEXISTENT_ID"
    assert "its parent company, is missing in NetSuite" in log.message


def test_scheduled_push_refuses_until_the_first_complete_pull(connection, make_customer, netsuite_sandbox):
    system = connection.external_system
    system.historical_import_completed_at = None
    system.save()
    make_customer()
    message = tasks.push_customers()

    assert "refused" in message
    assert "pulled once" in message
    assert netsuite_sandbox.stats["total_requests"] == 0
    assert JobRun.objects.get(job="push_customers").status == "refused"


def test_scheduled_push_sends_pending_and_changed_customers_only(connection, make_customer, netsuite_sandbox):
    sent, changed, untouched = make_customer(), make_customer(), make_customer()
    tasks.push_customers()
    assert netsuite_sandbox.count_customers() == 3

    netsuite_sandbox.reset_stats()
    Customer.objects.filter(pk=changed.pk).update(email="changed@example.com", modified_at=timezone.now())
    tasks.push_customers(trigger="on_demand")
    assert netsuite_sandbox.stats["total_requests"] == 1
    assert only_in_netsuite(netsuite_sandbox, changed)["email"] == "changed@example.com"
    assert {sent.pk, untouched.pk}.isdisjoint(
        SyncLog.objects.filter(trigger="on_demand").values_list("customer_id", flat=True)
    )
    run = JobRun.objects.filter(job="push_customers").first()
    assert (run.status, run.rows_done, run.trigger) == ("done", 1, "on_demand")


def test_customers_held_by_a_push_that_was_killed_are_named_not_skipped_silently(
    connection, make_customer, netsuite_sandbox
):
    free, held = make_customer(), make_customer()
    # As a worker killed mid-push leaves its claim until it expires.
    until = timezone.now() + timedelta(seconds=90)
    PushClaim.objects.create(connection=connection, customer=held, holder="killed-worker", expires_at=until)
    text = tasks.push_customers()

    assert netsuite_sandbox.count_customers() == 1 and only_in_netsuite(netsuite_sandbox, free)
    assert "1 customer(s) due were left out: another push holds them" in text
    assert f"another push holds them until {timezone.localtime(until):%H:%M:%S} (" in text
    run = JobRun.objects.filter(job="push_customers").first()
    assert "1 customer(s) due were left out" in run.state_message
    # Once the hold has ended the next run sends it.
    PushClaim.objects.filter(customer=held).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "left out" not in tasks.push_customers()
    assert netsuite_sandbox.count_customers() == 2


def test_a_push_that_gets_no_slot_after_a_killed_push_says_what_is_held_and_until_when(
    connection, make_customer, netsuite_sandbox, monkeypatch
):
    """Run now right after a worker was killed mid bulk load: its slots, claims and batches are still held, so the
    run gets no request slot; it says how many customers are held and until when, not that others took them."""
    import contextlib
    import uuid

    from netsuite.models import BatchJob
    from netsuite.services import runs

    in_batch, claimed = make_customer(), make_customer()
    until = timezone.now() + timedelta(seconds=60)
    key = uuid.uuid4()
    BatchJob.objects.create(
        connection=connection, idempotency_key=key, customers=[in_batch.pk], items=[], owner="killed", owner_until=until
    )
    PushClaim.objects.create(connection=connection, customer=in_batch, holder=str(key), expires_at=None)
    PushClaim.objects.create(
        connection=connection, customer=claimed, holder="killed", expires_at=until - timedelta(seconds=5)
    )

    @contextlib.contextmanager
    def no_slot(**kwargs):
        class Slots:
            held = 0

        yield Slots()

    monkeypatch.setattr(runs, "slots_for_run", no_slot)
    text = tasks.push_customers()
    assert "other workers took every pending customer" not in text
    assert "2 customer(s) due were left out: another push holds them" in text
    assert f"another push holds them until {timezone.localtime(until):%H:%M:%S} (" in text
    assert netsuite_sandbox.count_customers() == 0


def test_dispatch_handler_sends_by_record_id(connection, make_customer, netsuite_sandbox):
    customer = make_customer()
    found = customers_find_by_ids(ids=[customer.customer_id])
    results = customers_sync_now(
        customers=list(found.values()), external_system=connection.external_system, trigger="resync"
    )
    assert [r.ok for r in results] == [True]
    assert results[0].external_id == only_in_netsuite(netsuite_sandbox, customer)["id"]
    assert SyncLog.objects.get(customer=customer).trigger == "resync"


def test_dispatch_without_connection_says_what_to_do(netsuite_system, make_customer):
    customer = make_customer()
    results = customers_sync_now(customers=[customer], external_system=netsuite_system, trigger="resync")
    assert not results[0].ok
    assert results[0].error_code == "NO_CONNECTION"


def test_all_addresses_are_sent(connection, make_customer, netsuite_sandbox):
    customer = make_customer()
    Address.objects.create(
        customer=customer, label="Warehouse", line1="9 Dock Rd", city="Gary", state="IN", zip="46401"
    )
    push(connection, customer)
    items = only_in_netsuite(netsuite_sandbox, customer)["addressBook"]["items"]
    assert [i["label"] for i in items] == ["Home", "Warehouse"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_push_never_exceeds_the_concurrency_share(connection, make_customer, netsuite_sandbox):
    connection.concurrency_share = 3
    connection.batch_size = 7
    connection.save()
    # The sandbox refuses anything beyond 3 in flight with 429: none must be seen.
    netsuite_sandbox.configure(latency_ms=30, concurrency_limit=3)
    customers = [make_customer() for _ in range(30)]
    report = push(connection, *customers)

    assert report.succeeded == 30
    stats = netsuite_sandbox.stats
    assert stats["peak_in_flight"] <= 3
    assert "429" not in stats["responses_by_status"]
    assert netsuite_sandbox.count_customers() == 30


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_pushes_never_exceed_the_share_together(connection, make_customer, netsuite_sandbox):
    from django.db import connection as db
    from django.db import connections

    if db.vendor == "sqlite":
        pytest.skip("shared-cache in-memory SQLite has table locks; two runs in threads need PostgreSQL")
    connection.concurrency_share = 3
    connection.save()
    # The sandbox refuses anything beyond 3 in flight with 429: none must be seen.
    netsuite_sandbox.configure(latency_ms=30, concurrency_limit=3)
    batches = [[make_customer() for _ in range(20)] for _ in range(2)]
    reports: list[services.PushReport] = []

    def run(customers: list[Customer]) -> None:
        # Its own database connection and its own slots, as another worker process would have.
        try:
            reports.append(push(NetSuiteConnection.objects.get(pk=connection.pk), *customers))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.succeeded for r in reports) == [20, 20]
    stats = netsuite_sandbox.stats
    assert stats["peak_in_flight"] <= 3
    assert "429" not in stats["responses_by_status"]
    assert netsuite_sandbox.count_customers() == 40


def test_three_scheduled_runs_with_no_change_leave_the_queue_as_it_was(connection, make_customer, netsuite_sandbox):
    no_price = make_customer(price_level="")  # data: waits for the customer to change
    unmapped = make_customer(payment_term="Net 45")  # setup: tried again every run
    refused = make_customer(phone="12")  # NetSuite refuses the value: waits for a change
    make_customer()  # goes through

    for _ in range(3):
        tasks.push_customers()
        assert SyncFailure.objects.filter(resolved_at=None).count() == 3

    occurrences = dict(SyncFailure.objects.values_list("customer_id", "occurrences"))
    assert occurrences == {no_price.pk: 1, unmapped.pk: 3, refused.pk: 1}
    # A changed customer whose problem changes: the new problem supersedes the old one, still one open row.
    no_price.price_level, no_price.payment_term = "Wholesale", "Net 45"
    no_price.save()
    tasks.push_customers()
    assert list(SyncFailure.objects.filter(customer=no_price, resolved_at=None).values_list("error_code")) == [
        ("MAPPING_MISSING",)
    ]
    assert SyncFailure.objects.filter(resolved_at=None).count() == 3


def test_scheduled_push_sets_its_total_before_sending(connection, make_customer, netsuite_sandbox, totals_seen):
    for _ in range(3):
        make_customer()
    tasks.push_customers()
    assert [total for _job, total, _done in totals_seen] == [3, 3, 3]


@pytest.mark.django_db(transaction=True)
def test_a_push_started_while_another_runs_joins_it_and_sends_nothing_twice(
    connection, make_customer, netsuite_sandbox
):
    from jobs.locks import job_lock
    from netsuite.services.runs import PUSH_LOCK

    customers = [make_customer() for _ in range(4)]
    started = timezone.now()
    NetSuiteConnection.objects.filter(pk=connection.pk).update(push_started_at=started)
    # Another worker holds the push of this connection, and has met the first customer's problem already.
    CustomerSync.objects.filter(customer=customers[0]).update(
        status="error", last_error_code="TIMEOUT", last_attempt_at=timezone.now()
    )
    holder_ready, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with job_lock(PUSH_LOCK, connection.pk):
                holder_ready.set()
                release.wait(10)
        finally:
            from django.db import connections

            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    holder_ready.wait(10)
    try:
        report = services.customers_push_scheduled(connection=connection, trigger="on_demand")
    finally:
        release.set()
        thread.join()
    assert report.notes[0].startswith("Joined the push of NetSuite already running")
    # The joiner sends what nobody has claimed, and leaves alone what the push met already.
    assert sorted(report.results) == sorted(c.pk for c in customers[1:])
    assert netsuite_sandbox.count_customers() == 3
