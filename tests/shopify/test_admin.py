"""The console's Shopify pages and the shopify_connection command: write-only secrets, Test connection, subscribe."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers.models import SyncLog
from shopify.models import InboxEvent, ShopifyConnection, WebhookSubscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandboxed(shopify_connection, shopify_sandbox) -> ShopifyConnection:
    shopify_connection.shop_domain = shopify_sandbox.shop_domain
    shopify_connection.api_url = shopify_sandbox.admin_api_url
    shopify_connection.access_token = shopify_sandbox.access_token
    shopify_connection.webhook_url = "https://portal.example/api/shopify/webhooks"
    shopify_connection.save()
    return shopify_connection


def test_secrets_are_stored_encrypted_and_never_shown(admin_client, shopify_connection):
    page = admin_client.get(reverse("admin:shopify_shopifyconnection_change", args=[shopify_connection.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "fixture-client-secret" not in text and "shpat_fixture" not in text
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret, access_token FROM shopify_shopifyconnection")
        stored = cursor.fetchone()
    assert "fixture-client-secret" not in stored[0] and "shpat_fixture" not in stored[1]


def test_test_connection_asks_the_shop_for_its_name(admin_client, sandboxed):
    url = reverse("admin:shopify_shopifyconnection_test_connection", args=[sandboxed.pk])
    page = admin_client.post(url, follow=True).content.decode()
    assert "Connected to the shop Sandbox Store" in page
    sandboxed.refresh_from_db()
    assert sandboxed.shop_name == "Sandbox Store"


def test_test_connection_says_what_is_wrong(admin_client, sandboxed):
    sandboxed.access_token = "shpat_wrong"
    sandboxed.save()
    page = admin_client.post(
        reverse("admin:shopify_shopifyconnection_test_connection", args=[sandboxed.pk]), follow=True
    ).content.decode()
    assert "Shopify refused the access token" in page


def test_subscribe_creates_every_topic_once_and_shows_them(admin_client, sandboxed, shopify_sandbox):
    url = reverse("admin:shopify_shopifyconnection_subscribe", args=[sandboxed.pk])
    first = admin_client.post(url, follow=True).content.decode()
    assert "Subscribed to 17 topic(s)" in first
    again = admin_client.post(url, follow=True).content.decode()
    assert "17 topic(s) were subscribed already" in again
    assert WebhookSubscription.objects.filter(connection=sandboxed).count() == 17
    assert len(shopify_sandbox.webhooks.subscriptions()) == 17
    page = admin_client.get(reverse("admin:shopify_shopifyconnection_change", args=[sandboxed.pk])).content.decode()
    assert "company_locations/create" in page and "https://portal.example/api/shopify/webhooks" in page


def test_the_inbox_filters_unreadable_entries_and_processes_them_again(
    admin_client, shopify_connection, deliver, run_queued, django_capture_on_commit_callbacks
):
    deliver("customers-update-truncated.txt", "customers/update")
    deliver("customers-create.json", "customers/create")
    run_queued()
    changelist = reverse("admin:shopify_inboxevent_changelist")
    response = admin_client.get(changelist, {"attention": "unreadable"})
    assert response.context["cl"].result_count == 1
    assert "cannot be read" in response.content.decode()
    unreadable = InboxEvent.objects.get(status="unreadable")
    detail = admin_client.get(reverse("admin:shopify_inboxevent_change", args=[unreadable.pk])).content.decode()
    assert "is not JSON" in detail and "Biller-Smith" in detail  # the payload as it came

    InboxEvent.objects.filter(pk=unreadable.pk).update(body=(unreadable.body + "x"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(changelist, {"action": "process_again", "_selected_action": [unreadable.pk]})
    assert response.status_code == 302
    unreadable.refresh_from_db()
    assert unreadable.status == "received"  # queued to be processed again
    run_queued()
    unreadable.refresh_from_db()
    assert unreadable.status == "unreadable" and unreadable.attempts == 2
    assert SyncLog.objects.filter(error_code="SHOPIFY_PAYLOAD_UNREADABLE").count() == 2


def test_the_command_reads_secrets_from_files_and_stdin_never_arguments(tmp_path, monkeypatch):
    secret, token = tmp_path / "secret", tmp_path / "token"
    secret.write_text("from-a-file\n")
    token.write_text("shpat_from_a_file\n")
    out = io.StringIO()
    call_command(
        "shopify_connection", "--shop", "Cli-Store.myshopify.com", "--api-url", "http://127.0.0.1:8766/admin/api",
        "--secret-file", str(secret), "--token-file", str(token), stdout=out,
    )  # fmt: skip
    assert "Created the Shopify connection cli-store.myshopify.com" in out.getvalue()
    assert "from-a-file" not in out.getvalue()
    connection = ShopifyConnection.objects.get(shop_domain="cli-store.myshopify.com")
    assert (connection.client_secret, connection.access_token) == ("from-a-file", "shpat_from_a_file")

    monkeypatch.setattr("sys.stdin", io.StringIO("rotated-secret\nold-secret\n"))
    call_command(
        "shopify_connection", "--shop", "cli-store.myshopify.com", "--secret-file", "-", "--previous-secret-file", "-",
        stdout=io.StringIO(),
    )  # fmt: skip
    connection.refresh_from_db()
    assert (connection.client_secret, connection.previous_client_secret) == ("rotated-secret", "old-secret")
    with pytest.raises(CommandError, match=r"myshopify\.com"):
        call_command("shopify_connection", "--shop", "not a shop", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("shopify_connection", "--shop", "cli-store.myshopify.com", "--token-file", str(tmp_path / "no"))
