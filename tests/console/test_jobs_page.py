"""The Jobs page: frequency presets writing the schedule, Run now, progress, and refusals for viewers."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from customers.models import CustomerSync, ExternalSystem
from customers.services import customer_refresh_validation
from jobs.models import JobRun
from jobs.registry import JOBS

from .conftest import run_task

JOBS_URL = "admin:console_jobs"


@pytest.mark.django_db
def test_jobs_page_lists_jobs_with_next_and_last_run(operator_client, operator, registered_job):
    JobRun.objects.create(job=registered_job.key, status=JobRun.Status.DONE, rows_done=5, rows_total=5)
    page = operator_client.get(reverse(JOBS_URL)).content.decode()
    assert registered_job.title in page
    assert "Every 15 minutes" in page and "Daily" in page
    assert 'value="Run now"' in page
    assert ": Done" in page


@pytest.mark.django_db
def test_changing_the_frequency_writes_the_schedule(operator_client, registered_job):
    response = operator_client.post(reverse(JOBS_URL), {"job": registered_job.key, "frequency": "240"}, follow=True)
    assert "now runs every 4 hours" in response.content.decode()
    schedule = Schedule.objects.get(name=registered_job.key)
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 240
    bad = operator_client.post(reverse(JOBS_URL), {"job": registered_job.key, "frequency": "7"}, follow=True)
    assert "Choose one of the offered frequencies" in bad.content.decode()
    assert Schedule.objects.get(name=registered_job.key).minutes == 240


@pytest.mark.django_db
def test_run_now_queues_the_task_with_who_asked(operator_client, operator, registered_job, task_queue):
    response = operator_client.post(reverse(JOBS_URL), {"job": registered_job.key, "run_now": "Run now"}, follow=True)
    assert "is queued to run now" in response.content.decode()
    [task] = task_queue.drain()
    assert task["func"] == registered_job.task and task["kwargs"]["user_id"] == operator.pk
    assert task["kwargs"]["trigger"] == "on_demand"


@pytest.mark.django_db
def test_run_now_of_a_real_job_records_who_asked_when_the_cluster_runs_it(
    operator_client, operator, make_customer, netsuite_system, task_queue, tmp_path
):
    from netsuite.services import reference_mappings_set
    from sftpsync.models import Feed, SftpConnection

    netsuite_system.transport = ExternalSystem.Transport.FILE
    netsuite_system.historical_import_completed_at = timezone.now()
    netsuite_system.save()
    connection = SftpConnection.objects.create(
        name="local", transport=SftpConnection.Transport.LOCAL, username="ops", local_root=str(tmp_path)
    )
    Feed.objects.create(
        kind=Feed.Kind.EXPORT, external_system=netsuite_system, connection=connection, remote_folder="/export"
    )
    # NetSuite's import takes the subsidiary by internal ID: the connector maps the customer's to one.
    reference_mappings_set(external_system=netsuite_system, mappings={"subsidiaries": {"Parent Company": "1"}})
    customer = make_customer()
    customer_refresh_validation(customer=customer)
    spec = JOBS["export_customers"]

    operator_client.post(reverse(JOBS_URL), {"job": spec.key, "run_now": "Run now"})
    [task] = task_queue.drain()
    assert task["func"] == spec.task
    run_task(task)  # as a cluster worker would

    run = JobRun.objects.get(job=spec.key)
    assert run.requested_by == operator and run.trigger == "on_demand"
    assert run.status == JobRun.Status.DONE, run.message
    assert "Wrote 1 customers" in run.message
    assert CustomerSync.objects.get(customer=customer).status == CustomerSync.Status.EXPORTED
    page = operator_client.get(reverse(JOBS_URL)).content.decode()
    assert "(asked by olivia)" in page


@pytest.mark.django_db
def test_running_job_shows_progress_and_the_page_polls_for_it(operator_client, registered_job):
    run = JobRun.objects.create(job=registered_job.key, rows_total=1000, rows_done=250)
    page = operator_client.get(reverse(JOBS_URL)).content.decode()
    assert "250 of 1000 rows" in page and "fetch(" in page
    data = operator_client.get(reverse("admin:console_jobs_progress")).json()
    assert data["running"] == [
        {"id": run.pk, "job": registered_job.key, "rows_done": 250, "rows_total": 1000, "rows_failed": 0, "message": ""}
    ]
    JobRun.objects.filter(pk=run.pk).update(status=JobRun.Status.DONE)
    assert "fetch(" not in operator_client.get(reverse(JOBS_URL)).content.decode()


@pytest.mark.django_db
def test_viewer_sees_no_run_now_and_is_refused(viewer_client, registered_job, task_queue):
    page = viewer_client.get(reverse(JOBS_URL)).content.decode()
    assert registered_job.title in page
    assert "Run now" not in page.replace("Run now queues it", "") and "<select" not in page
    assert viewer_client.post(reverse(JOBS_URL), {"job": registered_job.key, "run_now": "1"}).status_code == 403
    assert viewer_client.post(reverse(JOBS_URL), {"job": registered_job.key, "frequency": "60"}).status_code == 403
    assert task_queue.drain() == []
    assert Schedule.objects.get(name=registered_job.key).minutes == 15


@pytest.mark.django_db
def test_run_history_page_loads(operator_client, registered_job, operator):
    run = JobRun.objects.create(job=registered_job.key, requested_by=operator, status=JobRun.Status.DONE)
    assert operator_client.get(reverse("admin:console_jobrunrecord_changelist")).status_code == 200
    page = operator_client.get(reverse("admin:console_jobrunrecord_change", args=[run.pk])).content.decode()
    assert "olivia" in page


@pytest.mark.django_db
def test_count_job_runs_every_minute_and_may_go_back_to_it(operator_client):
    page = operator_client.get(reverse(JOBS_URL)).content.decode()
    row = page.split('id="job-count_dashboard"', 1)[1].split("</tr>", 1)[0]
    assert "Count the dashboard" in row and '<option value="1" selected>Every minute</option>' in row
    operator_client.post(reverse(JOBS_URL), {"job": "count_dashboard", "frequency": "15"})
    assert Schedule.objects.get(name="count_dashboard").minutes == 15
    response = operator_client.post(reverse(JOBS_URL), {"job": "count_dashboard", "frequency": "1"}, follow=True)
    assert "now runs every minute" in response.content.decode()
    assert Schedule.objects.get(name="count_dashboard").minutes == 1
