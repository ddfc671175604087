"""The demo: seed_demo points a Shopify connection at the sandbox and subscribes the portal's webhooks."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from customers.models import ExternalSystem
from shopify.models import ShopifyConnection


@pytest.mark.django_db
def test_seed_demo_connects_the_sandbox_shop_and_subscribes(shopify_sandbox, monkeypatch):
    monkeypatch.setenv("SHOPIFY_SANDBOX_URL", shopify_sandbox.root_url)
    monkeypatch.setenv("PORTAL_URL", "http://127.0.0.1:8000")
    out = io.StringIO()
    call_command("seed_demo", "--customers", "0", stdout=out)
    connection = ShopifyConnection.objects.get(shop_domain=shopify_sandbox.shop_domain)
    assert connection.api_url == shopify_sandbox.admin_api_url
    assert connection.webhook_url == "http://127.0.0.1:8000/api/shopify/webhooks"
    assert list(connection.target_systems.all()) == [ExternalSystem.objects.get(code="netsuite")]
    assert "Subscribed to 17 topic(s)" in out.getvalue()
    assert {s["uri"] for s in shopify_sandbox.webhooks.subscriptions()} == {connection.webhook_url}
    # Run again (make run does, each time): nothing is subscribed twice.
    call_command("seed_demo", "--customers", "0", stdout=io.StringIO())
    assert len(shopify_sandbox.webhooks.subscriptions()) == 17
