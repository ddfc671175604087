"""Push workers in processes of their own: killed mid-batch and run again, or three at once on one pending set."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db
from django.db.models import Count
from django.utils import timezone

from customers.demo import seed_customers
from customers.models import Contact, Customer, CustomerSync, SyncFailure, SyncLog
from netsuite.apps import DEMO_DEFAULTS, DEMO_MAPPINGS
from netsuite.models import BatchJob, NetSuiteConnection, PushClaim
from netsuite.services import reference_mappings_set
from netsuite_sandbox import NetSuiteSandbox

ROOT = Path(__file__).resolve().parents[2]
# Short leases, claims and retry waits, so a run after a killed one need not wait long.
FAST = {
    "PORTAL_TESTING": "1",
    "NETSUITE_RETRY_BACKOFF_SECONDS": "0.01",
    "NETSUITE_LEASE_MARGIN_SECONDS": "1",
    "NETSUITE_CLAIM_SECONDS": "2",
}


def _env(database_url: str, *, redis: bool = False, var_dir: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(FAST, DATABASE_URL=database_url)
    if redis and settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    if var_dir is not None:
        env["PORTAL_VAR_DIR"] = str(var_dir)
    return env


def _push_command() -> list[str]:
    return [sys.executable, "manage.py", "push_customers", "--connection", "netsuite"]


# --- a bulk push killed with batches in NetSuite's hands ------------------------------------------------

SETUP = """
from django.utils import timezone
from customers.demo import seed_customers
from customers.models import ExternalSystem
from netsuite.apps import DEMO_DEFAULTS, DEMO_MAPPINGS
from netsuite.models import NetSuiteConnection
from netsuite.services import reference_mappings_set
system = ExternalSystem.objects.create(code="netsuite", name="NetSuite", historical_import_completed_at=timezone.now())
reference_mappings_set(external_system=system, mappings=DEMO_MAPPINGS)
NetSuiteConnection.objects.create(
    external_system=system, account_id={account!r}, base_url={base!r}, consumer_key={ck!r}, consumer_secret={cs!r},
    token_id={ti!r}, token_secret={ts!r}, concurrency_share=5, request_timeout=2, batch_threshold=100,
    defaults=DEMO_DEFAULTS, push_on_change=False,
)
seed_customers(total={total}, systems=[system])
"""


def _sqlite_state(path: Path) -> dict:
    with sqlite3.connect(path, timeout=30) as con:
        statuses = dict(
            con.execute("SELECT status, count(*) FROM customers_customersync WHERE enabled GROUP BY status").fetchall()
        )
        synced = dict(
            con.execute(
                "SELECT c.customer_id, s.external_id FROM customers_customersync s "
                "JOIN customers_customer c ON c.id = s.customer_id WHERE s.status = 'synced'"
            ).fetchall()
        )
        codes = {r[0] for r in con.execute("SELECT DISTINCT last_error_code FROM customers_customersync WHERE enabled")}
        batches = con.execute("SELECT count(*), count(job_url) FROM netsuite_batchjob").fetchone()
        claims = con.execute("SELECT count(*) FROM netsuite_pushclaim").fetchone()[0]
    return {"statuses": statuses, "synced": synced, "codes": codes, "batches": batches, "claims": claims}


@pytest.mark.slow
def test_a_bulk_push_killed_mid_batch_and_run_again_duplicates_nothing_and_loses_no_one(
    netsuite_sandbox: NetSuiteSandbox, tmp_path: Path
) -> None:
    path = tmp_path / "db.sqlite3"
    env = _env(f"sqlite:///{path}", var_dir=tmp_path)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True)
    sb = netsuite_sandbox
    setup = SETUP.format(
        account=sb.account_id, base=sb.base_url, ck=sb.consumer_key, cs=sb.consumer_secret, ti=sb.token_id,
        ts=sb.token_secret, total=1500,
    )  # fmt: skip
    subprocess.run([sys.executable, "manage.py", "shell", "-c", setup], cwd=ROOT, env=env, check=True)

    # NetSuite takes the batches but runs none of them yet; the push is killed while it waits for their results.
    sb.configure(async_hold=True)
    proc = subprocess.Popen(_push_command(), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while sb.stats["async_jobs_created"] < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = _sqlite_state(path)
    assert sb.stats["async_jobs_created"] >= 3
    assert killed["batches"][0] >= 3, "no batch was waiting for its results when the push was killed"
    assert sb.count_customers() == 0

    sb.configure(async_hold=False)
    time.sleep(2.5)  # the killed push's claims and leases run out
    again = subprocess.run(_push_command(), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode in (0, 1), again.stderr  # 1: some demo customers are invalid, as seeded

    state = _sqlite_state(path)
    stats = sb.stats
    # No duplicate: each customer sent is in NetSuite once, under its own external ID, and in one job only.
    assert sb.duplicates() == {"email": {}, "name": sb.duplicates()["name"]}
    assert sb.count_customers() == len(state["synced"]) == stats["async_tasks_created"]
    for customer_id, internal_id in list(state["synced"].items())[:50]:
        assert [r["id"] for r in sb.customers_by_external_id(customer_id)] == [internal_id]
    # No one lost: every customer with the connector selected was sent, or failed for a reason of its own; no batch
    # or claim is left.
    assert set(state["statuses"]) <= {"synced", "error"}
    assert state["codes"] <= {"", "MISSING_PRICE_LEVEL", "MISSING_PAYMENT_TERM", "MISSING_ADDRESS_LABEL",
                              "INCOMPLETE_ADDRESS", "MISSING_CUSTOMER_NAME", "CONNECTOR_NOT_SELECTED",
                              "PARENT_NOT_IN_NETSUITE"}  # fmt: skip
    assert state["batches"] == (0, 0) and state["claims"] == 0


# --- three workers at once ----------------------------------------------------------------------------


def _postgres_url() -> str:
    conf = settings.DATABASES["default"]
    return (
        f"postgres://{conf['USER']}:{conf['PASSWORD']}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/"
        f"{conf['NAME']}"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("redis", [False, True], ids=["database-slots", "redis-slots"])
@pytest.mark.parametrize("bulk", [False, True], ids=["per-record", "batches"])
def test_three_push_processes_send_each_customer_once_and_log_each_problem_once(
    connection: NetSuiteConnection, netsuite_sandbox: NetSuiteSandbox, redis: bool, bulk: bool
) -> None:
    if db.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")
    if redis and not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL=redis://...)")
    reference_mappings_set(external_system=connection.external_system, mappings=DEMO_MAPPINGS)
    connection.defaults = DEMO_DEFAULTS
    connection.batch_threshold = 100 if bulk else 0
    connection.save()
    seed_customers(total=900, systems=[connection.external_system])
    # Some customers NetSuite refuses, though the portal finds nothing wrong with them.
    refused = list(Customer.objects.filter(is_valid=True, parent__isnull=True).order_by("pk")[:7])
    Customer.objects.filter(pk__in=[c.pk for c in refused]).update(phone="12", modified_at=timezone.now())
    netsuite_sandbox.configure(latency_ms=20, concurrency_limit=connection.concurrency_share)

    env = _env(_postgres_url(), redis=redis)
    procs = [
        subprocess.Popen(_push_command(), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode in (0, 1), err  # 1: some customers were not sent, as expected

    stats = netsuite_sandbox.stats
    synced = CustomerSync.objects.filter(status="synced").count()
    # Each customer sent once: no second write of any record, no duplicate, the share never exceeded.
    assert netsuite_sandbox.count_customers() == synced > 500
    writes = stats["requests_by_route"].get("PUT /record/v1/customer/eid:{externalId}", 0)
    # The contacts of the companies sent, each once too (one request each, or a task of a contact batch).
    contact_writes = stats["requests_by_route"].get("PUT /record/v1/contact/eid:{externalId}", 0)
    contacts = netsuite_sandbox.store.count_contacts()
    companies_sent = Contact.objects.filter(customer__party_type="company", customer__syncs__status="synced")
    assert contacts == companies_sent.count() > 0
    assert writes + contact_writes + stats["async_tasks_created"] == synced + len(refused) + contacts
    assert stats["peak_in_flight"] <= connection.concurrency_share
    assert "429" not in stats["responses_by_status"]
    # Each problem attempted and logged once, whichever worker met it: one attempt, one open failure, one occurrence.
    failures = SyncLog.objects.filter(outcome="failed")
    assert not failures.values("record_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert set(SyncFailure.objects.values_list("occurrences", flat=True)) <= {1}
    assert SyncFailure.objects.filter(resolved_at=None).count() == failures.count()
    assert set(failures.filter(customer__in=refused).values_list("error_code", flat=True)) == {"USER_ERROR"}
    not_synced = CustomerSync.objects.filter(enabled=True).exclude(status="synced")
    assert not not_synced.filter(status="pending").exists()
    # Every customer not sent has its one failure (a parent company without the connector has one too).
    assert set(not_synced.values_list("customer__customer_id", flat=True)) <= set(
        failures.values_list("record_id", flat=True)
    )
    assert not BatchJob.objects.exists() and not PushClaim.objects.exists()
    joined = sum("Joined the push" in out or "Nothing was left" in out for out, _err in outputs)
    assert joined >= 1
