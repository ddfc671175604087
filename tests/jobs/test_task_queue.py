import pytest
from django_q.tasks import async_task

from jobs.models import JobRun


@pytest.mark.django_db
def test_task_queue_fixture(task_queue):
    async_task("math.floor", 2.5, user_id=3)
    tasks = task_queue.drain()
    assert [(t["func"], t["args"], t["kwargs"]["user_id"]) for t in tasks] == [("math.floor", (2.5,), 3)]
    assert task_queue.drain() == []


@pytest.mark.django_db
def test_job_enqueue_queues_the_jobs_task_with_who_asked(task_queue, admin_user):
    from jobs.registry import JOBS, JobSpec, job_enqueue, register_job

    spec = register_job(JobSpec(key="probe_job", title="Probe", task="math.floor", command="noop"))
    try:
        job_enqueue(key="probe_job", user=admin_user, connection="netsuite")
    finally:
        JOBS.pop(spec.key)
    (task,) = task_queue.drain()
    (run,) = JobRun.objects.filter(job="probe_job")
    assert (run.status, run.requested_by, run.trigger) == (JobRun.Status.QUEUED, admin_user, "on_demand")
    assert task["func"] == "jobs.tasks.run_queued"
    assert task["kwargs"] == {
        "job": "probe_job",
        "run_id": run.pk,
        "trigger": "on_demand",
        "user_id": admin_user.pk,
        "connection": "netsuite",
    }
