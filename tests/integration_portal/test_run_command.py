"""The README's run command: the admin answers, the sandbox and the django-q2 cluster run, a schedule fires,
and Ctrl-C stops all of it within seconds, even while a worker is busy with a long task."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.demo_portal import DemoPortal, http_status, running, wait_for


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[DemoPortal]:
    portal = DemoPortal(tmp_path_factory.mktemp("run"), customers=40).start()
    try:
        yield portal
    finally:
        portal.stop()


@pytest.mark.slow
def test_run_command_serves_admin_and_runs_cluster_and_schedules(demo):
    banner = demo.banner()
    assert f"{demo.url}/admin/" in banner and "Admin login: admin / " in banner
    assert "Press Ctrl-C to stop all of them" in banner and "make reset" in banner
    assert http_status(f"{demo.url}/static/admin/css/base.css") == 200
    for key_file in ("secret_key", "encryption_key"):  # the install's own keys, readable by its owner only
        assert (demo.var / key_file).stat().st_mode & 0o777 == 0o600
    cluster = subprocess.run(["pgrep", "-f", "manage.py qcluster"], capture_output=True, text=True)
    ours = set(map(int, cluster.stdout.split())) & set(demo.processes())
    assert ours, "no qcluster process under the run command"
    # The cluster mails the failure digests: their links must reach this web server, on whatever PORT it runs.
    environ = Path(f"/proc/{min(ours)}/environ").read_bytes().split(b"\0")
    assert f"PORTAL_BASE_URL={demo.url}".encode() in environ

    # A schedule due now is turned into a task by the cluster's scheduler and executed.
    demo.manage(
        "shell",
        "-c",
        "from django_q.models import Schedule; from django.utils import timezone; "
        "Schedule.objects.create(name='probe', func='math.floor', args='2.5', next_run=timezone.now())",
    )

    def probe_ran():
        return demo.query("select success from django_q_task where \"group\" = 'probe'")

    assert wait_for(probe_ran, 90, "the scheduled probe task") == [(1,)]


@pytest.mark.slow
def test_ctrl_c_stops_web_sandbox_cluster_and_a_busy_worker_within_seconds(demo):
    # django-q2 lets a busy worker finish its task before the cluster stops: this one would take 10 minutes.
    demo.manage("shell", "-c", "from django_q.tasks import async_task; async_task('time.sleep', 600, task_name='busy')")
    wait_for(lambda: "processing busy" in (demo.var / "log" / "qcluster.log").read_text(), 60, "a worker to take it")
    assert len(demo.processes()) >= 8  # bash, sandbox, web, cluster (main, sentinel, monitor, pusher, workers)

    took = demo.interrupt(timeout=30)

    assert took < 8, f"Ctrl-C took {took:.1f} s to stop everything"
    assert demo.process.wait(timeout=5) == 130  # the shell exits as interrupted
    assert "Stopped." in demo.banner()


@pytest.mark.slow
def test_ctrl_c_of_make_run_piped_into_tee_still_stops_everything(tmp_path):
    """`make run 2>&1 | tee run.log`: Ctrl-C ends tee at once, so the stop's own message meets a closed pipe. It
    used to end the script there (set -e, SIGPIPE) and leave the web server, the sandboxes and the cluster running,
    holding their ports."""
    demo = DemoPortal(tmp_path, customers=20, tee=True).start()
    try:
        assert "Press Ctrl-C to stop all of them" in demo.banner()
        # Ctrl-C reaches every process of the pipeline at once; tee ending first is the case that went wrong.
        [tee] = [pid for pid in demo.processes() if Path(f"/proc/{pid}/comm").read_text().strip() == "tee"]
        os.kill(tee, signal.SIGINT)
        wait_for(lambda: not running(tee), 10, "tee to end")
        took = demo.interrupt(timeout=30)
        assert took < 8, f"Ctrl-C took {took:.1f} s to stop everything"
        assert http_status(f"{demo.url}/admin/login/") is None
    finally:
        demo.stop()


@pytest.mark.slow
def test_the_demo_stops_when_what_started_it_ends_without_passing_a_signal_on(tmp_path):
    """`make run` ended by SIGTERM (a process manager, `timeout make run`): make dies and passes nothing on to its
    recipe. The run script notices it has lost its parent and stops everything, as on Ctrl-C."""
    demo = DemoPortal(tmp_path, customers=20, wrapped=True).start()
    pids = demo.processes()
    commands = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in pids}
    try:
        assert len(pids) >= 6
        started = time.monotonic()
        os.kill(demo.process.pid, signal.SIGTERM)  # the parent shell alone, as make is
        wait_for(lambda: not any(running(pid) for pid in pids), 30, "every process of the demo to end", 0.1)
        assert time.monotonic() - started < 10
        assert http_status(f"{demo.url}/admin/login/") is None
        assert "Stopped." in demo.banner()
    finally:
        for pid, command in commands.items():  # adopted elsewhere once the parent is gone: not found from it
            with contextlib.suppress(OSError):  # gone (or its number reused by another program: left alone)
                if Path(f"/proc/{pid}/cmdline").read_bytes() == command:
                    os.kill(pid, signal.SIGKILL)
        demo.stop()
