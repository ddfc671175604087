"""A real django-q2 cluster executes queued work, on the ORM broker and, where there is one, on Redis."""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def brokers():
    yield pytest.param({}, id="orm")
    redis_url = os.environ.get("REDIS_URL")
    yield pytest.param(
        {"REDIS_URL": redis_url or ""},
        id="redis",
        marks=[pytest.mark.redis, pytest.mark.skipif(not redis_url, reason="REDIS_URL not set")],
    )


def manage(env, *args, timeout=120):
    out = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.mark.slow
@pytest.mark.parametrize("broker_env", list(brokers()))
def test_cluster_executes_queued_task(tmp_path, broker_env):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"PORTAL_VAR_DIR": str(tmp_path), "Q_CLUSTER_NAME": f"test-{tmp_path.name}", **broker_env})
    manage(env, "migrate", "-v0")
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        manage(
            env,
            "shell",
            "-c",
            "from django_q.tasks import async_task; async_task('math.floor', 2.5, task_name='probe')",
        )
        db = sqlite3.connect(tmp_path / "portal.sqlite3")
        deadline = time.monotonic() + 60
        result = None
        while time.monotonic() < deadline and result is None:
            row = db.execute("select result, success from django_q_task where name = 'probe'").fetchone()
            result = row
            time.sleep(0.5)
        assert result is not None, "the cluster did not run the task within 60 s"
        assert result[1] == 1
    finally:
        cluster.terminate()
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cluster.kill()
