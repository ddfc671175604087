"""The demo as `make run` starts it (scripts/run.sh), for tests: web server, NetSuite sandbox, django-q2 cluster
and seed_demo's data, on free ports in a folder of the test's own, with the embedded defaults (a SQLite file)."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return response.status
    except OSError:
        return None


def descendants(pid: int) -> list[int]:
    """The process and every process below it, by their parent IDs in /proc (new sessions and groups too)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (a zombie has stopped; only its exit status is left)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class DemoPortal:
    """scripts/run.sh in ``var``: start it, ask it things, stop it as Ctrl-C would."""

    def __init__(
        self,
        var: Path,
        *,
        customers: int = 60,
        env: dict[str, str] | None = None,
        tee: bool = False,
        wrapped: bool = False,
    ):
        self.var = var
        self.tee = tee  # run as `make run 2>&1 | tee run.log`: its output goes through a pipe
        self.wrapped = wrapped  # run under a parent shell that waits for it, as make's recipe does
        self.port, self.sandbox_port = free_port(), free_port()
        # The demo makes its own keys in var/ (as on a fresh machine): no key from the test run is passed on.
        dropped = ("DATABASE_URL", "REDIS_URL", "PORTAL_TESTING", "SECRET_KEY", "PORTAL_ENCRYPTION_KEY")
        self.env = {k: v for k, v in os.environ.items() if k not in dropped}
        self.env.update(
            {
                "PYTHON": sys.executable,
                "PORTAL_VAR_DIR": str(var),
                "PORT": str(self.port),
                "SANDBOX_PORT": str(self.sandbox_port),
                # Not run.sh's default 8766: that is the port of a `make run` on the same machine.
                "SHOPIFY_SANDBOX_PORT": str(free_port()),
                "DEMO_CUSTOMERS": str(customers),
                "Q_CLUSTER_NAME": f"demo-{self.port}",
                **(env or {}),
            }
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def start(self, timeout: float = 180) -> DemoPortal:
        # tee writes run.log itself; its own output (the terminal's copy) is not needed.
        self._log = open(os.devnull if self.tee else self.var / "run.log", "w")  # noqa: SIM115 (closed in stop)
        # A session of its own, as a terminal gives `make run`: Ctrl-C goes to its whole foreground group.
        command = ["bash", "scripts/run.sh"]
        if self.tee:
            command = ["bash", "-c", f"bash scripts/run.sh 2>&1 | tee {shlex.quote(str(self.var / 'run.log'))}"]
        elif self.wrapped:
            command = ["bash", "-c", "bash scripts/run.sh; true"]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: http_status(f"{self.url}/admin/login/") == 200, timeout, "the demo's admin login page")
        wait_for(lambda: http_status(f"{self.sandbox_url}/_sandbox/health") == 200, 30, "the NetSuite sandbox")
        return self

    @property
    def login(self) -> tuple[str, str]:
        """The admin login seed_demo printed, as the README tells a newcomer to use it."""
        line = (self.var / "log" / "seed.log").read_text().strip().splitlines()[-1]
        username, password = line.removeprefix("Admin login: ").split(" / ")
        return username, password

    def banner(self) -> str:
        return (self.var / "run.log").read_text()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the demo's database (the SQLite file), as an operator's report would."""
        with sqlite3.connect(self.var / "portal.sqlite3", timeout=20) as db:
            return db.execute(sql, params).fetchall()

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, check=True
        )
        return result.stdout

    def sandbox_config(self, **faults: Any) -> None:
        request = urllib.request.Request(  # noqa: S310 (loopback only)
            f"{self.sandbox_url}/_sandbox/config",
            data=json.dumps(faults).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310
            pass

    def processes(self) -> list[int]:
        assert self.process is not None
        return descendants(self.process.pid)

    def interrupt(self, timeout: float = 30) -> float:
        """Press Ctrl-C (SIGINT to the foreground process group); return how long until every process ended."""
        assert self.process is not None
        pids = self.processes()
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)
        wait_for(lambda: not any(running(pid) for pid in pids), timeout, "every process of the demo to end", 0.1)
        return time.monotonic() - started

    def stop(self) -> None:
        """Make sure nothing is left (after a test that failed halfway): the whole tree, then its session."""
        if self.process is None:
            return
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()
        self.process = None
