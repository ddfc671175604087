import os
import pydoc
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone
from django_q.models import Schedule

from customers.models import Customer
from jobs.models import JobRun
from jobs.registry import JOBS, JobSpec, job_enqueue, register_job, schedule_ensure, schedules_ensure
from jobs.services import JobRefused, job_run, job_runs_settle_interrupted, outcome_status, user_by_id
from jobs.workers import worker_alive, worker_identity

ROOT = Path(__file__).resolve().parents[2]


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


# --- the states of a run: queued, running, done / partly failed / failed / refused, interrupted ---


def probe_task(*, trigger: str = "scheduled", user_id: int | None = None, systems: int = 2, fail: str = "") -> str:
    """A job's task as the connectors write them: one recorded run per connection, each of 3 rows."""
    if fail:
        raise RuntimeError(fail)
    for n in range(systems):
        with job_run(job="probe_job", trigger=trigger, user=user_by_id(user_id), total=3) as progress:
            progress.advance(3, failed=n)
    return "No connection to run for." if not systems else f"Ran for {systems} connections."


@pytest.fixture
def probe_job(db) -> Iterator[JobSpec]:
    spec = register_job(
        JobSpec(key="probe_job", title="Probe the job states", task=f"{__name__}.probe_task", command="x")
    )
    yield spec
    JOBS.pop(spec.key)


def run_like_a_worker(task: dict):
    """Run a queued django-q2 task here and now, as a cluster worker does."""
    return pydoc.locate(task["func"])(*task["args"], **task["kwargs"])


@pytest.mark.django_db
def test_run_now_shows_queued_at_once_and_its_task_adopts_that_run(probe_job, task_queue, admin_user):
    queued = job_enqueue(key=probe_job.key, user=admin_user)
    assert JobRun.objects.get().status == JobRun.Status.QUEUED and queued.queued_at is not None
    [task] = task_queue.drain()
    assert run_like_a_worker(task) == "Ran for 2 connections."
    first, second = JobRun.objects.order_by("pk")
    # The first connection's run is the queued record; the second gets a record of its own.
    assert first.pk == queued.pk and first.requested_by == admin_user and first.trigger == "on_demand"
    assert (first.status, first.rows_done, first.rows_total) == (JobRun.Status.DONE, 3, 3)
    assert first.started_at >= first.queued_at and first.worker.split(":")[1] == str(os.getpid())
    assert (second.status, second.rows_failed, second.requested_by) == (JobRun.Status.PARTLY_FAILED, 1, admin_user)


@pytest.mark.django_db
def test_a_queued_run_whose_task_finds_nothing_to_do_says_so(probe_job, task_queue):
    job_enqueue(key=probe_job.key, systems=0)
    run_like_a_worker(task_queue.drain()[0])
    run = JobRun.objects.get()
    assert (run.status, run.message) == (JobRun.Status.DONE, "No connection to run for.")
    assert run.finished_at is not None


@pytest.mark.django_db
def test_a_queued_run_whose_task_fails_before_starting_fails(probe_job, task_queue):
    job_enqueue(key=probe_job.key, fail="no such feed")
    with pytest.raises(RuntimeError):
        run_like_a_worker(task_queue.drain()[0])
    run = JobRun.objects.get()
    assert (run.status, run.message) == (JobRun.Status.FAILED, "RuntimeError: no such feed")


@pytest.mark.django_db
def test_a_run_that_cannot_be_queued_does_not_stay_queued(probe_job, monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis refused the connection")

    monkeypatch.setattr("jobs.registry.async_task", broker_down)
    with pytest.raises(ConnectionError):
        job_enqueue(key=probe_job.key)
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.FAILED and "could not be queued" in run.message and "REDIS_URL" in run.message


@pytest.mark.parametrize(
    ("done", "failed", "status"),
    [(222, 0, "done"), (222, 222, "failed"), (222, 1, "partly_failed"), (0, 0, "done"), (5, 9, "failed")],
)
def test_outcome_follows_the_figures(done, failed, status):
    # "0 sent, 222 failed" is failed, not partly failed; partly failed needs at least one row that succeeded.
    assert outcome_status(rows_done=done, rows_failed=failed) == status


@pytest.mark.django_db
def test_every_row_failed_is_a_failed_run():
    with job_run(job="demo", total=222) as progress:
        for _ in range(222):
            progress.advance(1, failed=1)
    run = JobRun.objects.get()
    assert (run.status, run.rows_done, run.rows_failed, run.rows_succeeded) == ("failed", 222, 222, 0)


@pytest.mark.django_db
def test_ctrl_c_on_a_terminal_leaves_an_interrupted_run():
    with pytest.raises(KeyboardInterrupt), job_run(job="demo", total=10) as progress:
        progress.advance(4)
        raise KeyboardInterrupt
    run = JobRun.objects.get()
    assert (run.status, run.rows_done) == ("interrupted", 4) and "carries on" in run.message


def dead_worker_identity() -> str:
    """The identity of a process that has ended: what a killed worker leaves in its run."""
    code = "from jobs.workers import worker_identity; print(worker_identity())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.strip()


@pytest.mark.django_db
def test_a_run_whose_process_is_gone_reads_interrupted_at_once():
    identity = dead_worker_identity()
    if worker_alive(identity) is None:
        pytest.skip("this system has no /proc to tell whether a process runs")
    run = JobRun.objects.create(job="demo", worker=identity, heartbeat_at=timezone.now())
    assert run.state == JobRun.Status.INTERRUPTED and run.get_state_display() == "Interrupted"
    assert "stopped before it finished" in run.state_message
    assert run.status == JobRun.Status.RUNNING  # computed on read; the sweep settles it


@pytest.mark.django_db
def test_a_run_is_interrupted_when_its_heartbeat_stopped_longer_ago_than_the_threshold(settings):
    settings.JOB_STALE_SECONDS = 60
    other_host = "another-host:4242"  # a process this machine cannot see: only the heartbeat tells
    fresh = JobRun.objects.create(job="demo", worker=other_host, heartbeat_at=timezone.now() - timedelta(seconds=30))
    silent = JobRun.objects.create(job="demo", worker=other_host, heartbeat_at=timezone.now() - timedelta(seconds=90))
    assert fresh.state == JobRun.Status.RUNNING
    assert silent.state == JobRun.Status.INTERRUPTED


@pytest.mark.django_db
def test_a_live_process_keeps_its_run_running_even_when_its_heartbeat_is_late():
    # A busy SQLite file can hold back the heartbeat of a job that is very much alive.
    run = JobRun.objects.create(job="demo", worker=worker_identity(), heartbeat_at=timezone.now() - timedelta(days=1))
    assert run.state == JobRun.Status.RUNNING


@pytest.mark.django_db
def test_the_sweep_settles_interrupted_runs_and_leaves_the_rest(settings):
    settings.JOB_STALE_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=5)
    killed = JobRun.objects.create(job="demo", worker=dead_worker_identity(), heartbeat_at=timezone.now())
    silent = JobRun.objects.create(job="demo", worker="another-host:1", heartbeat_at=long_ago)
    alive = JobRun.objects.create(job="demo", worker=worker_identity(), heartbeat_at=long_ago)
    done = JobRun.objects.create(job="demo", status=JobRun.Status.DONE, heartbeat_at=long_ago)
    queued = JobRun.objects.create(job="demo", status=JobRun.Status.QUEUED)
    expected = {killed.pk, silent.pk} if worker_alive(killed.worker) is not None else {silent.pk}
    assert job_runs_settle_interrupted() == len(expected)
    statuses = dict(JobRun.objects.values_list("pk", "status"))
    assert {pk for pk, status in statuses.items() if status == "interrupted"} == expected
    assert (statuses[alive.pk], statuses[done.pk], statuses[queued.pk]) == ("running", "done", "queued")
    settled = JobRun.objects.get(pk=silent.pk)
    assert settled.finished_at == long_ago and "carries on" in settled.message


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="SQLite has one writer: a job's open transaction holds back every other write, its run's progress too",
)
@pytest.mark.django_db(transaction=True)
def test_progress_inside_the_jobs_own_transaction_is_written_outside_it_with_the_heartbeat(settings):
    settings.JOB_HEARTBEAT_SECONDS = 0.3
    seen: list[tuple] = []

    def look(run_pk: int) -> None:
        # Another connection, as the console's: it sees only what was committed.
        try:
            seen.append(
                tuple(JobRun.objects.filter(pk=run_pk).values_list("rows_total", "rows_done", "heartbeat_at")[0])
            )
        finally:
            connections.close_all()

    with job_run(job="demo") as progress:
        started = JobRun.objects.get(pk=progress.run.pk).heartbeat_at
        with transaction.atomic():
            progress.set_total(100)
            progress.advance(40)
            Customer.objects.create(customer_id="C-IN-TX")  # the job's own writes, not committed yet
            time.sleep(1.5)
            watcher = threading.Thread(target=look, args=(progress.run.pk,))
            watcher.start()
            watcher.join()
    (total, done, beat) = seen[0]
    assert (total, done) == (100, 40) and beat > started
    assert JobRun.objects.get().status == "done"


@pytest.mark.django_db
def test_the_terminal_progress_bar_shows_the_jobs_title_and_its_total(probe_job, capsys):
    with job_run(job=probe_job.key, show_progress=True) as progress:
        progress.set_total(10)
        progress.advance(4, failed=1)
    err = capsys.readouterr().err
    assert "Probe the job states" in err and "4/10" in err and "failed=1" in err
