"""The Failed Record Queue: open and resolved views, filters, guidance, RESYNC and the bulk actions."""

import pytest
from django.urls import reverse

from customers.models import Customer, CustomerSync, SyncFailure, SyncLog
from customers.services import Attempt, attempt_record

QUEUE = "admin:console_failedrecord_changelist"


def _fix(customer: Customer) -> None:
    Customer.objects.filter(pk=customer.pk).update(price_level="Wholesale")


@pytest.mark.django_db
def test_queue_lists_open_failures_with_guidance_and_resync_button(operator_client, failed_customer):
    customer, entry = failed_customer()
    page = operator_client.get(reverse(QUEUE)).content.decode()
    assert customer.customer_id in page
    assert "Missing price level" in page
    assert "choose a price level" in page  # the guidance next to the message
    assert "Then press RESYNC." in page
    assert "Error Msg" in page
    assert reverse("admin:console_failedrecord_resync", args=[entry.pk]) in page
    assert 'class="console-resync"' in page
    assert reverse("admin:customers_customer_change", args=[customer.pk]) in page


@pytest.mark.django_db
def test_resync_resolves_the_failure_when_the_retry_succeeds(operator_client, operator, failed_customer):
    customer, entry = failed_customer()
    _fix(customer)
    response = operator_client.post(reverse("admin:console_failedrecord_resync", args=[entry.pk]), follow=True)
    assert response.status_code == 200
    entry.refresh_from_db()
    assert entry.resolved_at is not None
    success = SyncLog.objects.get(customer=customer, outcome=SyncLog.Outcome.SUCCESS)
    assert success.trigger == SyncLog.Trigger.RESYNC and success.created_by == operator
    assert CustomerSync.objects.get(customer=customer).status == CustomerSync.Status.SYNCED
    text = response.content.decode()
    assert "succeeded; the failure is resolved" in text


@pytest.mark.django_db
def test_resync_that_fails_again_keeps_it_open_and_says_why(operator_client, failed_customer):
    customer, entry = failed_customer()
    response = operator_client.post(reverse("admin:console_failedrecord_resync", args=[entry.pk]), follow=True)
    assert "failed again: Missing price level" in response.content.decode()
    entry.refresh_from_db()
    assert entry.resolved_at is None
    assert SyncLog.objects.filter(customer=customer, outcome="failed", trigger="resync").count() == 1


@pytest.mark.django_db
def test_resync_view_refuses_get(operator_client, failed_customer):
    _customer, entry = failed_customer()
    assert operator_client.get(reverse("admin:console_failedrecord_resync", args=[entry.pk])).status_code == 405


@pytest.mark.django_db
def test_open_and_resolved_are_shown_separately(operator_client, failed_customer):
    open_customer, _ = failed_customer()
    fixed_customer, fixed_entry = failed_customer()
    _fix(fixed_customer)
    operator_client.post(reverse("admin:console_failedrecord_resync", args=[fixed_entry.pk]), follow=True)
    open_page = operator_client.get(reverse(QUEUE)).content.decode()
    assert open_customer.customer_id in open_page and fixed_customer.customer_id not in open_page
    resolved_page = operator_client.get(reverse(QUEUE), {"state": "resolved"}).content.decode()
    assert fixed_customer.customer_id in resolved_page and open_customer.customer_id not in resolved_page
    assert "A later attempt succeeded " in resolved_page


@pytest.mark.django_db
def test_filters_by_record_type_error_code_and_connector(operator_client, failed_customer, fake_system):
    customer, _ = failed_customer()
    attempt_record(
        Attempt(
            external_system=fake_system,
            record_type=SyncLog.RecordType.FILE_ROW,
            record_id="ids.csv:7",
            ok=False,
            file_name="2024-05-01-CustomerExport.csv",
            line_number=7,
            trigger=SyncLog.Trigger.SCHEDULED,
            code="ROW_INVALID",
            message="Line 7: partyId is empty.",
        )
    )
    by_type = operator_client.get(reverse(QUEUE), {"record_type__exact": "file_row"}).content.decode()
    assert "Line 7: partyId is empty." in by_type and customer.customer_id not in by_type
    by_code = operator_client.get(reverse(QUEUE), {"error_code": "MISSING_PRICE_LEVEL"}).content.decode()
    assert customer.customer_id in by_code and "partyId is empty" not in by_code
    by_system = operator_client.get(reverse(QUEUE), {"external_system__id__exact": fake_system.pk}).content.decode()
    assert customer.customer_id in by_system and "partyId is empty" in by_system
    today = operator_client.get(reverse(QUEUE), {"last_seen_at__gte": "2000-01-01 00:00:00+00:00"}).content.decode()
    assert customer.customer_id in today


@pytest.mark.django_db
def test_bulk_resync_and_mark_resolved_actions(operator_client, operator, failed_customer):
    (a, ea), (b, eb), (_c, ec) = failed_customer(), failed_customer(), failed_customer()
    _fix(a)
    _fix(b)
    response = operator_client.post(
        reverse(QUEUE), {"action": "resync_selected", "_selected_action": [ea.pk, eb.pk]}, follow=True
    )
    assert "2 resynced successfully" in response.content.decode()
    assert SyncFailure.objects.filter(pk__in=[ea.pk, eb.pk], resolved_at__isnull=False).count() == 2
    operator_client.post(reverse(QUEUE), {"action": "mark_resolved", "_selected_action": [ec.pk]})
    ec.refresh_from_db()
    assert ec.resolved_at is not None and ec.resolved_by == operator


@pytest.mark.django_db
def test_viewer_sees_no_resync_and_cannot_forge_one(viewer_client, failed_customer):
    customer, entry = failed_customer()
    _fix(customer)
    page = viewer_client.get(reverse(QUEUE)).content.decode()
    assert customer.customer_id in page
    assert ">RESYNC</button>" not in page
    assert 'class="console-resync"' not in page
    assert "choose a price level" in page and "RESYNC" not in page  # guidance, but no button named to press
    assert "resync_selected" not in page and "mark_resolved" not in page
    assert viewer_client.post(reverse("admin:console_failedrecord_resync", args=[entry.pk])).status_code == 403
    forged = viewer_client.post(reverse(QUEUE), {"action": "resync_selected", "_selected_action": [entry.pk]})
    assert forged.status_code in (200, 302, 403)
    entry.refresh_from_db()
    assert entry.resolved_at is None
    assert not SyncLog.objects.filter(customer=customer, trigger=SyncLog.Trigger.RESYNC).exists()


@pytest.mark.django_db
def test_queue_query_count_does_not_grow_with_rows(operator_client, failed_customer, django_assert_max_num_queries):
    failed_customer()
    with django_assert_max_num_queries(14) as one:
        operator_client.get(reverse(QUEUE))
    for _ in range(15):
        failed_customer()
    with django_assert_max_num_queries(len(one.captured_queries)):
        operator_client.get(reverse(QUEUE))


@pytest.mark.django_db
def test_failure_change_page_shows_guidance(operator_client, failed_customer):
    _customer, entry = failed_customer()
    page = operator_client.get(reverse("admin:console_failedrecord_change", args=[entry.pk])).content.decode()
    assert "choose a price level" in page


@pytest.mark.django_db
def test_repeated_failures_are_one_row_with_occurrences(operator_client, failed_customer, fake_system):
    from tests.console.conftest import fake_handler

    customer, entry = failed_customer()
    for _ in range(3):
        fake_handler(customers=[customer], external_system=fake_system, trigger=SyncLog.Trigger.SCHEDULED)
    entry.refresh_from_db()
    assert (entry.occurrences, SyncFailure.objects.filter(resolved_at=None).count()) == (4, 1)
    page = operator_client.get(reverse(QUEUE)).content.decode()
    assert page.count(reverse("admin:console_failedrecord_resync", args=[entry.pk])) == 1


@pytest.mark.django_db
def test_groups_show_counts_and_resync_a_whole_group(operator_client, operator, failed_customer, fake_system):
    fixed = [failed_customer() for _ in range(3)]
    other, _ = failed_customer(payment_term="", price_level="Wholesale")
    for customer, _entry in fixed[:2]:
        _fix(customer)

    queue = operator_client.get(reverse(QUEUE)).content.decode()
    groups = operator_client.get(reverse("admin:console_failedrecord_groups")).content.decode()
    for page in (queue, groups):
        assert "Missing price level" in page and "RESYNC 3" in page and "RESYNC 1" in page

    response = operator_client.post(
        reverse("admin:console_failedrecord_group_resync"),
        {"system": fake_system.pk, "record_type": "customer", "code": "MISSING_PRICE_LEVEL"},
        follow=True,
    )
    text = response.content.decode()
    assert "2 resynced successfully" in text
    assert f"Group \u201cMissing price level\u201d (customer failures with {fake_system.name}):" in text
    open_now = set(SyncFailure.objects.filter(resolved_at=None).values_list("customer_id", "error_code"))
    assert open_now == {(fixed[2][0].pk, "MISSING_PRICE_LEVEL"), (other.pk, "MISSING_PAYMENT_TERM")}
    assert SyncLog.objects.filter(trigger=SyncLog.Trigger.RESYNC, created_by=operator).count() == 3


@pytest.mark.django_db
def test_a_large_group_is_resynced_by_a_background_job(
    operator_client, failed_customer, fake_system, task_queue, monkeypatch
):
    from console import admin as console_admin
    from tests.console.conftest import run_task

    monkeypatch.setattr(console_admin, "GROUP_RESYNC_NOW", 2)
    entries = [failed_customer() for _ in range(3)]
    for customer, _entry in entries:
        _fix(customer)
    response = operator_client.post(
        reverse("admin:console_failedrecord_group_resync"),
        {"system": fake_system.pk, "record_type": "customer", "code": "MISSING_PRICE_LEVEL"},
        follow=True,
    )
    assert "queued as a background job" in response.content.decode()
    assert SyncFailure.objects.filter(resolved_at=None).count() == 3  # nothing sent while the operator waited
    (task,) = task_queue.drain()
    message = run_task(task)
    # The group's title and connector keep their capitals, as on the queue (not "missing price level").
    assert f"Group \u201cMissing price level\u201d (customer failures with {fake_system.name}): 3 resynced" in message
    assert not SyncFailure.objects.filter(resolved_at=None).exists()


@pytest.mark.django_db
def test_group_resync_refuses_a_viewer_and_nonsense(viewer_client, operator_client, failed_customer, fake_system):
    failed_customer()
    url = reverse("admin:console_failedrecord_group_resync")
    data = {"system": fake_system.pk, "record_type": "customer", "code": "MISSING_PRICE_LEVEL"}
    assert viewer_client.post(url, data).status_code == 403
    assert operator_client.get(url).status_code == 405
    for bad in ({"system": "x"}, {**data, "code": "NOPE"}, {**data, "record_type": "nonsense"}):
        response = operator_client.post(url, bad, follow=True)
        assert "does not exist" in response.content.decode()
    empty = operator_client.post(url, {**data, "record_type": "contact"}, follow=True)
    assert "No open failures are left" in empty.content.decode()
    assert operator_client.post(url, {**data, "record_type": "\x00"}).status_code == 400
    assert SyncFailure.objects.filter(resolved_at=None).count() == 1
