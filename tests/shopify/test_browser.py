"""The Shopify console in a real browser: the connection with its subscriptions, the inbox with an unreadable payload.

Drives Debian's chromium like tests/console/test_browser.py; saves the README's Shopify screenshots.
"""

from __future__ import annotations

import uuid

import pytest
import requests
from django.contrib.auth.models import User

from shopify.services import subscriptions_create
from tests.console.browsing import CHROMIUM, SCREENSHOTS
from tests.console.conftest import browser  # noqa: F401
from tests.console.test_browser import _close_request_connections  # noqa: F401

from .conftest import payload, signature

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason=f"{CHROMIUM} is absent"),
]
PASSWORD = "browser-test-password"


@pytest.mark.django_db(transaction=True)
def test_the_console_shows_the_connection_its_subscriptions_and_an_unreadable_payload(
    browser,  # noqa: F811
    live_server,
    shopify_connection,
    shopify_sandbox,
    run_queued,
):
    User.objects.create_superuser("olivia", "olivia@example.com", PASSWORD)
    shopify_connection.api_url = shopify_sandbox.admin_api_url
    shopify_connection.access_token = shopify_sandbox.access_token
    shopify_connection.webhook_url = f"{live_server.url}/api/shopify/webhooks"
    shopify_connection.save()
    subscriptions_create(connection=shopify_connection)

    url = f"{live_server.url}/api/shopify/webhooks"
    for name, topic in (
        ("customers-create.json", "customers/create"),
        ("customers-update-truncated.txt", "customers/update"),
    ):
        body = payload(name)
        response = requests.post(
            url,
            data=body,
            timeout=10,
            headers={
                "Content-Type": "application/json",
                "X-Shopify-Topic": topic,
                "X-Shopify-Hmac-Sha256": signature(body),
                "X-Shopify-Shop-Domain": shopify_connection.shop_domain,
                "X-Shopify-Event-Id": str(uuid.uuid4()),
            },
        )
        assert response.status_code == 200
    run_queued()

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#console-status")

    page.goto(f"{live_server.url}/admin/shopify/shopifyconnection/{shopify_connection.pk}/change/")
    text = page.inner_text("#content")
    assert "Test connection" in text and "Subscribe to webhooks" in text
    for topic in ("customers/create", "companies/update", "company_locations/create", "company_contacts/delete"):
        assert topic in text
    page.click("text=Test connection")
    page.wait_for_selector(".messagelist .success")
    assert "Connected to the shop Sandbox Store" in page.inner_text(".messagelist")
    page.screenshot(path=str(SCREENSHOTS / "shopify-connection.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/shopify/inboxevent/")
    page.click("#toggle-nav-sidebar")  # room for the reason column
    page.click("text=Unreadable payloads")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    row_text = rows.first.inner_text()
    assert "customers/update" in row_text and "cannot be read" in row_text and "not JSON" in row_text
    page.screenshot(path=str(SCREENSHOTS / "shopify-inbox.png"), full_page=True)
    rows.first.locator("a").first.click()
    page.wait_for_selector("pre.shopify-payload")
    assert "Biller-Smith" in page.inner_text("pre.shopify-payload")
