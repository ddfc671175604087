"""The demo as a newcomer runs it (`make run`: web, NetSuite sandbox, job cluster, seed_demo's data) in Chromium.

Takes the README's screenshots from it (docs/screenshots/), and kills a busy cluster worker to see its run turn
interrupted on the Jobs page, which refreshes by itself.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from tests.demo_portal import DemoPortal, wait_for

from .browsing import CHROMIUM, SCREENSHOTS, WIDTHS, fully_visible, login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is absent: apt-get install chromium"),
]

ACTIVE = "('queued', 'running')"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[DemoPortal]:
    """The demo, once its first scheduled pull and push have run and the dashboard has counted them."""
    # A short heartbeat; the same host sees at once that a killed worker is gone anyway.
    portal = DemoPortal(tmp_path_factory.mktemp("demo"), customers=60, env={"JOB_HEARTBEAT_SECONDS": "1"})
    portal.start()
    try:
        # The cluster's scheduler turns the due schedules into tasks about 30 s after it starts.
        wait_for(lambda: finished(portal, "push_customers"), 180, "the demo's first push", every=1)
        portal.manage("count_dashboard")
        yield portal
    finally:
        portal.stop()


def finished(demo: DemoPortal, job: str) -> bool:
    done = demo.query(f"select count(*) from jobs_jobrun where job = ? and status not in {ACTIVE}", (job,))  # noqa: S608
    active = demo.query(f"select count(*) from jobs_jobrun where job = ? and status in {ACTIVE}", (job,))  # noqa: S608
    return done[0][0] > 0 and active[0][0] == 0


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_readme_screenshots_are_taken_from_the_demo(browser, demo):
    username, password = demo.login
    page = login(browser, demo.url, username, width=1280, password=password)
    status = page.inner_text("#console-status")
    assert "NetSuite (REST)" in status and "NetSuite (SFTP files)" in status and "Not counted yet" not in status
    shot(page, "dashboard")

    blocked = demo.query(
        "select c.id, c.customer_id from customers_customer c join customers_customersync s on s.customer_id = c.id "
        "join customers_externalsystem e on e.id = s.external_system_id "
        "where e.code = 'netsuite' and c.is_valid = 0 and c.problems like '%price level%' order by c.id limit 1"
    )
    synced = demo.query(
        "select c.customer_id from customers_customer c join customers_customersync s on s.customer_id = c.id "
        "join customers_externalsystem e on e.id = s.external_system_id "
        "where e.code = 'netsuite' and s.status = 'synced' order by c.id limit 1"
    )
    [(blocked_pk, blocked_id)], [(synced_id,)] = blocked, synced

    page.goto(f"{demo.url}/admin/console/failedrecord/")
    page.wait_for_selector("#result_list")
    assert blocked_id in page.inner_text("#result_list") or page.locator("#result_list tbody tr").count() >= 10
    shot(page, "failed-record-queue")

    page.goto(f"{demo.url}/admin/console/selective-export/")
    page.fill("textarea[name=ids]", f"{synced_id}, {blocked_id}")
    if page.locator("select[name=external_system]").count():
        page.select_option("select[name=external_system]", label="NetSuite (REST)")
    page.click("input[value=Go]")
    page.wait_for_selector("#selective-results")
    assert "Missing price level" in page.inner_text("#selective-results")
    shot(page, "selective-export")

    page.goto(f"{demo.url}/admin/customers/customer/{blocked_pk}/change/")
    assert fully_visible(page.locator("#syncs-group button.console-resync"))
    shot(page, "customer")


def make_pending(demo: DemoPortal) -> int:
    """Put the REST connector's synced customers back to pending (as an operator's resync does); return how many
    valid customers wait for the next push."""
    code = (
        "from customers.models import CustomerSync, ExternalSystem; from customers.services import "
        "customer_request_resync; from netsuite.models import RequestSlot; "
        "system = ExternalSystem.objects.get(code='netsuite'); "
        "syncs = CustomerSync.objects.filter(external_system=system, status='synced').select_related('customer'); "
        "[customer_request_resync(customer=s.customer, external_system=system) for s in syncs]; "
        # What lease expiry does a minute after a killed worker: its NetSuite request slots are free again.
        "RequestSlot.objects.update(holder='', expires_at=None); "
        "print(CustomerSync.objects.filter(external_system=system, status='pending', customer__is_valid=True).count())"
    )
    return int(demo.manage("shell", "-c", code).split()[-1])


@pytest.mark.parametrize("width", WIDTHS)
def test_a_killed_worker_shows_its_run_interrupted_on_the_jobs_page_without_a_reload(browser, demo, width):
    wait_for(lambda: finished(demo, "push_customers"), 120, "no push under way", every=1)
    assert make_pending(demo) >= 20
    demo.sandbox_config(latency_ms=1500)  # NetSuite answering slowly: the push takes a while
    try:
        username, password = demo.login
        page = login(browser, demo.url, username, width=width, password=password)
        page.goto(f"{demo.url}/admin/console/jobs/")
        row = page.locator("tr[data-job=push_customers]")
        row.locator("input[value='Run now']").click()
        page.wait_for_selector(".messagelist .success")
        assert "Push customers to NetSuite (REST) is queued to run now" in page.inner_text(".messagelist")
        page.evaluate("window.notReloaded = true")

        # Running, with rows done of a total known from the start, updated in place.
        wait_for(lambda: "of " in row.locator("td.job-now").inner_text(), 60, "the push to show its progress")
        wait_for(lambda: int(row.locator("td.job-now progress").get_attribute("value") or 0) >= 3, 60, "rows done")
        assert fully_visible(row.locator("td.job-now"))
        if width == WIDTHS[0]:
            shot(page, "jobs")  # for the README: a job under way
        [(run_id, worker)] = demo.query(
            "select id, worker from jobs_jobrun where job = 'push_customers' and status = 'running'"
        )
        os.kill(int(worker.split(":")[1]), signal.SIGKILL)  # the worker process dies mid-push

        wait_for(lambda: "Interrupted" in row.locator("td.job-last").inner_text(), 30, "the run to read interrupted")
        assert "not running" in row.locator("td.job-now").inner_text()
        assert page.evaluate("window.notReloaded === true")  # refreshed in place, no reload
        assert fully_visible(row.locator("td.job-last .console-state-interrupted"))

        # The count job's sweep settles it in the database, so it never reads running again.
        page.locator("tr[data-job=count_dashboard] input[value='Run now']").click()
        wait_for(
            lambda: demo.query("select status from jobs_jobrun where id = ?", (run_id,)) == [("interrupted",)],
            90,
            "the sweep to settle the run",
        )
        page.goto(f"{demo.url}/admin/console/jobrunrecord/{run_id}/change/")
        assert "stopped before it finished" in page.inner_text("#content")
    finally:
        demo.sandbox_config(latency_ms=0)
