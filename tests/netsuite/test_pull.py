"""Pulling customers from the sandbox: watermark, subsidiary filter, matching, resuming, keyset paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from customers.models import Customer, CustomerSync, ExternalSystem, PartyIdentification, SyncLog
from customers.services import customer_refresh_validation, customer_validate_for_export, problems_as_text
from jobs.models import JobRun
from netsuite import services, tasks
from netsuite.client import BadResponse, NetSuiteClient
from netsuite.models import NetSuiteConnection
from netsuite_sandbox import NetSuiteSandbox

pytestmark = pytest.mark.django_db

LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)


def pull(connection: NetSuiteConnection, **kwargs) -> services.PullReport:
    connection.refresh_from_db()
    return services.customers_pull(connection=connection, **kwargs)


def test_first_pull_creates_linked_customers_and_opens_the_push(connection, netsuite_sandbox):
    system = connection.external_system
    system.historical_import_completed_at = None
    system.save()
    netsuite_sandbox.seed_historical(20, start=LONG_AGO)
    report = pull(connection)

    assert (report.created, report.completed) == (20, True)
    assert Customer.objects.count() == 20
    assert PartyIdentification.objects.filter(type="NETSUITE_CUSTOMER_ID").count() == 20
    assert PartyIdentification.objects.filter(type="SHOPIFY_CUST_ID").count() == 20
    assert CustomerSync.objects.filter(status="synced").exclude(external_id="").count() == 20
    person = Customer.objects.get(identifications__type="NETSUITE_CUSTOMER_ID", identifications__value="1")
    assert (person.first_name, person.last_name, person.subsidiary) == ("First1", "Last1", "Parent Company")
    company = Customer.objects.get(identifications__type="NETSUITE_CUSTOMER_ID", identifications__value="4")
    assert (company.party_type, company.company_name, company.segment) == ("company", "Company 4", "b2b")
    system.refresh_from_db()
    assert system.historical_import_completed_at is not None
    connection.refresh_from_db()
    assert connection.pull_watermark is not None
    assert connection.pull_cursor_started_at is None
    # Pulled customers are not pushed back by the next scheduled push.
    netsuite_sandbox.reset_stats()
    tasks.push_customers()
    assert netsuite_sandbox.stats["total_requests"] == 0


def test_incremental_pull_reads_changes_since_the_watermark_in_the_filtered_subsidiary(connection, netsuite_sandbox):
    netsuite_sandbox.seed_customers(10, subsidiary=1, start=LONG_AGO, external_id_prefix="A")
    netsuite_sandbox.seed_customers(10, subsidiary=2, start=LONG_AGO, external_id_prefix="B")
    connection.subsidiary_filter = "2"
    connection.save()
    first = pull(connection)
    assert first.created == 10
    assert set(Customer.objects.values_list("subsidiary", flat=True)) == {"Honeycomb Mfg."}
    assert Customer.objects.filter(customer_id="B15").exists()

    later = timezone.now() + timedelta(minutes=5)
    netsuite_sandbox.upsert_customer("B15", {"email": "changed@example.com"})
    netsuite_sandbox.set_last_modified(15, later)
    netsuite_sandbox.set_last_modified(5, later)  # subsidiary 1: filtered out
    second = pull(connection)

    assert (second.rows, second.updated, second.created) == (1, 1, 0)
    assert Customer.objects.get(customer_id="B15").email == "changed@example.com"
    assert not Customer.objects.filter(customer_id="A5").exists()
    queries = netsuite_sandbox.stats["requests_by_route"]["POST /query/v1/suiteql"]
    assert queries >= 2


def test_pull_matches_existing_customers_without_duplicates(connection, make_customer, netsuite_sandbox):
    by_external_id = make_customer(customer_id="C777")
    by_link = make_customer()
    CustomerSync.objects.filter(customer__in=[by_external_id, by_link]).update(status="synced")
    Customer.objects.filter(pk__in=[by_external_id.pk, by_link.pk]).update(modified_at=LONG_AGO)
    first = netsuite_sandbox.create_customer(
        {"externalId": "C777", "isPerson": True, "firstName": "Ada", "lastName": "Renamed", "subsidiary": {"id": "1"}}
    )
    second = netsuite_sandbox.create_customer(
        {"isPerson": True, "firstName": "Grace", "lastName": "Hopper", "subsidiary": {"id": "1"}}
    )
    PartyIdentification.objects.create(customer=by_link, type="NETSUITE_CUSTOMER_ID", value=str(second))
    report = pull(connection)

    assert (report.created, report.updated) == (0, 2)
    assert Customer.objects.count() == 2
    by_external_id.refresh_from_db()
    by_link.refresh_from_db()
    assert by_external_id.last_name == "Renamed"
    assert (by_link.first_name, by_link.last_name) == ("Grace", "Hopper")
    assert CustomerSync.objects.get(customer=by_external_id).external_id == str(first)
    assert PartyIdentification.objects.get(customer=by_external_id, type="NETSUITE_CUSTOMER_ID").value == str(first)


def test_local_changes_not_yet_sent_are_kept(connection, make_customer, netsuite_sandbox):
    customer = make_customer(customer_id="C888", last_name="Local")
    netsuite_sandbox.create_customer(
        {"externalId": "C888", "isPerson": True, "firstName": "Ada", "lastName": "Remote", "subsidiary": {"id": "1"}}
    )
    report = pull(connection)
    assert report.kept_local == 1
    customer.refresh_from_db()
    assert customer.last_name == "Local"
    sync = CustomerSync.objects.get(customer=customer)
    assert (sync.status, sync.external_id) == ("pending", "1")
    # The next push sends the local version to the linked record.
    tasks.push_customers()
    assert netsuite_sandbox.customer(1)["lastName"] == "Local"
    assert netsuite_sandbox.count_customers() == 1


def test_a_second_netsuite_record_for_a_linked_customer_is_reported(connection, make_customer, netsuite_sandbox):
    customer = make_customer(customer_id="C999")
    PartyIdentification.objects.create(customer=customer, type="NETSUITE_CUSTOMER_ID", value="5000")
    netsuite_sandbox.create_customer(
        {"externalId": "C999", "isPerson": True, "firstName": "Ada", "lastName": "Twin", "subsidiary": {"id": "1"}}
    )
    report = pull(connection)
    assert report.failed == 1
    log = SyncLog.objects.get(outcome="failed")
    assert log.error_code == "DUPLICATE_IN_NETSUITE"
    assert "5000" in log.message


def test_sub_customers_are_linked_to_their_parent(connection, netsuite_sandbox):
    parent = netsuite_sandbox.create_customer(
        {"isPerson": False, "companyName": "Engines Ltd", "subsidiary": {"id": "1"}}
    )
    netsuite_sandbox.create_customer(
        {
            "isPerson": True,
            "firstName": "Bob",
            "lastName": "Buyer",
            "subsidiary": {"id": "1"},
            "parent": {"id": str(parent)},
        }
    )
    pull(connection)
    child = Customer.objects.get(first_name="Bob")
    assert child.parent.company_name == "Engines Ltd"
    assert child.segment == "b2b"


def stored_validity_is_the_validators(customer: Customer) -> bool:
    problems = customer_validate_for_export(customer=customer)
    return (customer.is_valid, customer.problems) == (not problems, problems_as_text(problems))


def test_pulled_customers_store_the_validity_the_validator_gives(connection, netsuite_sandbox):
    netsuite_sandbox.seed_customers(6, start=LONG_AGO)
    netsuite_sandbox.create_customer(
        {"isPerson": True, "firstName": "No", "lastName": "Terms", "subsidiary": {"id": "1"}, "priceLevel": {"id": "1"}}
    )
    assert pull(connection).created == 7

    customers = list(Customer.objects.all())
    assert all(stored_validity_is_the_validators(c) for c in customers)
    # Pulled customers have no address yet: none is valid for export, and each says why.
    assert {c.is_valid for c in customers} == {False}
    assert all("Incomplete address" in c.problems for c in customers)
    assert "Missing payment term" in Customer.objects.get(last_name="Terms").problems


def test_a_pull_writes_only_changed_customers_and_recomputes_their_validity(
    connection, make_customer, netsuite_sandbox
):
    changed = make_customer(customer_id="C1")
    same = make_customer(customer_id="C2", first_name="Grace", last_name="Hopper", email="", phone="")
    unlinked = make_customer(
        customer_id="C3", first_name="Alan", last_name="Turing", email="", phone="", connector=False
    )
    for customer in (changed, same, unlinked):
        customer_refresh_validation(customer=customer)
    CustomerSync.objects.update(status="synced")
    Customer.objects.update(modified_at=LONG_AGO)
    assert Customer.objects.filter(is_valid=True).count() == 2
    common = {"isPerson": True, "subsidiary": {"id": "1"}, "terms": {"id": "2"}, "priceLevel": {"id": "1"}}
    # C1 loses its payment term in NetSuite; C2 and C3 come back as they are.
    netsuite_sandbox.create_customer(
        {**common, "externalId": "C1", "firstName": "Ada", "lastName": changed.last_name, "terms": None}
    )
    netsuite_sandbox.create_customer({**common, "externalId": "C2", "firstName": "Grace", "lastName": "Hopper"})
    netsuite_sandbox.create_customer({**common, "externalId": "C3", "firstName": "Alan", "lastName": "Turing"})

    report = pull(connection)

    assert (report.updated, report.unchanged, report.created) == (1, 2, 0)
    changed.refresh_from_db()
    assert (changed.payment_term, changed.is_valid) == ("", False)
    assert "Missing payment term" in changed.problems
    assert changed.modified_at > LONG_AGO
    same.refresh_from_db()
    assert (same.modified_at, same.is_valid) == (LONG_AGO, True)
    # C3 had no connector selected; the pull links it, so it becomes valid without counting as a change.
    unlinked.refresh_from_db()
    assert (unlinked.modified_at, unlinked.is_valid, unlinked.problems) == (LONG_AGO, True, "")
    assert all(stored_validity_is_the_validators(c) for c in Customer.objects.all())


def test_a_disabled_sync_stays_disabled_and_leaves_the_customer_unlinked(connection, make_customer, netsuite_sandbox):
    customer = make_customer(customer_id="C5", payment_term="")
    CustomerSync.objects.filter(customer=customer).update(enabled=False, status="synced")
    Customer.objects.filter(pk=customer.pk).update(modified_at=LONG_AGO)
    netsuite_sandbox.create_customer(
        {"externalId": "C5", "isPerson": True, "firstName": "Ada", "lastName": "Changed", "subsidiary": {"id": "1"}}
    )
    assert pull(connection).updated == 1
    customer.refresh_from_db()
    assert CustomerSync.objects.get(customer=customer).enabled is False
    assert "Connector not selected" in customer.problems
    assert stored_validity_is_the_validators(customer)
    other = ExternalSystem.objects.create(code="joor", name="JOOR", kind=ExternalSystem.Kind.JOOR)
    CustomerSync.objects.create(customer=customer, external_system=other)
    netsuite_sandbox.upsert_customer("C5", {"lastName": "Again"})
    netsuite_sandbox.set_last_modified(1, timezone.now() + timedelta(minutes=5))
    assert pull(connection).updated == 1
    customer.refresh_from_db()
    assert "Connector not selected" not in customer.problems
    assert stored_validity_is_the_validators(customer)


def test_matches_are_found_in_parts_when_the_database_takes_few_parameters(
    connection, make_customer, netsuite_sandbox, monkeypatch
):
    from netsuite.services import pull as pull_module

    monkeypatch.setattr(pull_module, "_max_query_params", lambda: 40)  # parts of 8 rows
    netsuite_sandbox.seed_customers(30, start=LONG_AGO, external_id_prefix="P")
    for n in (3, 12, 29):
        customer = make_customer(customer_id=f"P{n}")
        CustomerSync.objects.filter(customer=customer).update(status="synced")
    report = pull(connection)
    assert (report.created, report.updated + report.unchanged) == (27, 3)
    assert Customer.objects.count() == 30
    assert PartyIdentification.objects.filter(type="NETSUITE_CUSTOMER_ID").count() == 30


class StopAfter(NetSuiteClient):
    """A client that dies after some pages, as a killed worker would."""

    pages_left = 2

    def suiteql_page(self, *args, **kwargs):
        if self.pages_left == 0:
            raise KeyboardInterrupt
        self.pages_left -= 1
        return super().suiteql_page(*args, **kwargs)


def test_a_stopped_pull_resumes_where_its_last_committed_page_ended(connection, netsuite_sandbox):
    netsuite_sandbox.seed_customers(2500, start=LONG_AGO)
    stopping = StopAfter(connection.client_config())
    with pytest.raises(KeyboardInterrupt):
        pull(connection, client=stopping)
    connection.refresh_from_db()
    assert Customer.objects.count() in (1000, 2000)  # pages are fetched ahead; each is committed whole
    done = Customer.objects.count()
    assert connection.pull_cursor_last_id == done
    assert connection.pull_watermark is None

    netsuite_sandbox.reset_stats()
    report = pull(connection)
    assert report.created == 2500 - done
    assert Customer.objects.count() == 2500
    assert connection.external_system.historical_import_completed_at is not None


def test_malformed_answer_stops_the_pull_without_losing_its_place(connection, netsuite_sandbox):
    netsuite_sandbox.seed_customers(1500, start=LONG_AGO)
    netsuite_sandbox.configure(malformed="json", malformed_count=1)
    with pytest.raises(BadResponse):
        pull(connection)
    connection.refresh_from_db()
    assert connection.pull_watermark is None
    assert pull(connection).created == 1500


def test_pull_in_the_account_time_zone(connection):
    sandbox = NetSuiteSandbox(time_zone="America/Los_Angeles").start()
    try:
        sandbox.seed_customers(3, start=LONG_AGO, external_id_prefix="T")
        connection.base_url = sandbox.base_url
        connection.time_zone = "America/Los_Angeles"
        connection.save()
        assert pull(connection).created == 3
        sandbox.set_last_modified(2, timezone.now() + timedelta(minutes=5))
        report = pull(connection)
        assert report.rows == 1
    finally:
        sandbox.stop()


def test_pull_command_with_since(connection, netsuite_sandbox, capsys):
    netsuite_sandbox.seed_customers(3, start=LONG_AGO)
    netsuite_sandbox.set_last_modified(3, datetime(2025, 6, 1, tzinfo=UTC))
    call_command("pull_customers", "--since", "2025-01-01T00:00:00Z", "--connection", "netsuite")
    assert "1 NetSuite customer(s) read: 1 created" in capsys.readouterr().out
    run = JobRun.objects.get(job="pull_customers")
    assert (run.status, run.rows_done) == ("done", 1)


@pytest.mark.slow
def test_150000_customers_are_pulled_through_keyset_paging(connection, netsuite_sandbox):
    netsuite_sandbox.seed_customers(150_000, start=LONG_AGO, step_seconds=0.001)
    report = pull(connection)

    assert report.created == 150_000
    assert Customer.objects.count() == 150_000
    assert PartyIdentification.objects.filter(type="NETSUITE_CUSTOMER_ID").count() == 150_000
    assert CustomerSync.objects.filter(status="synced").count() == 150_000
    stats = netsuite_sandbox.stats
    assert stats["requests_by_route"]["POST /query/v1/suiteql"] == 150
    assert stats["responses_by_status"] == {"200": 150}


def test_pull_shows_netsuites_count_as_its_total_from_the_first_page(connection, netsuite_sandbox, totals_seen):
    netsuite_sandbox.seed_customers(3, start=LONG_AGO)
    call_command("pull_customers", "--connection", "netsuite")
    assert totals_seen and all(total == 3 for _job, total, _done in totals_seen)
    run = JobRun.objects.get(job="pull_customers")
    assert (run.rows_total, run.rows_done) == (3, 3)
