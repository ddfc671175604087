import pytest
from django_q.models import Schedule

from jobs.models import JobRun
from jobs.registry import JOBS, JobSpec, register_job, schedule_ensure, schedules_ensure
from jobs.services import JobRefused, job_run


@pytest.mark.django_db
def test_job_run_records_progress_and_outcome():
    with job_run(job="demo", total=3) as progress:
        progress.advance(2)
        progress.advance(1, failed=1)
    run = JobRun.objects.get(job="demo")
    assert (run.status, run.rows_total, run.rows_done, run.rows_failed) == ("partly_failed", 3, 3, 1)
    assert run.finished_at is not None


@pytest.mark.django_db
def test_job_run_records_failure_and_reraises():
    with pytest.raises(RuntimeError), job_run(job="demo") as progress:
        progress.advance(5)
        raise RuntimeError("disk full")
    run = JobRun.objects.get(job="demo")
    assert run.status == "failed" and "disk full" in run.message and run.rows_done == 5


@pytest.mark.django_db
def test_refused_job_says_why():
    with pytest.raises(JobRefused), job_run(job="demo"):
        raise JobRefused("Run the historical import first.")
    run = JobRun.objects.get(job="demo")
    assert (run.status, run.message) == ("refused", "Run the historical import first.")


@pytest.mark.django_db
def test_progress_is_visible_while_running():
    with job_run(job="demo", total=10) as progress:
        progress.advance(4)
        progress.flush(force=True)
        assert JobRun.objects.get(job="demo").rows_done == 4
        assert JobRun.objects.get(job="demo").status == "running"


@pytest.mark.django_db
def test_schedule_created_once_and_operator_frequency_kept():
    spec = JobSpec(key="test_job", title="Test", task="math.floor", command="noop", default_minutes=15)
    schedule = schedule_ensure(spec=spec)
    assert (schedule.func, schedule.minutes, schedule.schedule_type) == ("math.floor", 15, Schedule.MINUTES)
    Schedule.objects.filter(pk=schedule.pk).update(minutes=60)
    again = schedule_ensure(spec=spec)
    assert again.pk == schedule.pk and again.minutes == 60
    assert Schedule.objects.filter(name="test_job").count() == 1


@pytest.mark.django_db
def test_registered_jobs_are_scheduled_on_migrate():
    # The test database was migrated, so every scheduled job of the installed apps has its schedule.
    expected = {key for key, spec in JOBS.items() if spec.scheduled}
    assert expected <= set(Schedule.objects.values_list("name", flat=True))
    spec = register_job(JobSpec(key="late_job", title="Late", task="math.ceil", command="noop"))
    try:
        schedules_ensure()
        assert Schedule.objects.filter(name="late_job", func="math.ceil").exists()
    finally:
        JOBS.pop(spec.key)
