"""A company's contacts as NetSuite contact records attached to it: upserted after the company is bound, their
failures in the queue under record type Contact, RESYNC from the queue, within the concurrency share."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Contact, Customer, CustomerSync, SyncFailure, SyncLog
from netsuite import selectors, services, tasks
from netsuite.client import TIMEOUT, NetSuiteClient, RetryableError
from netsuite.models import NetSuiteConnection
from netsuite_sandbox import NetSuiteSandbox

pytestmark = pytest.mark.django_db

CONTACT_ROUTE = "PUT /record/v1/contact/eid:{externalId}"


def company_with_contacts(make_customer, count: int = 3, *, name: str = "Engines Ltd") -> Customer:
    company = make_customer(party_type="company", company_name=name, segment="b2b", first_name="", last_name="")
    for n in range(count):
        Contact.objects.create(
            customer=company, first_name="Grace", last_name=f"Hopper{n}", email=f"grace{n}@example.com",
            phone=f"+1 555 010{n}",
        )  # fmt: skip
    return company


def push(connection: NetSuiteConnection, *customers: Customer, **kwargs) -> services.PushReport:
    return services.customers_push(
        connection=connection, customer_pks=[c.pk for c in customers], trigger="on_demand", **kwargs
    )


def in_netsuite(sandbox: NetSuiteSandbox, company: Customer) -> tuple[dict, list[dict]]:
    """The company's NetSuite record and the contacts attached to it."""
    [record] = sandbox.customers_by_external_id(company.customer_id)
    return record, sandbox.contacts_of(int(record["id"]))


def open_contact_failures() -> list[SyncFailure]:
    return list(SyncFailure.objects.filter(record_type=SyncLog.RecordType.CONTACT, resolved_at=None))


def test_a_company_with_three_contacts_ends_as_a_parent_with_three_netsuite_contacts(
    connection, make_customer, netsuite_sandbox
):
    company = company_with_contacts(make_customer)
    location = make_customer(parent=company, segment="b2b")
    report = push(connection, location)  # the parent goes first, then its location; its contacts once it is bound

    record, contacts = in_netsuite(netsuite_sandbox, company)
    [child] = netsuite_sandbox.customers_by_external_id(location.customer_id)
    assert child["parent"]["id"] == record["id"]
    portal = list(company.contacts.order_by("id"))
    # Sent in parallel: NetSuite numbers them in the order they arrived.
    by_external_id = {c["externalId"]: c for c in contacts}
    assert sorted(by_external_id) == sorted(c.contact_id for c in portal)
    assert [
        tuple(by_external_id[c.contact_id][f] for f in ("firstName", "lastName", "email", "title")) for c in portal
    ] == [("Grace", f"Hopper{n}", f"grace{n}@example.com", "Buyer") for n in range(3)]
    assert {c["subsidiary"]["id"] for c in contacts} == {record["subsidiary"]["id"]}
    assert (report.contacts_sent, report.contacts_failed) == (3, 0)
    assert "Contacts of companies: 3 sent, 0 failed." in report.summary()
    logs = SyncLog.objects.filter(record_type="contact", outcome="success", customer=company)
    assert sorted(logs.values_list("record_id", flat=True)) == sorted(c.contact_id for c in portal)
    assert {log.operation for log in logs} == {"rest contact upsert"}
    assert not open_contact_failures()


def test_contacts_of_companies_sent_in_batches_are_attached_once_the_batch_is_read(
    connection, make_customer, netsuite_sandbox
):
    connection.batch_threshold = 2
    connection.save()
    companies = [company_with_contacts(make_customer, 2, name=f"Co {n}") for n in range(4)]
    tasks.push_customers()

    assert netsuite_sandbox.stats["requests_by_route"]["PUT /record/v1/customer"] == 1  # one batch of four
    for company in companies:
        _record, contacts = in_netsuite(netsuite_sandbox, company)
        assert sorted(c["externalId"] for c in contacts) == sorted(
            company.contacts.values_list("contact_id", flat=True)
        )
    assert netsuite_sandbox.stats["requests_by_route"][CONTACT_ROUTE] == 8


def test_a_bulk_load_sends_the_contacts_of_its_companies_in_batches_too(connection, make_customer, netsuite_sandbox):
    connection.batch_threshold = 2
    connection.save()
    companies = [company_with_contacts(make_customer, 3, name=f"Co {n}") for n in range(5)]
    refused = companies[0].contacts.order_by("id").first()
    Contact.objects.filter(pk=refused.pk).update(first_name="", last_name="")  # NetSuite wants a name
    tasks.push_customers()

    routes = netsuite_sandbox.stats["requests_by_route"]
    assert routes["PUT /record/v1/customer"] == 1  # one batch of five companies
    assert routes["PUT /record/v1/contact"] == 1  # one batch of their fifteen contacts
    assert CONTACT_ROUTE not in routes  # none sent one by one
    for company in companies:
        _record, contacts = in_netsuite(netsuite_sandbox, company)
        expected = company.contacts.exclude(pk=refused.pk).values_list("contact_id", flat=True)
        assert sorted(c["externalId"] for c in contacts) == sorted(expected)
    # The refused one, read from its task, is one failure under record type Contact; the others are logged sent.
    [failure] = open_contact_failures()
    assert (failure.record_id, failure.customer_id, failure.error_code) == (
        refused.contact_id,
        companies[0].pk,
        "USER_ERROR",
    )
    assert SyncLog.objects.filter(record_type="contact", outcome="success").count() == 14
    # Every contact answered, none to send again for a passing reason: no company is due.
    assert not CustomerSync.objects.filter(contacts_due=True).exists()
    assert not selectors.customer_pks_due_for_push(connection=connection)


def test_a_contact_saved_while_its_company_is_on_its_way_makes_the_company_due_again(
    connection, make_customer, netsuite_sandbox, monkeypatch
):
    company = company_with_contacts(make_customer, 1)
    writes: list = []
    real = NetSuiteClient.upsert_customer

    def upsert(self, external_id, body, **kwargs):
        writes.append(timezone.now())  # the company's data was read before this
        return real(self, external_id, body, **kwargs)

    monkeypatch.setattr(NetSuiteClient, "upsert_customer", upsert)
    push(connection, company)
    sync = CustomerSync.objects.get(customer=company, external_system=connection.external_system)
    # Synced as of the data it sent, not as of the answer.
    assert sync.status == "synced" and sync.last_synced_at < writes[0]
    assert company.pk not in selectors.customer_pks_due_for_push(connection=connection)
    # A contact a webhook saved while the company's write was in flight (it touches the company): due again.
    Customer.objects.filter(pk=company.pk).update(modified_at=writes[0])
    assert company.pk in selectors.customer_pks_due_for_push(connection=connection)


def test_pushing_twice_creates_no_duplicate_contact_and_updates_the_one_there(
    connection, make_customer, netsuite_sandbox
):
    company = company_with_contacts(make_customer)
    push(connection, company)
    first = company.contacts.order_by("id").first()
    first.email = "grace.new@example.com"
    first.save()
    push(connection, company)

    _record, contacts = in_netsuite(netsuite_sandbox, company)
    assert len(contacts) == 3
    assert [c["email"] for c in contacts if c["externalId"] == first.contact_id] == ["grace.new@example.com"]
    assert netsuite_sandbox.stats["requests_by_route"][CONTACT_ROUTE] == 6
    assert netsuite_sandbox.count_customers() == 1


def test_a_contact_saved_later_pushes_its_company_which_sends_the_contact(
    connection, make_customer, netsuite_sandbox, monkeypatch, django_capture_on_commit_callbacks
):
    connection.push_on_change = True
    connection.save()
    company = company_with_contacts(make_customer, 1)
    push(connection, company)
    queued: list[dict] = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, **kwargs: queued.append(kwargs) or "task-id")
    with django_capture_on_commit_callbacks(execute=True):
        added = Contact.objects.create(customer=company, first_name="Ada", last_name="Byron")
    assert [q["customer_pks"] for q in queued] == [[company.pk]]

    tasks.push_changed_customers(customer_pks=queued[0]["customer_pks"])  # what the cluster runs
    _record, contacts = in_netsuite(netsuite_sandbox, company)
    assert sorted(c["externalId"] for c in contacts) == sorted(company.contacts.values_list("contact_id", flat=True))
    assert added.contact_id in {c["externalId"] for c in contacts}


def test_a_contact_netsuite_refuses_is_one_open_failure_counted_again_and_resolved_when_fixed(
    connection, make_customer, netsuite_sandbox
):
    company = company_with_contacts(make_customer)
    refused = company.contacts.order_by("id").last()
    refused.phone = "12"  # NetSuite wants seven digits or more
    refused.save()
    report = push(connection, company)

    assert report.results[company.pk].ok  # the company itself is in NetSuite
    assert (report.contacts_sent, report.contacts_failed) == (2, 1)
    [failure] = open_contact_failures()
    assert (failure.record_id, failure.customer_id, failure.external_system_id) == (
        refused.contact_id, company.pk, connection.external_system_id
    )  # fmt: skip
    assert (failure.error_code, failure.occurrences) == ("USER_ERROR", 1)
    assert failure.message.startswith(f"Contact {refused.contact_id} (Grace Hopper2) of company {company.customer_id}")
    assert "seven digits" in failure.message
    assert CustomerSync.objects.get(customer=company).status == "synced"
    assert len(in_netsuite(netsuite_sandbox, company)[1]) == 2

    push(connection, company)  # the company is sent again (a change, a RESYNC): the same problem, counted
    [again] = open_contact_failures()
    assert (again.pk, again.occurrences) == (failure.pk, 2)

    refused.phone = "+1 555 0123"
    refused.save()
    push(connection, company)
    failure.refresh_from_db()
    assert (failure.resolved_at is not None, failure.resolution) == (True, SyncFailure.Resolution.SUCCEEDED)
    assert not open_contact_failures()
    assert len(in_netsuite(netsuite_sandbox, company)[1]) == 3


def test_resync_of_a_contact_failure_from_the_queue_sends_it(
    connection, make_customer, netsuite_sandbox, operator_client
):
    company = company_with_contacts(make_customer, 1)
    contact = company.contacts.get()
    contact.first_name = contact.last_name = ""  # NetSuite needs a name
    contact.save()
    push(connection, company)
    [failure] = open_contact_failures()
    assert failure.error_code == "USER_ERROR"

    queue = operator_client.get(reverse("admin:console_failedrecord_changelist"))
    resync_url = reverse("admin:console_failedrecord_resync", args=[failure.pk])
    assert resync_url in queue.content.decode()  # the green RESYNC on its row
    groups = operator_client.get(reverse("admin:console_failedrecord_groups")).content.decode()
    assert "Contact" in groups and 'name="record_type" value="contact"' in groups
    Contact.objects.filter(pk=contact.pk).update(first_name="Grace")  # fixed, without an event push
    answer = operator_client.post(resync_url, follow=True)

    assert "succeeded; the failure is resolved" in answer.content.decode()
    failure.refresh_from_db()
    assert failure.resolution == SyncFailure.Resolution.SUCCEEDED
    [sent] = in_netsuite(netsuite_sandbox, company)[1]
    assert (sent["externalId"], sent["firstName"]) == (contact.contact_id, "Grace")
    assert SyncLog.objects.filter(record_id=contact.contact_id, trigger="resync", outcome="success").exists()


def test_resync_of_a_contact_still_refused_says_why_and_counts_it(
    connection, make_customer, netsuite_sandbox, operator_client
):
    company = company_with_contacts(make_customer, 1)
    Contact.objects.filter(customer=company).update(email="not-an-address")
    push(connection, company)
    [failure] = open_contact_failures()
    answer = operator_client.post(reverse("admin:console_failedrecord_resync", args=[failure.pk]), follow=True)

    assert "failed again" in answer.content.decode() and "valid email address" in answer.content.decode()
    failure.refresh_from_db()
    assert (failure.resolved_at, failure.occurrences) == (None, 2)


def test_resync_of_a_failure_of_a_contact_deleted_since_marks_it_resolved(
    connection, make_customer, netsuite_sandbox, operator_client
):
    company = company_with_contacts(make_customer, 1)
    Contact.objects.filter(customer=company).update(first_name="", last_name="")
    push(connection, company)
    [failure] = open_contact_failures()
    company.contacts.all().delete()
    answer = operator_client.post(reverse("admin:console_failedrecord_resync", args=[failure.pk]), follow=True)

    assert "no longer exists in the portal" in answer.content.decode()
    failure.refresh_from_db()
    assert failure.resolution == SyncFailure.Resolution.BY_HAND


def test_a_contact_that_failed_for_a_passing_reason_is_sent_again_by_the_next_scheduled_push(
    connection, make_customer, netsuite_sandbox, monkeypatch
):
    company = company_with_contacts(make_customer, 1)
    contact = company.contacts.get()

    def no_answer(self, external_id, body):
        raise RetryableError(TIMEOUT, "NetSuite did not answer in time.")

    with monkeypatch.context() as patched:
        patched.setattr(NetSuiteClient, "upsert_contact", no_answer)  # the client's own timeout is tested there
        report = push(connection, company)
    assert (report.succeeded, report.contacts_failed) == (1, 1)
    assert [f.error_code for f in open_contact_failures()] == ["TIMEOUT"]
    assert company.pk in selectors.customer_pks_due_for_push(connection=connection)

    tasks.push_customers()
    assert not open_contact_failures()
    assert [c["externalId"] for c in in_netsuite(netsuite_sandbox, company)[1]] == [contact.contact_id]
    assert company.pk not in selectors.customer_pks_due_for_push(connection=connection)
    # A contact refused for its own data waits for a change, as a customer does.
    Contact.objects.filter(pk=contact.pk).update(first_name="", last_name="")
    push(connection, company)
    assert [f.error_code for f in open_contact_failures()] == ["USER_ERROR"]
    assert company.pk not in selectors.customer_pks_due_for_push(connection=connection)


def test_a_push_killed_after_binding_a_company_sends_its_contacts_on_the_next_run(
    connection, make_customer, netsuite_sandbox, monkeypatch
):
    company = company_with_contacts(make_customer, 2)

    real = services.push._Push._contact_attempts

    def killed(self, done):
        if done:
            raise SystemExit("killed before the contacts' outcomes were written")
        return real(self, done)

    with monkeypatch.context() as patched:
        patched.setattr(services.push._Push, "_contact_attempts", killed)
        with pytest.raises(SystemExit):
            push(connection, company)
    sync = CustomerSync.objects.get(customer=company, external_system=connection.external_system)
    assert (sync.status, sync.contacts_due) == ("synced", True)  # bound, its contacts owed
    assert company.pk in selectors.customer_pks_due_for_push(connection=connection)

    tasks.push_customers()
    _record, contacts = in_netsuite(netsuite_sandbox, company)
    assert sorted(c["externalId"] for c in contacts) == sorted(company.contacts.values_list("contact_id", flat=True))
    sync.refresh_from_db()
    assert sync.contacts_due is False
    assert company.pk not in selectors.customer_pks_due_for_push(connection=connection)


def test_a_group_of_contact_failures_is_resynced_at_once(connection, make_customer, netsuite_sandbox, operator_client):
    companies = [company_with_contacts(make_customer, 1, name=f"Co {n}") for n in range(2)]
    Contact.objects.filter(customer__in=companies).update(first_name="", last_name="")
    push(connection, *companies)
    assert len(open_contact_failures()) == 2
    Contact.objects.filter(customer__in=companies).update(last_name="Hopper")
    data = {"system": str(connection.external_system_id), "record_type": "contact", "code": "USER_ERROR"}
    answer = operator_client.post(reverse("admin:console_failedrecord_group_resync"), data, follow=True)

    assert "2 resynced successfully" in answer.content.decode()
    assert not open_contact_failures()
    for company in companies:
        assert len(in_netsuite(netsuite_sandbox, company)[1]) == 1


@pytest.mark.django_db(transaction=True)
def test_contacts_never_exceed_the_concurrency_share(connection, make_customer, netsuite_sandbox):
    connection.concurrency_share = 3
    connection.save()
    # The sandbox refuses anything beyond 3 in flight with 429: none must be seen.
    netsuite_sandbox.configure(latency_ms=30, concurrency_limit=3)
    companies = [company_with_contacts(make_customer, 3, name=f"Co {n}") for n in range(8)]
    report = push(connection, *companies)

    assert (report.succeeded, report.contacts_sent) == (8, 24)
    stats = netsuite_sandbox.stats
    assert stats["requests_by_route"][CONTACT_ROUTE] == 24
    assert 2 <= stats["peak_in_flight"] <= 3  # in parallel, never more than the share
    assert "429" not in stats["responses_by_status"]
