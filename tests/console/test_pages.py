"""The dashboard, Selective Customer Export, the customer page's RESYNC and the roles, through the test client."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from console.models import DashboardSnapshot
from console.roles import OPERATOR, VIEWER, roles_ensure
from console.selectors import COUNT_JOB, ConnectorCounts
from console.services import dashboard_snapshot_take, ids_parse
from customers.models import (
    NETSUITE_CUSTOMER_ID,
    Customer,
    CustomerSync,
    ExternalSystem,
    PartyIdentification,
    SyncLog,
)
from customers.selectors import SyncBucket, sync_bucket, sync_bucket_q
from customers.services import customer_refresh_validation
from jobs.models import JobRun

from .conftest import fake_handler, run_task


@pytest.mark.django_db
def test_dashboard_shows_counts_chart_runs_and_warnings(operator_client, make_customer, failed_customer, fake_system):
    ok = make_customer()
    fake_handler(customers=[ok], external_system=fake_system, trigger=SyncLog.Trigger.SCHEDULED)
    make_customer()  # pending
    failed_customer()
    for customer in Customer.objects.all():
        customer_refresh_validation(customer=customer)
    dashboard_snapshot_take()
    page = operator_client.get(reverse("admin:index")).content.decode()
    assert "Customers by sync status" in page and "Counted 0 seconds ago" in page
    assert "<svg" in page and "Failures over the last 14 days" in page
    assert "1 new failure in 14 days" in page
    assert "existing customers have not been imported yet" in page  # fake_system has not imported
    assert "Selective Customer Export" in page and "Failed Record Queue" in page
    # The failed one lacks its price level: blocked by missing data, not "in error" as well.
    assert status_cells(page, fake_system) == {
        "synced": 1,
        "awaiting_id": 0,
        "pending": 1,
        "blocked": 1,
        "in_error": 0,
        "total": 3,
        "open_failures": 1,
    }


def status_cells(page: str, system) -> dict[str, int]:
    """The dashboard's counts for one connector, by bucket (and total, open failures)."""
    row = page.split(f'<tr data-connector="{system.pk}">', 1)[1].split("</tr>", 1)[0]
    return {k: int(v.replace(",", "")) for k, v in re.findall(r'data-bucket="(\w+)"><a [^>]*>([\d,]+)</a>', row)}


@pytest.mark.django_db
def test_dashboard_buckets_partition_the_connectors_customers(
    admin_client, make_customer, failed_customer, fake_system, django_assert_max_num_queries
):
    synced = make_customer()
    fake_handler(customers=[synced], external_system=fake_system, trigger=SyncLog.Trigger.SCHEDULED)
    exported = make_customer()
    CustomerSync.objects.filter(customer=exported).update(status=CustomerSync.Status.EXPORTED)
    make_customer(), make_customer()  # pending, valid
    blocked, _ = failed_customer()  # failed for missing data: status error, invalid
    failed_customer()
    blocked_pending = make_customer(payment_term="")  # never tried, incomplete
    refused = make_customer()  # complete, but NetSuite refused it: in error
    CustomerSync.objects.filter(customer=refused).update(status=CustomerSync.Status.ERROR)
    not_synced = make_customer()
    CustomerSync.objects.filter(customer=not_synced).update(status=CustomerSync.Status.NOT_SYNCED)
    deselected = make_customer()
    CustomerSync.objects.filter(customer=deselected).update(enabled=False)
    for customer in Customer.objects.all():
        customer_refresh_validation(customer=customer)
    # A second failure of the same customer and problem: an occurrence of its open failure, not a new one.
    fake_handler(customers=[blocked], external_system=fake_system, trigger=SyncLog.Trigger.SCHEDULED)
    dashboard_snapshot_take()

    cells = status_cells(admin_client.get(reverse("admin:index")).content.decode(), fake_system)
    buckets = {k: v for k, v in cells.items() if k in SyncBucket.values}
    assert buckets == {"synced": 1, "awaiting_id": 1, "pending": 3, "blocked": 3, "in_error": 1}
    assert sum(buckets.values()) == cells["total"] == CustomerSync.objects.filter(enabled=True).count() == 9
    assert blocked_pending.syncs.get().status == CustomerSync.Status.PENDING
    assert cells["open_failures"] == 2  # one per customer and problem, shown apart: not a bucket
    # Each number links to the list it counts.
    for bucket, count in buckets.items():
        page = admin_client.get(
            reverse("admin:customers_customersync_changelist"),
            {"external_system__id__exact": fake_system.pk, "bucket": bucket},
        )
        assert page.status_code == 200 and len(page.context["cl"].result_list) == count, bucket


@pytest.mark.parametrize("status", CustomerSync.Status.values)
@pytest.mark.parametrize("is_ready", [True, False])
@pytest.mark.django_db
def test_every_sync_state_is_in_the_one_bucket_its_filter_selects(status, is_ready, make_customer):
    customer = make_customer()
    CustomerSync.objects.filter(customer=customer).update(status=status, is_ready=is_ready)
    bucket = sync_bucket(status=status, is_ready=is_ready)
    selecting = [b for b in SyncBucket if CustomerSync.objects.filter(sync_bucket_q(b)).exists()]
    assert selecting == [bucket]


def test_connector_counts_total_is_the_sum_of_its_buckets():
    counts = ConnectorCounts(system=None, synced=5, awaiting_id=4, pending=3, blocked=2, in_error=1, open_failures=99)
    assert counts.total == 15
    assert [label for _bucket, label, _n in counts.buckets] == [label for _value, label in SyncBucket.choices]


@pytest.mark.django_db
def test_first_run_warnings_name_jobs_that_exist_by_title_and_link_to_them(admin_client, netsuite_system):
    from console.selectors import dashboard_warnings, job_states

    files = ExternalSystem.objects.create(code="files", name="Files", transport=ExternalSystem.Transport.FILE)
    other = ExternalSystem.objects.create(code="other", name="Other", transport="pigeon")
    warnings = dashboard_warnings(systems=[netsuite_system, files, other], jobs=job_states(), counts=None)
    by_system = {w.message.split(":")[0]: w for w in warnings}
    rest = by_system["NetSuite"]
    assert "Press Run now on Pull customers from NetSuite (REST)" in rest.message
    assert rest.link == "/admin/console/jobs/#job-pull_customers"
    assert rest.link_text == "Pull customers from NetSuite (REST)"
    assert "Press Run now on Import historical customers (SFTP)" in by_system["Files"].message
    assert by_system["Files"].link.endswith("#job-import_historical_customers")
    assert "No installed job imports them" in by_system["Other"].message
    for warning in warnings:
        assert admin_client.get(warning.link.split("#")[0]).status_code == 200, warning.message
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert '<a href="/admin/console/jobs/#job-pull_customers">Pull customers from NetSuite (REST)</a>' in page
    assert 'id="job-pull_customers"' in admin_client.get(reverse("admin:console_jobs")).content.decode()


@pytest.mark.django_db
def test_a_refusal_for_want_of_the_historical_import_is_not_warned_twice(admin_client, netsuite_system):
    JobRun.objects.create(
        job="push_customers", external_system=netsuite_system, status=JobRun.Status.REFUSED, message="Pull first."
    )
    page = admin_client.get(reverse("admin:index")).content.decode()
    warnings = page.split('id="console-warnings"', 1)[1].split("</ul>", 1)[0]
    assert "Press Run now on Pull customers from NetSuite (REST)" in warnings and "Pull first." not in warnings


@pytest.mark.django_db
def test_a_refusal_settled_by_the_historical_import_since_is_not_warned(admin_client, netsuite_system):
    """The demo: the first export is refused (no historical import yet); the operator then runs the import. The
    dashboard must not keep telling them to run the import first until the export happens to run again."""
    refused = JobRun.objects.create(
        job="push_customers", external_system=netsuite_system, status=JobRun.Status.REFUSED, message="Pull first."
    )
    netsuite_system.historical_import_completed_at = timezone.now()
    assert netsuite_system.historical_import_completed_at > refused.started_at
    netsuite_system.save()

    def warnings() -> str:
        page = admin_client.get(reverse("admin:index")).content.decode()
        return page.split('id="console-warnings"', 1)[1].split("</ul>", 1)[0] if 'id="console-warnings"' in page else ""

    assert "Pull first." not in warnings() and "existing customers have not been imported" not in warnings()

    # Refused again after the import was done: that reason needs action, and is shown.
    JobRun.objects.create(
        job="push_customers", external_system=netsuite_system, status=JobRun.Status.REFUSED, message="Switched off."
    )
    assert "Switched off." in warnings()


@pytest.mark.django_db
def test_dashboard_warns_about_failed_runs_and_overdue_schedules(admin_client, fake_system, registered_job):
    from django_q.models import Schedule

    fake_system.historical_import_completed_at = timezone.now()
    fake_system.save()
    JobRun.objects.create(job=registered_job.key, status=JobRun.Status.FAILED, message="INVALID_LOGIN: token revoked")
    Schedule.objects.filter(name=registered_job.key).update(next_run=timezone.now() - timedelta(hours=3))
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "existing customers have not been imported" not in page
    assert "token revoked" in page
    assert "should have run at" in page and "qcluster" in page


@pytest.mark.django_db
def test_dashboard_query_count_is_fixed(admin_client, make_customer, failed_customer, django_assert_max_num_queries):
    failed_customer()
    dashboard_snapshot_take()
    admin_client.get(reverse("admin:index"))
    with django_assert_max_num_queries(20) as few:
        admin_client.get(reverse("admin:index"))
    for _ in range(10):
        make_customer()
        failed_customer()
    dashboard_snapshot_take()
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin_client.get(reverse("admin:index")).content.decode()
    assert "11 new failures in 14 days" in page
    # The page reads the stored counts; it counts nothing itself.
    assert not any("COUNT(" in q["sql"].upper() for q in few.captured_queries)


@pytest.mark.django_db
def test_dashboard_counts_come_from_the_count_job_and_show_their_age(
    operator_client, operator, make_customer, fake_system, task_queue
):
    customer_refresh_validation(customer=make_customer())
    page = operator_client.get(reverse("admin:index")).content.decode()
    assert "Not counted yet" in page and 'value="Recount now"' in page
    assert "The customer counts below were taken" not in page

    response = operator_client.post(
        reverse("admin:console_jobs"),
        {"job": COUNT_JOB, "run_now": "Recount now", "next": reverse("admin:index")},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert "The dashboard is queued to be recounted now" in response.content.decode()
    [task] = task_queue.drain()
    assert task["kwargs"]["job"] == COUNT_JOB and task["kwargs"]["user_id"] == operator.pk
    run_task(task)
    run = JobRun.objects.get(job=COUNT_JOB)
    assert run.status == JobRun.Status.DONE and run.requested_by == operator
    page = operator_client.get(reverse("admin:index")).content.decode()
    assert status_cells(page, fake_system)["pending"] == 1

    DashboardSnapshot.objects.update(counted_at=timezone.now() - timedelta(minutes=42))
    page = operator_client.get(reverse("admin:index")).content.decode()
    assert "Counted 42\xa0minutes ago" in page
    assert "The customer counts below were taken 42\xa0minutes ago and the count job has not run since" in page


@pytest.mark.django_db
def test_viewer_cannot_recount_the_dashboard(viewer_client, fake_system, task_queue):
    dashboard_snapshot_take()
    page = viewer_client.get(reverse("admin:index")).content.decode()
    assert "Counted 0 seconds ago" in page and "Recount now" not in page
    forged = viewer_client.post(reverse("admin:console_jobs"), {"job": COUNT_JOB, "run_now": "Recount now"})
    assert forged.status_code == 403
    assert task_queue.drain() == []


@pytest.mark.django_db
def test_count_job_keeps_a_day_of_snapshots_and_of_its_unasked_runs(operator):
    old = timezone.now() - timedelta(days=2)
    stale = DashboardSnapshot.objects.create(counted_at=old, counts={})
    unasked = JobRun.objects.create(job=COUNT_JOB, status=JobRun.Status.DONE)
    asked = JobRun.objects.create(job=COUNT_JOB, status=JobRun.Status.DONE, requested_by=operator)
    failed = JobRun.objects.create(job=COUNT_JOB, status=JobRun.Status.FAILED)
    JobRun.objects.update(started_at=old)
    fresh = dashboard_snapshot_take()
    assert list(DashboardSnapshot.objects.all()) == [fresh]
    assert not DashboardSnapshot.objects.filter(pk=stale.pk).exists()
    assert set(JobRun.objects.values_list("pk", flat=True)) == {asked.pk, failed.pk}
    assert not JobRun.objects.filter(pk=unasked.pk).exists()


def test_ids_parse_accepts_spaces_commas_and_lines():
    assert ids_parse(" C1, C2\nC3;C1\t8812 ,,") == ["C1", "C2", "C3", "8812"]


@pytest.mark.django_db
def test_selective_export_sends_each_id_and_reports_unknown_ones(operator_client, operator, make_customer, fake_system):
    a, b = make_customer(), make_customer(price_level="")
    PartyIdentification.objects.create(customer=b, type=NETSUITE_CUSTOMER_ID, value="8812")
    url = reverse("admin:console_selective_export")
    assert "Go" in operator_client.get(url).content.decode()
    response = operator_client.post(url, {"ids": f"{a.customer_id}, 8812\nNOPE-1", "external_system": fake_system.pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="selective-result"') == 3
    assert "No customer has the ID NOPE-1" in page
    assert "Missing price level" in page
    assert "1 of 3 customer(s) sent" in page
    logs = SyncLog.objects.filter(trigger=SyncLog.Trigger.SELECTIVE)
    assert {(log.customer_id, log.outcome, log.created_by_id) for log in logs} == {
        (a.pk, "success", operator.pk),
        (b.pk, "failed", operator.pk),
    }
    dashboard = operator_client.get(reverse("admin:index")).content.decode()
    assert a.customer_id in dashboard.split("Latest sync attempts")[1] and "Selective by olivia" in dashboard


@pytest.mark.django_db
def test_selective_export_logs_an_attempt_even_without_a_connector(operator_client, make_customer, netsuite_system):
    customer = make_customer()
    url = reverse("admin:console_selective_export")
    page = operator_client.post(url, {"ids": customer.customer_id, "external_system": netsuite_system.pk})
    assert "No connector is installed" in page.content.decode() or "NetSuite" in page.content.decode()
    assert SyncLog.objects.filter(customer=customer, trigger=SyncLog.Trigger.SELECTIVE).count() == 1


@pytest.mark.django_db
def test_selective_export_refuses_empty_input(operator_client, fake_system):
    url = reverse("admin:console_selective_export")
    page = operator_client.post(url, {"ids": " , ", "external_system": fake_system.pk})
    assert "Enter at least one customer ID." in page.content.decode()


@pytest.mark.django_db
def test_viewer_cannot_send_a_selective_export(viewer_client, make_customer, fake_system):
    customer = make_customer()
    url = reverse("admin:console_selective_export")
    page = viewer_client.get(url).content.decode()
    assert 'value="Go"' not in page and "Your role may look but not send" in page
    forged = viewer_client.post(url, {"ids": customer.customer_id, "external_system": fake_system.pk})
    assert forged.status_code == 403
    assert not SyncLog.objects.exists()


@pytest.mark.django_db
def test_roles_are_created_idempotently_with_their_permissions():
    roles_ensure()
    roles_ensure()
    operator, viewer = Group.objects.get(name=OPERATOR), Group.objects.get(name=VIEWER)
    op = {f"{p.content_type.app_label}.{p.codename}" for p in operator.permissions.select_related("content_type")}
    vw = {f"{p.content_type.app_label}.{p.codename}" for p in viewer.permissions.select_related("content_type")}
    assert {"console.can_resync", "console.can_run_jobs", "customers.change_customer"} <= op
    assert {"customers.view_customer", "console.view_failedrecord", "customers.view_synclog"} <= vw
    assert not any(p.split(".")[1].startswith(("change_", "add_", "delete_", "can_")) for p in vw)
    assert Group.objects.filter(name__in=[OPERATOR, VIEWER]).count() == 2


@pytest.mark.django_db
def test_dashboard_warns_of_file_customers_awaiting_an_id_for_hours(
    admin_client, netsuite_system, make_customer, django_assert_max_num_queries
):
    netsuite_system.transport = ExternalSystem.Transport.FILE
    netsuite_system.historical_import_completed_at = timezone.now()
    netsuite_system.save()
    old, recent, _pending = make_customer(), make_customer(), make_customer()
    CustomerSync.objects.filter(customer__in=[old, recent]).update(status=CustomerSync.Status.EXPORTED)
    CustomerSync.objects.filter(customer=old).update(last_attempt_at=timezone.now() - timedelta(hours=3))
    CustomerSync.objects.filter(customer=recent).update(last_attempt_at=timezone.now() - timedelta(minutes=30))
    dashboard_snapshot_take()
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert (
        "1 customer was exported to NetSuite more than 2 hours ago and has no NetSuite ID yet: check that "
        "HC_SC_ImportCustomer and HC_MR_ExportedCustomerCSV run, and the export/error folder."
    ) in page
    with django_assert_max_num_queries(30) as before:
        admin_client.get(reverse("admin:index"))
    CustomerSync.objects.filter(customer=recent).update(last_attempt_at=timezone.now() - timedelta(hours=5))
    dashboard_snapshot_take()
    with django_assert_max_num_queries(len(before.captured_queries)):
        page = admin_client.get(reverse("admin:index")).content.decode()
    assert "2 customers were exported to NetSuite more than 2 hours ago and have no NetSuite ID yet" in page

    # A connector that syncs over REST never waits for a file: no warning.
    netsuite_system.transport = ExternalSystem.Transport.REST
    netsuite_system.save()
    assert "more than 2 hours ago" not in admin_client.get(reverse("admin:index")).content.decode()
