"""Bench the console pages at 1,000 customers and at 1,000,000 (with 100,000 open failures) in one run.

For the dashboard, the customer changelist and the Failed Record Queue it prints the queries per page
(they must not grow with the tables) and the median render time, and the ratio large / small (target ≤ 2).

    .venv/bin/python bench/console_pages.py                              # 1,000 then 1,000,000 customers
    .venv/bin/python bench/console_pages.py --large 100000 --failures 10000   # a quick run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_console_bench .venv/bin/python bench/console_pages.py

Without DATABASE_URL the database is a SQLite file in a temporary folder. On PostgreSQL the database named
in DATABASE_URL is dropped and created again, so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = {
    "dashboard": ("admin:index", {}),
    "customer changelist": ("admin:customers_customer_changelist", {}),
    "failed record queue": ("admin:console_failedrecord_changelist", {}),
}


def prepare_database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        folder = tempfile.mkdtemp(prefix="console-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        return f"SQLite file in {folder}"
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"DATABASE_URL names database {name!r}; the bench drops it first, so use a name containing 'bench'.")
    import psycopg

    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
        version = conn.execute("SHOW server_version").fetchone()[0]
    return f"PostgreSQL {version}, database {name}"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_portal.settings")
    os.environ.setdefault("PORTAL_TESTING", "1")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def grow(*, customers: int, failures: int, systems, state: dict) -> None:
    """Add customers (bulk, via the demo seeder) and open failures until the tables hold the given numbers."""
    from django.db import transaction
    from django.utils import timezone

    from customers.demo import seed_customers
    from customers.models import CustomerSync, SyncLog

    missing = customers - state["customers"]
    if missing > 0:
        started = time.perf_counter()
        seed_customers(total=missing, systems=systems, start=state["customers"] + 1, batch_size=10_000)
        state["customers"] = customers
        print(f"  seeded {missing:,} customers in {time.perf_counter() - started:.0f} s", flush=True)
        # A realistic spread of states: most synced, some awaiting ID, some in error.
        CustomerSync.objects.filter(id__lte=customers * 6 // 10).update(status=CustomerSync.Status.SYNCED)
        CustomerSync.objects.filter(id__gt=customers * 6 // 10, id__lte=customers * 7 // 10).update(
            status=CustomerSync.Status.EXPORTED
        )
    missing = failures - state["failures"]
    if missing > 0:
        now = timezone.now()
        codes = ["MISSING_PRICE_LEVEL", "INCOMPLETE_ADDRESS", "MISSING_ADDRESS_LABEL", "NONEXISTENT_ID", "USER_ERROR"]
        batch = []
        for n in range(state["failures"], failures):
            customer_pk = 1 + (n * 7919) % customers
            batch.append(
                SyncLog(
                    record_type=SyncLog.RecordType.CUSTOMER,
                    record_id=f"C{customer_pk:07d}",
                    customer_id=customer_pk,
                    external_system=systems[n % len(systems)],
                    operation="rest push",
                    trigger=SyncLog.Trigger.SCHEDULED,
                    outcome=SyncLog.Outcome.FAILED,
                    error_code=codes[n % len(codes)],
                    message="NetSuite refused the customer: Missing price level",
                )
            )
            if len(batch) == 10_000:
                with transaction.atomic():
                    SyncLog.objects.bulk_create(batch)
                batch = []
        if batch:
            SyncLog.objects.bulk_create(batch)
        # Spread the failures over the last 14 days (created_at is auto_now_add).
        step = max(failures // (14 * 24), 1)
        for hour in range(14 * 24):
            SyncLog.objects.filter(
                id__gt=state["failures"] + hour * step, id__lte=state["failures"] + (hour + 1) * step
            ).update(created_at=now - timedelta(hours=hour))
        state["failures"] = failures
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client, rounds: int) -> dict[str, tuple[int, float]]:
    """Return each page's query count and median render time (ms), after one warm-up request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    figures = {}
    for name, (url_name, params) in PAGES.items():
        url = reverse(url_name)
        response = client.get(url, params)
        assert response.status_code == 200, (name, response.status_code)
        times = []
        queries = 0
        for _ in range(rounds):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url, params)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            queries = len(captured.captured_queries)
        figures[name] = (queries, statistics.median(times))
    return figures


def measure_recount() -> float:
    """Time the dashboard's counting queries alone (what a cache miss costs)."""
    from console.selectors import _count
    from customers.models import ExternalSystem

    systems = list(ExternalSystem.objects.all())
    started = time.perf_counter()
    _count(systems)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--failures", type=int, default=100_000, help="open failures at the large size")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    where = prepare_database()
    setup_django()
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    from customers.models import ExternalSystem

    systems = [
        ExternalSystem.objects.create(
            code="netsuite-rest",
            name="NetSuite (REST)",
            transport="rest",
            historical_import_completed_at=timezone.now(),
        ),
        ExternalSystem.objects.create(code="netsuite-files", name="NetSuite (files)", transport="file"),
    ]
    user = User.objects.create_superuser("bench", "bench@example.com", "bench-password")
    client = Client()
    client.force_login(user)
    state = {"customers": 0, "failures": 0}

    print(f"Database: {where}", flush=True)
    small_failures = max(args.failures * args.small // args.large, 1)
    grow(customers=args.small, failures=small_failures, systems=systems, state=state)
    small = measure(client, args.rounds)
    small_recount = measure_recount()
    print(f"Measured at {args.small:,} customers / {small_failures:,} open failures; growing...", flush=True)
    grow(customers=args.large, failures=args.failures, systems=systems, state=state)
    large = measure(client, args.rounds)
    large_recount = measure_recount()

    print()
    sizes = f"{args.small:,} | at {args.large:,}"
    print(f"| page | queries at {sizes} | ms at {sizes} | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    ok = True
    for name in PAGES:
        (q1, t1), (q2, t2) = small[name], large[name]
        ratio = t2 / t1
        good = q1 == q2 and ratio <= 2
        ok &= good
        print(f"| {name} | {q1} | {q2} | {t1:.1f} | {t2:.1f} | {ratio:.2f} {'ok' if good else 'OVER'} |")
    print()
    print(
        f"Dashboard recount (cache miss, at most once a minute): {small_recount:.1f} ms at {args.small:,}, "
        f"{large_recount:.1f} ms at {args.large:,}"
    )
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
