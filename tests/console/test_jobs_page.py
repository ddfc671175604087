"""The Jobs page: frequency presets writing the schedule, Run now, progress, and refusals for viewers."""

import pytest
from django.urls import reverse
from django_q.models import OrmQ, Schedule

from jobs.models import JobRun

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
def test_run_now_queues_the_task_with_who_asked(operator_client, operator, registered_job):
    before = OrmQ.objects.count()
    response = operator_client.post(reverse(JOBS_URL), {"job": registered_job.key, "run_now": "Run now"}, follow=True)
    assert "is queued to run now" in response.content.decode()
    assert OrmQ.objects.count() == before + 1
    task = OrmQ.objects.latest("id").task
    assert task["func"] == registered_job.task and task["kwargs"]["user_id"] == operator.pk
    assert task["kwargs"]["trigger"] == "on_demand"


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
def test_viewer_sees_no_run_now_and_is_refused(viewer_client, registered_job):
    page = viewer_client.get(reverse(JOBS_URL)).content.decode()
    assert registered_job.title in page
    assert "Run now" not in page.replace("Run now queues it", "") and "<select" not in page
    before = OrmQ.objects.count()
    assert viewer_client.post(reverse(JOBS_URL), {"job": registered_job.key, "run_now": "1"}).status_code == 403
    assert viewer_client.post(reverse(JOBS_URL), {"job": registered_job.key, "frequency": "60"}).status_code == 403
    assert OrmQ.objects.count() == before
    assert Schedule.objects.get(name=registered_job.key).minutes == 15


@pytest.mark.django_db
def test_run_history_page_loads(operator_client, registered_job, operator):
    run = JobRun.objects.create(job=registered_job.key, requested_by=operator, status=JobRun.Status.DONE)
    assert operator_client.get(reverse("admin:console_jobrunrecord_changelist")).status_code == 200
    page = operator_client.get(reverse("admin:console_jobrunrecord_change", args=[run.pk])).content.decode()
    assert "olivia" in page
