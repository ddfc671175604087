"""Failure digests by email: once per new failure set, per user's connectors, linking to the filtered queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from console import tasks
from console.alerts import alert_subscription_save
from console.models import AlertSubscription
from customers.models import ExternalSystem, SyncFailure
from customers.services import attempts_record, customer_attempt

pytestmark = pytest.mark.django_db


def fail(customer, system, code="MISSING_PRICE_LEVEL"):
    attempts_record(
        [customer_attempt(customer, system, ok=False, trigger="scheduled", operation="push", code=code, message=code)]
    )


@pytest.fixture
def subscriber(operator):
    operator.email = "olivia@example.com"
    operator.save()
    subscription = alert_subscription_save(user=operator, is_active=True, connectors=[])
    AlertSubscription.objects.filter(pk=subscription.pk).update(covered_until=timezone.now() - timedelta(seconds=1))
    return operator


def test_new_failures_are_mailed_once_grouped_with_links_to_the_queue(subscriber, make_customer, netsuite_system):
    a, b, c = make_customer(), make_customer(), make_customer()
    fail(a, netsuite_system)
    fail(b, netsuite_system)
    fail(c, netsuite_system, "USER_ERROR")

    tasks.send_failure_digests()
    (email,) = mail.outbox
    assert email.to == ["olivia@example.com"]
    assert email.subject == "[Customer sync portal] 3 new failures"
    assert "2 x Missing price level (MISSING_PRICE_LEVEL)" in email.body
    assert "1 x NetSuite rejected a value (USER_ERROR)" in email.body
    assert a.customer_id in email.body and c.customer_id in email.body
    queue = reverse("admin:console_failedrecord_changelist")
    assert f"http://127.0.0.1:8000{queue}?state=all&external_system__id__exact={netsuite_system.pk}" in email.body
    assert "error_code=MISSING_PRICE_LEVEL" in email.body and "first_seen_at__gte=" in email.body
    assert "Missing price level" in email.alternatives[0][0]

    # Nothing new: no email. The same failures met again are occurrences, not news.
    fail(a, netsuite_system)
    tasks.send_failure_digests()
    assert len(mail.outbox) == 1
    # A new failure set: one more email, with only the new one.
    fail(a, netsuite_system, "TIMEOUT")
    tasks.send_failure_digests()
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == "[Customer sync portal] 1 new failure"
    assert "TIMEOUT" in mail.outbox[1].body and "USER_ERROR" not in mail.outbox[1].body


def test_the_queue_link_of_a_digest_shows_those_failures(subscriber, operator_client, make_customer, netsuite_system):
    customer = make_customer()
    fail(customer, netsuite_system)
    tasks.send_failure_digests()
    link = next(line for line in mail.outbox[0].body.splitlines() if "Open them in the queue" in line)
    path = link.split("http://127.0.0.1:8000", 1)[1]
    page = operator_client.get(path)
    assert page.status_code == 200 and customer.customer_id in page.content.decode()


def test_each_user_gets_their_connectors_only(subscriber, viewer, make_customer, netsuite_system):
    joor = ExternalSystem.objects.create(code="joor", name="JOOR", kind=ExternalSystem.Kind.JOOR)
    viewer.email = "victor@example.com"
    viewer.save()
    alert_subscription_save(user=viewer, is_active=True, connectors=[joor])
    AlertSubscription.objects.update(covered_until=timezone.now() - timedelta(seconds=1))
    fail(make_customer(), netsuite_system)
    fail(make_customer(), joor)

    tasks.send_failure_digests()
    by_user = {m.to[0]: m for m in mail.outbox}
    assert set(by_user) == {"olivia@example.com", "victor@example.com"}
    assert "2 new failures" in by_user["olivia@example.com"].subject
    assert "1 new failure" in by_user["victor@example.com"].subject and "JOOR" in by_user["victor@example.com"].body


def test_no_email_without_an_address_or_a_subscription_or_when_stopped(
    operator, viewer, make_customer, netsuite_system
):
    alert_subscription_save(user=operator, is_active=True, connectors=[])  # operator has no email address
    viewer.email = "victor@example.com"
    viewer.save()
    alert_subscription_save(user=viewer, is_active=False, connectors=[])
    fail(make_customer(), netsuite_system)
    assert "No one with an email address is subscribed" in tasks.send_failure_digests()
    assert mail.outbox == []

    alert_subscription_save(user=viewer, is_active=True, connectors=[])
    tasks.send_failure_digests()
    mail.outbox.clear()
    assert "No new failures for the 1 subscriber(s)" in tasks.send_failure_digests()  # nothing new since
    assert mail.outbox == []


def test_the_backlog_before_subscribing_is_not_mailed(operator, make_customer, netsuite_system):
    fail(make_customer(), netsuite_system)
    operator.email = "olivia@example.com"
    operator.save()
    alert_subscription_save(user=operator, is_active=True, connectors=[])
    tasks.send_failure_digests()
    assert mail.outbox == [] and SyncFailure.objects.count() == 1


def test_any_user_chooses_their_own_alerts_on_the_page(viewer_client, viewer, netsuite_system):
    page = viewer_client.get(reverse("admin:console_alerts"))
    assert page.status_code == 200 and "no email address" in page.content.decode()
    # The box is ticked for a first Save: the page must not look as if the user were subscribed already.
    assert "You are not subscribed yet." in page.content.decode()
    response = viewer_client.post(
        reverse("admin:console_alerts"), {"is_active": "on", "connectors": [netsuite_system.pk]}, follow=True
    )
    assert "new failures are emailed to you" in response.content.decode()
    assert "You are subscribed" in response.content.decode()
    subscription = AlertSubscription.objects.get(user=viewer)
    assert subscription.is_active and list(subscription.connectors.all()) == [netsuite_system]
    response = viewer_client.post(reverse("admin:console_alerts"), {"connectors": []}, follow=True)
    assert not AlertSubscription.objects.get(user=viewer).is_active
    assert "You receive no digests" in response.content.decode()
