"""The README's run command: the admin answers, the sandbox and the django-q2 cluster run, a schedule fires."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return response.status
    except OSError:
        return None


@pytest.mark.slow
def test_run_command_serves_admin_and_runs_cluster_and_schedules(tmp_path):
    port, sandbox_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PORTAL_ENCRYPTION_KEY")
    }
    env.update(
        {
            "PYTHON": sys.executable,
            "PORTAL_VAR_DIR": str(tmp_path),
            "PORT": str(port),
            "SANDBOX_PORT": str(sandbox_port),
            "DEMO_CUSTOMERS": "40",
            "Q_CLUSTER_NAME": f"run-{port}",
        }
    )
    log = open(tmp_path / "run.log", "w")  # noqa: SIM115 (closed in finally)
    run = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: http_status(f"{base}/admin/login/") == 200, 120, "the admin login page")
        banner = (tmp_path / "run.log").read_text()
        assert f"{base}/admin/" in banner and "Admin login: admin / " in banner
        assert http_status(f"{base}/static/admin/css/base.css") == 200
        for key_file in ("secret_key", "encryption_key"):  # the install's own keys, readable by its owner only
            assert (tmp_path / key_file).stat().st_mode & 0o777 == 0o600
        wait_for(lambda: http_status(f"http://127.0.0.1:{sandbox_port}/_sandbox/health") == 200, 30, "the sandbox")
        cluster = subprocess.run(["pgrep", "-f", "manage.py qcluster", "-s", str(run.pid)], capture_output=True)
        assert cluster.returncode == 0, "no qcluster process in the run command's session"

        # A schedule due now is turned into a task by the cluster's scheduler and executed.
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from django_q.models import Schedule; from django.utils import timezone; "
                "Schedule.objects.create(name='probe', func='math.floor', args='2.5', next_run=timezone.now())",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        db = sqlite3.connect(tmp_path / "portal.sqlite3", timeout=20)

        def probe_ran():
            return db.execute("select success from django_q_task where \"group\" = 'probe'").fetchone()

        assert wait_for(probe_ran, 90, "the scheduled probe task") == (1,)
    finally:
        os.killpg(run.pid, signal.SIGTERM)
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
        log.close()
