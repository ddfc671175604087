"""The console in a real browser (Debian's chromium via Playwright) against a live server and the NetSuite sandbox.

Saves the README's screenshots into docs/screenshots/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from console.roles import OPERATOR, VIEWER, roles_ensure
from console.services import dashboard_snapshot_take
from customers.dispatch import customers_sync_now
from customers.models import Customer, CustomerSync, SyncFailure, SyncLog
from customers.services import customer_refresh_validation
from netsuite.services import reference_mappings_set

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "browser-test-password"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is absent: apt-get install chromium"),
]

SANDBOX_MAPPINGS = {
    "payment_terms": {"Net 15": "1", "Net 30": "2", "Net 60": "3"},
    "price_levels": {"Base Price": "1", "Wholesale": "2", "MSRP": "4"},
    "sales_reps": {},
    "subsidiaries": {"Parent Company": "1"},
}


@pytest.fixture(autouse=True)
def _close_request_connections() -> Iterator[None]:
    """Close each live-server request thread's connection at the end of its request (no CONN_MAX_AGE reuse).

    Otherwise the threads' idle PostgreSQL sessions keep the test database from being dropped.
    """
    from django.db import connections

    saved = connections.settings["default"].get("CONN_MAX_AGE", 0)
    connections.settings["default"]["CONN_MAX_AGE"] = 0
    yield
    connections.settings["default"]["CONN_MAX_AGE"] = saved


@pytest.fixture
def browser() -> Iterator:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (requirements-dev.txt)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def rest_system(netsuite_system, netsuite_sandbox):
    """The NetSuite system reached over REST through a connection to the sandbox."""
    from netsuite.models import NetSuiteConnection

    netsuite_system.historical_import_completed_at = timezone.now()
    netsuite_system.save()
    reference_mappings_set(external_system=netsuite_system, mappings=SANDBOX_MAPPINGS)
    NetSuiteConnection.objects.create(
        external_system=netsuite_system,
        account_id=netsuite_sandbox.account_id,
        base_url=netsuite_sandbox.base_url,
        consumer_key=netsuite_sandbox.consumer_key,
        consumer_secret=netsuite_sandbox.consumer_secret,
        token_id=netsuite_sandbox.token_id,
        token_secret=netsuite_sandbox.token_secret,
        request_timeout=5,
        defaults={"subsidiary": "1"},
        push_on_change=False,
    )
    return netsuite_system


def _user(username: str, group: str) -> User:
    roles_ensure()
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def _login(browser, live_server, username: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#console-status")
    return page


def _failed(customer: Customer, system) -> Customer:
    """Attempt the customer through the REST connector and expect it to land in the Failed Record Queue."""
    customer_refresh_validation(customer=customer)
    customers_sync_now(customers=[customer], external_system=system, trigger=SyncLog.Trigger.SCHEDULED)
    assert SyncFailure.objects.filter(customer=customer, resolved_at=None).exists()
    return customer


@pytest.mark.django_db(transaction=True)
def test_operator_resyncs_a_failed_customer_against_the_sandbox(
    browser, live_server, make_customer, rest_system, netsuite_sandbox
):
    _user("olivia", OPERATOR)
    customer = _failed(make_customer(price_level=""), rest_system)
    _failed(make_customer(price_level="", first_name="Grace", last_name="Hopper"), rest_system)
    _failed(make_customer(price_level="Platinum"), rest_system)  # not mapped: NetSuite would not know it
    unlabelled = make_customer(first_name="Alan", last_name="Turing")
    unlabelled.addresses.update(label="")
    _failed(unlabelled, rest_system)
    Customer.objects.filter(pk=customer.pk).update(price_level="Wholesale")
    customer_refresh_validation(customer=Customer.objects.get(pk=customer.pk))

    page = _login(browser, live_server, "olivia")
    page.click("text=Failed Record Queue")
    page.wait_for_selector("#result_list")
    page.click("#toggle-nav-sidebar")  # more room for the Error Msg column in the screenshot
    page.screenshot(path=str(SCREENSHOTS / "failed-record-queue.png"), full_page=True)
    row = page.locator("#result_list tbody tr", has_text=customer.customer_id)
    assert "Missing price level" in row.inner_text()
    row.locator("button.console-resync").click()
    page.wait_for_selector(".messagelist .success")
    assert f"RESYNC of {customer.customer_id} to NetSuite succeeded" in page.inner_text(".messagelist")
    assert page.locator("#result_list tbody tr", has_text=customer.customer_id).count() == 0

    sync = CustomerSync.objects.get(customer=customer)
    assert sync.status == CustomerSync.Status.SYNCED and sync.external_id
    assert netsuite_sandbox.store.get_by_external_id(customer.customer_id) is not None
    assert not SyncFailure.objects.filter(customer=customer, resolved_at=None).exists()
    assert SyncLog.objects.get(customer=customer, outcome="success").created_by.username == "olivia"

    dashboard_snapshot_take()  # the count job's work, which the cluster does every minute
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_selector("#console-chart svg")
    assert customer.customer_id in page.inner_text("#console-attempts")
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_selective_export_of_two_ids(browser, live_server, make_customer, rest_system, netsuite_sandbox):
    _user("olivia", OPERATOR)
    first, second = make_customer(), make_customer(first_name="Grace", last_name="Hopper")
    page = _login(browser, live_server, "olivia")
    page.click("text=Selective Customer Export")
    page.fill("textarea[name=ids]", f"{first.customer_id}, {second.customer_id}\nC404")
    page.click("input[value=Go]")
    page.wait_for_selector("#selective-results")
    results = page.locator("tr.selective-result")
    assert results.count() == 3
    text = page.inner_text("#selective-results")
    assert text.count("\tSent\t") == 2 and "No customer has the ID C404" in text
    page.screenshot(path=str(SCREENSHOTS / "selective-export.png"), full_page=True)
    for customer in (first, second):
        assert netsuite_sandbox.store.get_by_external_id(customer.customer_id) is not None
        assert SyncLog.objects.get(customer=customer).trigger == SyncLog.Trigger.SELECTIVE
    page.goto(f"{live_server.url}/admin/")
    attempts = page.inner_text("#console-attempts")
    assert first.customer_id in attempts and second.customer_id in attempts


@pytest.mark.django_db(transaction=True)
def test_viewer_sees_no_buttons(browser, live_server, make_customer, rest_system):
    _user("victor", VIEWER)
    customer = _failed(make_customer(price_level=""), rest_system)
    page = _login(browser, live_server, "victor")
    page.goto(f"{live_server.url}/admin/console/failedrecord/")
    assert customer.customer_id in page.inner_text("#result_list")
    assert page.locator("button.console-resync").count() == 0
    page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    assert page.locator("button.console-resync").count() == 0
    page.goto(f"{live_server.url}/admin/console/jobs/")
    assert page.locator("input[value='Run now']").count() == 0
    page.goto(f"{live_server.url}/admin/console/selective-export/")
    assert page.locator("input[value=Go]").count() == 0
