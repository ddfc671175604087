"""The Jobs page: frequency presets writing the schedule, Run now, progress, and refusals for viewers."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from customers.models import CustomerSync, ExternalSystem
from customers.services import customer_refresh_validation
from jobs.models import JobRun
from jobs.registry import JOBS
from jobs.workers import worker_identity

from .conftest import run_task

JOBS_URL = "admin:console_jobs"


@pytest.mark.django_db
def test_jobs_page_lists_jobs_with_next_and_last_run(operator_client, operator, registered_job):
    JobRun.objects.create(job=registered_job.key, status=JobRun.Status.DONE, rows_done=5, rows_total=5)
    page = operator_client.get(reverse(JOBS_URL)).content.decode()
    assert registered_job.title in page
    assert "Every 15 minutes" in page and "Daily" in page
    assert 'value="Run now"' in page
    assert 'console-state-done console-ok">Done</span>' in page and "5 of 5 rows" in page


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
def test_run_now_shows_the_run_queued_at_once_named_by_its_title(operator_client, operator, registered_job, task_queue):
    response = operator_client.post(reverse(JOBS_URL), {"job": registered_job.key, "run_now": "Run now"}, follow=True)
    page = response.content.decode()
    assert "Console test job is queued to run now" in page and "console_test_job is queued" not in page
    run = JobRun.objects.get(job=registered_job.key)
    assert (run.status, run.requested_by, run.trigger) == (JobRun.Status.QUEUED, operator, "on_demand")
    row = page.split('id="job-console_test_job"', 1)[1].split("</tr>", 1)[0]
    assert ">Queued</span> at " in row and "waiting for the job cluster" in row
    [task] = task_queue.drain()
    assert task["func"] == "jobs.tasks.run_queued" and task["kwargs"]["job"] == registered_job.key
    assert task["kwargs"]["user_id"] == operator.pk and task["kwargs"]["run_id"] == run.pk
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
        kind=Feed.Kind.EXPORT, external_system=netsuite_system, sftp_connection=connection, remote_folder="/export"
    )
    # NetSuite's import takes the subsidiary by internal ID: the connector maps the customer's to one.
    reference_mappings_set(external_system=netsuite_system, mappings={"subsidiaries": {"Parent Company": "1"}})
    customer = make_customer()
    customer_refresh_validation(customer=customer)
    spec = JOBS["export_customers"]

    operator_client.post(reverse(JOBS_URL), {"job": spec.key, "run_now": "Run now"})
    queued = JobRun.objects.get(job=spec.key)
    [task] = task_queue.drain()
    assert task["kwargs"]["job"] == spec.key
    run_task(task)  # as a cluster worker would

    run = JobRun.objects.get(job=spec.key)
    assert run.pk == queued.pk and run.external_system == netsuite_system
    # Counted before the export's transaction, so the console showed "0 of 1" from the start.
    assert (run.rows_total, run.rows_done) == (1, 1)
    assert run.requested_by == operator and run.trigger == "on_demand"
    assert run.status == JobRun.Status.DONE, run.message
    assert "Wrote 1 customers" in run.message
    assert CustomerSync.objects.get(customer=customer).status == CustomerSync.Status.EXPORTED
    page = operator_client.get(reverse(JOBS_URL)).content.decode()
    assert "(asked by olivia)" in page and "Wrote 1 customers" in page


@pytest.mark.django_db
def test_running_job_shows_progress_and_the_page_refreshes_it_in_place(operator_client, registered_job):
    run = JobRun.objects.create(job=registered_job.key, rows_total=1000, rows_done=250, worker=worker_identity())
    page = operator_client.get(reverse(JOBS_URL)).content.decode()
    assert '<progress max="1000" value="250">' in page and "250 of 1,000 rows" in page
    assert "console/refresh.js" in page and 'data-poll-url="/admin/console/jobs/progress/"' in page
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page  # without JavaScript
    data = operator_client.get(reverse("admin:console_jobs_progress")).json()
    assert data["active"] == 1 and data["newest_run"] == run.pk
    cells = data["jobs"][registered_job.key]
    assert cells.count("<td") == 3 and "250 of 1,000 rows" in cells

    JobRun.objects.filter(pk=run.pk).update(rows_done=1000, status=JobRun.Status.DONE)
    data = operator_client.get(reverse("admin:console_jobs_progress")).json()
    cells = data["jobs"][registered_job.key]
    assert data["active"] == 0 and ">Done</span>" in cells and "not running" in cells


@pytest.mark.django_db
def test_a_run_without_a_total_says_so(operator_client, registered_job):
    JobRun.objects.create(job=registered_job.key, rows_done=7, worker=worker_identity())
    page = operator_client.get(reverse(JOBS_URL)).content.decode()
    assert "<progress></progress>" in page and "7 rows, total not known yet" in page


@pytest.mark.django_db
def test_a_killed_run_reads_interrupted_on_the_jobs_page_the_run_list_and_the_refresh(operator_client, registered_job):
    killed = JobRun.objects.create(
        job=registered_job.key, rows_total=10, rows_done=4, worker="another-host:99", heartbeat_at=timezone.now()
    )
    JobRun.objects.filter(pk=killed.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    page = operator_client.get(reverse(JOBS_URL)).content.decode()
    row = page.split(f'id="job-{registered_job.key}"', 1)[1].split("</tr>", 1)[0]
    assert ">Interrupted</span>" in row and "not running" in row and "stopped before it finished" in row
    history = operator_client.get(reverse("admin:console_jobrunrecord_changelist")).content.decode()
    assert f'data-run="{killed.pk}" data-field="state"' in history and ">Interrupted</span>" in history
    assert "Console test job" in history  # by its title
    fields = operator_client.get(reverse("admin:console_jobs_progress"), {"runs": str(killed.pk)}).json()["runs"]
    assert ">Interrupted</span>" in fields[str(killed.pk)]["state"]
    assert fields[str(killed.pk)]["rows"] == "4 of 10 rows"


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
