"""The console in a real browser (Debian's chromium via Playwright) against a live server and the NetSuite sandbox.

The README's screenshots are taken from the running demo, in test_demo_browser.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, User

from console.roles import OPERATOR, VIEWER, roles_ensure
from console.services import dashboard_snapshot_take
from customers.dispatch import customers_sync_now
from customers.models import Customer, CustomerSync, ExternalSystem, SyncFailure, SyncLog
from customers.services import customer_refresh_validation
from tests.conftest import sandbox_connection

from .browsing import CHROMIUM, PASSWORD, SCREENSHOTS, WIDTHS, fully_visible, login, nav_sidebar_open

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
def rest_system(netsuite_system, netsuite_sandbox):
    """The NetSuite system reached over REST through a connection to the sandbox."""
    sandbox_connection(
        netsuite_system, netsuite_sandbox, request_timeout=5, mappings=SANDBOX_MAPPINGS, defaults={"subsidiary": "1"}
    )
    return netsuite_system


def _user(username: str, group: str) -> User:
    roles_ensure()
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


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

    page = login(browser, live_server.url, "olivia")
    page.click("#console-links >> text=Failed Record Queue")
    page.wait_for_selector("#result_list")
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


@pytest.mark.django_db(transaction=True)
def test_selective_export_of_two_ids(browser, live_server, make_customer, rest_system, netsuite_sandbox):
    _user("olivia", OPERATOR)
    first, second = make_customer(), make_customer(first_name="Grace", last_name="Hopper")
    page = login(browser, live_server.url, "olivia")
    page.click("text=Selective Customer Export")
    page.fill("textarea[name=ids]", f"{first.customer_id}, {second.customer_id}\nC404")
    page.click("input[value=Go]")
    page.wait_for_selector("#selective-results")
    results = page.locator("tr.selective-result")
    assert results.count() == 3
    text = page.inner_text("#selective-results")
    assert text.count("\tSent\t") == 2 and "No customer has the ID C404" in text
    for customer in (first, second):
        assert netsuite_sandbox.store.get_by_external_id(customer.customer_id) is not None
        assert SyncLog.objects.get(customer=customer).trigger == SyncLog.Trigger.SELECTIVE
    page.goto(f"{live_server.url}/admin/")
    attempts = page.inner_text("#console-attempts")
    assert first.customer_id in attempts and second.customer_id in attempts


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.django_db(transaction=True)
def test_save_and_resync_sends_the_unsaved_edit(
    browser, live_server, make_customer, rest_system, netsuite_sandbox, width
):
    olivia = _user("olivia", OPERATOR)
    customer = _failed(make_customer(price_level=""), rest_system)
    page = login(browser, live_server.url, "olivia", width=width)
    assert nav_sidebar_open(page) or page.goto(f"{live_server.url}/admin/customers/customer/")
    page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    assert nav_sidebar_open(page)
    # Enter in a field saves, as on any admin page; it never sends.
    page.fill("#id_phone", "+1-555-0199")
    page.press("#id_phone", "Enter")
    page.wait_for_selector(".messagelist .success")
    assert Customer.objects.get(pk=customer.pk).phone == "+1-555-0199"
    assert not SyncLog.objects.filter(customer=customer, trigger=SyncLog.Trigger.RESYNC).exists()

    page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing runs off to the right
    button = page.locator(f'#syncs-group button[name="_saveandresync"][value="{rest_system.pk}"]')
    assert fully_visible(button) and button.inner_text() == "Save and resync"
    page.fill("#id_price_level", "Wholesale")  # the fix, not saved yet
    button.click()
    page.wait_for_selector(".messagelist .success")
    messages = page.inner_text(".messagelist")
    assert "Your changes to" in messages and f"RESYNC of {customer.customer_id} to NetSuite succeeded." in messages
    assert page.input_value("#id_price_level") == "Wholesale"
    assert Customer.objects.get(pk=customer.pk).price_level == "Wholesale"
    sync = CustomerSync.objects.get(customer=customer)
    assert sync.status == CustomerSync.Status.SYNCED and sync.external_id
    assert netsuite_sandbox.store.get_by_external_id(customer.customer_id) is not None
    log = SyncLog.objects.get(customer=customer, trigger=SyncLog.Trigger.RESYNC)
    assert (log.outcome, log.created_by) == (SyncLog.Outcome.SUCCESS, olivia)
    assert not SyncFailure.objects.filter(customer=customer, resolved_at=None).exists()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.django_db(transaction=True)
def test_resync_and_sync_status_stay_on_screen_with_the_side_menu_open(
    browser, live_server, make_customer, rest_system, width
):
    _user("olivia", OPERATOR)
    parent = make_customer(party_type=Customer.PartyType.COMPANY, company_name="Contoso Apparel", first_name="")
    customer = _failed(
        make_customer(price_level="", parent=parent, email="a.very.long.address@example.com"), rest_system
    )
    page = login(browser, live_server.url, "olivia", width=width)
    page.goto(f"{live_server.url}/admin/customers/customer/")
    assert nav_sidebar_open(page)
    assert fully_visible(page.locator("#result_list thead th.column-external_system_sync_status"))
    row = page.locator("#result_list tbody tr", has_text=customer.customer_id)
    assert fully_visible(row.locator("td.field-external_system_sync_status"))
    assert "Missing price level" in row.inner_text()
    resync = row.locator("button.console-resync")
    assert fully_visible(resync)
    resync.click()  # RESYNC on the customer list, through the customer admin's own resync page
    page.wait_for_selector(".messagelist .error")
    assert f"RESYNC of {customer.customer_id} to NetSuite failed: " in page.inner_text(".messagelist")
    assert page.url.startswith(f"{live_server.url}/admin/customers/customer/")

    page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for inline in ("#syncs-group", "#addresses-group", "#contacts-group", "#identifications-group"):
        assert fully_visible(page.locator(f"{inline} table")), inline
    assert fully_visible(page.locator("#syncs-group button.console-resync"))
    assert fully_visible(page.locator('.submit-row button[name="_saveandresync"]'))
    # The parent by name, not a bare raw ID.
    assert "Contoso Apparel" in page.inner_text(".field-parent")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.django_db(transaction=True)
def test_a_long_last_error_stays_inside_the_customer_page(browser, live_server, make_customer, rest_system, width):
    """PARENT_NOT_IN_NETSUITE's message (an unbreakable code and two sentences) pushed the External System tab's
    table, and its Delete column, past the right edge at 1280 px in the demo (its login is a superuser: the
    connector's select has its add/change/delete/view icons and the row a Delete box)."""
    User.objects.create_superuser("ada", password=PASSWORD)
    # The demo's second connector: its name sets the width of the connector's select.
    ExternalSystem.objects.create(
        code="netsuite-files", name="NetSuite (SFTP files)", transport=ExternalSystem.Transport.FILE
    )
    parent = make_customer(
        party_type=Customer.PartyType.COMPANY, company_name="Contoso", first_name="", payment_term=""
    )
    customer = _failed(make_customer(parent=parent), rest_system)
    assert SyncFailure.objects.get(customer=customer, resolved_at=None).error_code == "PARENT_NOT_IN_NETSUITE"
    page = login(browser, live_server.url, "ada", width=width)
    page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    assert nav_sidebar_open(page)
    assert "PARENT_NOT_IN_NETSUITE" in page.inner_text("#syncs-group")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    inside = "(t => t.getBoundingClientRect().right <= t.closest('.inline-group').getBoundingClientRect().right + 1)"
    assert page.locator("#syncs-group table").evaluate(inside)
    assert fully_visible(page.locator("#syncs-group td.delete").first)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.django_db(transaction=True)
def test_the_queue_shows_resync_and_what_to_do_without_scrolling_sideways(
    browser, live_server, make_customer, rest_system, width
):
    """With the side menu and the filters open, the queue's list is about 630 px wide at 1280: the Error Msg with
    its guidance (what the operator reads before pressing RESYNC) must be on screen, not only the button."""
    _user("olivia", OPERATOR)
    company = Customer.PartyType.COMPANY
    parent = make_customer(party_type=company, company_name="Contoso", first_name="", payment_term="")
    customer = _failed(make_customer(parent=parent), rest_system)  # PARENT_NOT_IN_NETSUITE, the longest code
    page = login(browser, live_server.url, "olivia", width=width)
    page.goto(f"{live_server.url}/admin/console/failedrecord/")
    assert nav_sidebar_open(page)
    row = page.locator("#result_list tbody tr", has_text=customer.customer_id)
    assert fully_visible(row.locator("button.console-resync"))
    assert fully_visible(row.locator("td.field-error_msg"))
    assert "What to do" in row.locator("td.field-error_msg").inner_text()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.django_db(transaction=True)
def test_viewer_sees_no_buttons(browser, live_server, make_customer, rest_system, width):
    _user("victor", VIEWER)
    customer = _failed(make_customer(price_level=""), rest_system)
    page = login(browser, live_server.url, "victor", width=width)
    assert page.locator("input[value='Recount now']").count() == 0
    page.goto(f"{live_server.url}/admin/console/failedrecord/")
    assert customer.customer_id in page.inner_text("#result_list")
    assert page.locator("button.console-resync").count() == 0
    page.goto(f"{live_server.url}/admin/customers/customer/")
    assert customer.customer_id in page.inner_text("#result_list")
    assert fully_visible(page.locator("#result_list thead th.column-external_system_sync_status"))
    assert page.locator("button.console-resync").count() == 0
    page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    assert page.locator("button.console-resync").count() == 0
    assert page.locator("[name=_saveandresync]").count() == 0 and page.locator("[name=_save]").count() == 0
    page.goto(f"{live_server.url}/admin/console/jobs/")
    assert page.locator("input[value='Run now']").count() == 0 and page.locator("select[name=frequency]").count() == 0
    page.goto(f"{live_server.url}/admin/console/selective-export/")
    assert page.locator("input[value=Go]").count() == 0


@pytest.mark.django_db(transaction=True)
def test_login_lockout_is_explained_on_the_login_page(browser, live_server, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.PORTAL_SUPPORT_CONTACT = "the IT desk"
    _user("olivia", OPERATOR)
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    assert "After 3 wrong passwords" in page.inner_text("#login-policy")
    for _ in range(3):
        page.fill("#id_username", "olivia")
        page.fill("#id_password", "wrong-password")
        page.click("input[type=submit]")
        page.wait_for_selector("#login-form")
    # The right password now: still locked, and the page says for how long and whom to ask.
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#login-lockout")
    text = page.inner_text("#login-lockout")
    assert "signing in as olivia from this computer is locked for 15 minutes" in text
    assert "ask the IT desk" in text
    page.screenshot(path=str(SCREENSHOTS / "login-lockout.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url  # not signed in


@pytest.mark.django_db(transaction=True)
def test_a_wrong_encryption_key_page_says_which_secret_to_enter_again(browser, live_server, rest_system, settings):
    from cryptography.fernet import Fernet

    from integration_portal.secrets import unreadable_secrets
    from netsuite.models import NetSuiteConnection

    connection = NetSuiteConnection.objects.get()
    token_secret = connection.token_secret
    settings.PORTAL_ENCRYPTION_KEY = Fernet.generate_key().decode()  # the key the secrets were saved with is gone
    User.objects.create_superuser("root", password=PASSWORD)
    page = login(browser, live_server.url, "root")
    page.goto(f"{live_server.url}/admin/netsuite/netsuiteconnection/")
    assert "cannot be decrypted" in page.inner_text(".messagelist")
    page.goto(f"{live_server.url}/admin/netsuite/netsuiteconnection/{connection.pk}/change/")
    message = page.inner_text(".messagelist")
    assert str(connection) in message and "token secret" in message and "Enter them again" in message
    page.screenshot(path=str(SCREENSHOTS / "wrong-key.png"), full_page=True)
    assert "enter it again" in page.inner_text(".field-token_secret")
    page.fill("#id_consumer_key", "new-consumer-key-1")
    page.fill("#id_consumer_secret", "new-consumer-secret-1")
    page.fill("#id_token_id", "new-token-id-1")
    page.fill("#id_token_secret", "new-token-secret-1")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert "cannot be decrypted" not in page.inner_text("#content")
    saved = NetSuiteConnection.objects.get(pk=connection.pk)
    assert unreadable_secrets(saved) == []
    assert (saved.token_secret, saved.token_id) == ("new-token-secret-1", "new-token-id-1")
    assert token_secret != saved.token_secret
