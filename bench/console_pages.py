"""Bench the console pages at 1,000 customers and at 1,000,000 (100,000 open failures, 1,000,000 occurrences).

For the dashboard, the customer changelist and the Failed Record Queue (its list, its grouped view, one problem's
failures) it prints the queries per page
(they must not grow with the tables) and the median render time, and the ratio large / small (target ≤ 2).
It also prints what the dashboard's count job (``console.tasks.count_dashboard``, every minute on the
cluster, off the request path) takes at each size: the dashboard itself reads the newest stored counts.

    .venv/bin/python bench/console_pages.py                              # 1,000 then 1,000,000 customers
    .venv/bin/python bench/console_pages.py --large 100000 --failures 10000   # a quick run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_console_bench2 .venv/bin/python bench/console_pages.py

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

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = {
    "dashboard": ("admin:index", {}),
    "customer changelist": ("admin:customers_customer_changelist", {}),
    "failed record queue": ("admin:console_failedrecord_changelist", {}),
    "queue by problem": ("admin:console_failedrecord_groups", {}),
    "queue, one problem": ("admin:console_failedrecord_changelist", {"error_code": "MISSING_PRICE_LEVEL"}),
}


def prepare_databases() -> tuple[str, list[str]]:
    """Create the two databases (small and large); return a description and their names."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        folder = tempfile.mkdtemp(prefix="console-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/small.sqlite3"
        return f"SQLite files in {folder}", [f"{folder}/small.sqlite3", f"{folder}/large.sqlite3"]
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"DATABASE_URL names database {name!r}; the bench drops it first, so use a name containing 'bench'.")
    import psycopg

    names = [f"{name}_small", f"{name}_large"]
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for db in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
            conn.execute(f'CREATE DATABASE "{db}"')
        version = conn.execute("SHOW server_version").fetchone()[0]
    os.environ["DATABASE_URL"] = parsed._replace(path=f"/{names[0]}").geturl()
    return f"PostgreSQL {version}, databases {', '.join(names)}", names


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_portal.settings")
    os.environ.setdefault("PORTAL_TESTING", "1")
    import django

    django.setup()


def use_database(wrappers: dict, name: str) -> None:
    """Point the default connection at one of the two databases (each keeps its own open connection)."""
    from django.db import connections

    if name not in wrappers:
        current = connections["default"]
        wrappers[name] = current.__class__({**current.settings_dict, "NAME": name}, "default")
    connections["default"] = wrappers[name]


def grow(*, customers: int, failures: int, systems, state: dict) -> None:
    """Add customers (bulk, via the demo seeder) and open failures until the tables hold the given numbers."""

    from customers.demo import seed_customers
    from customers.models import CustomerSync

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
        seed_failures(
            records=failures, occurrences=failures * OCCURRENCES_PER_RECORD, customers=customers, systems=systems
        )
        state["failures"] = failures
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


OCCURRENCES_PER_RECORD = 10
CODES = [
    "MISSING_PRICE_LEVEL",
    "INCOMPLETE_ADDRESS",
    "MISSING_ADDRESS_LABEL",
    "NONEXISTENT_ID",
    "USER_ERROR",
    "TIMEOUT",
]


def seed_failures(*, records: int, occurrences: int, customers: int, systems) -> None:
    """Open failures on ``records`` customers, ``occurrences`` attempts in all (the attempt log holds each one),
    spread over the last 14 days, and the group counts the failure service keeps, all with bulk inserts."""
    from django.db import connection, transaction
    from django.utils import timezone

    from customers.models import SyncFailure, SyncFailureGroup, SyncLog
    from integration_portal.bulk import RowInserter, db_datetime

    started = time.perf_counter()
    now = timezone.now()
    per_record = max(occurrences // records, 1)
    failures = RowInserter(
        SyncFailure,
        ("record_type", "record_id", "customer_id", "external_system_id", "error_code", "message", "operation",
         "trigger", "occurrences", "first_seen_at", "last_seen_at"),
    )  # fmt: skip
    log = RowInserter(
        SyncLog,
        ("record_type", "record_id", "customer_id", "external_system_id", "operation", "trigger", "outcome",
         "error_code", "message", "created_at"),
    )  # fmt: skip
    batch, attempts = [], []
    for n in range(records):
        customer_pk = 1 + (n * 7919) % customers  # distinct while records <= customers (7919 is prime)
        system = systems[n % len(systems)]
        code = CODES[n % len(CODES)]
        last = now - timedelta(minutes=n % (14 * 24 * 60))
        first = last - timedelta(hours=per_record)
        record_id = f"C{customer_pk:07d}"
        message = f"NetSuite push failed: {code} on customer {record_id}"
        batch.append(("customer", record_id, customer_pk, system.pk, code, message, "rest upsert", "scheduled",
                      per_record, db_datetime(first), db_datetime(last)))  # fmt: skip
        for k in range(per_record):
            at = db_datetime(first + timedelta(hours=k))
            attempts.append(("customer", record_id, customer_pk, system.pk, "rest upsert", "scheduled", "failed",
                             code, message, at))  # fmt: skip
        if len(attempts) >= 50_000:
            with transaction.atomic():
                failures.insert(batch)
                log.insert(attempts)
            batch, attempts = [], []
    with transaction.atomic():
        failures.insert(batch)
        log.insert(attempts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SyncFailureGroup._meta.db_table} (external_system_id, record_type, error_code, open_count) "
            f"SELECT external_system_id, record_type, error_code, COUNT(*) FROM {SyncFailure._meta.db_table} "
            "WHERE resolved_at IS NULL GROUP BY external_system_id, record_type, error_code"
        )
    print(
        f"  seeded {records:,} open failures with {records * per_record:,} occurrences in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )


def measure(clients: dict, wrappers: dict, rounds: int) -> dict[str, dict[str, tuple[int, float]]]:
    """Return per database each page's query count and median render time (ms).

    The two databases are measured in alternation, request by request, so that other load on the machine
    falls on both alike; each has its own connection, dashboard cache entry and logged-in client.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    times: dict = {db: {page: [] for page in PAGES} for db in clients}
    queries: dict = {db: {} for db in clients}
    for round_no in range(rounds + 1):
        for name, (url_name, params) in PAGES.items():
            for db, client in clients.items():
                use_database(wrappers, db)
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(reverse(url_name), params)
                    elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (db, name, response.status_code)
                if round_no:  # round 0 warms caches
                    times[db][name].append(elapsed)
                    queries[db][name] = len(captured.captured_queries)
    return {db: {page: (queries[db][page], statistics.median(times[db][page])) for page in PAGES} for db in clients}


def measure_recount(rounds: int) -> float:
    """Median time (ms) of the count job's work: count everything the dashboard shows and store it."""
    from console.services import dashboard_snapshot_take

    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        dashboard_snapshot_take()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def populate(db: str, wrappers: dict, *, customers: int, failures: int):
    """Migrate one database, add the connectors and a superuser, grow it; return a logged-in client."""
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from customers.models import ExternalSystem

    use_database(wrappers, db)
    call_command("migrate", verbosity=0)
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
    grow(customers=customers, failures=failures, systems=systems, state={"customers": 0, "failures": 0})
    from console.services import dashboard_snapshot_take

    dashboard_snapshot_take()  # the dashboard shows the counts the count job stored; the cluster would take them
    client = Client()
    client.force_login(user)
    return client


def measure_recount_in(wrappers: dict, db: str, rounds: int) -> float:
    use_database(wrappers, db)
    return measure_recount(rounds)


def main() -> None:
    os.environ.setdefault("PORTAL_ENCRYPTION_KEY", Fernet.generate_key().decode())  # throwaway, as the bench data
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument(
        "--failures",
        type=int,
        default=100_000,
        help="records with an open failure at the large size (10 occurrences each)",
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--recounts", type=int, default=3, help="count job runs timed per size (median)")
    args = parser.parse_args()

    where, (small_db, large_db) = prepare_databases()
    setup_django()
    print(f"Database: {where}", flush=True)
    wrappers: dict = {}
    small_failures = max(args.failures * args.small // args.large, 1)
    clients = {
        small_db: populate(small_db, wrappers, customers=args.small, failures=small_failures),
        large_db: populate(large_db, wrappers, customers=args.large, failures=args.failures),
    }
    figures = measure(clients, wrappers, args.rounds)
    small, large = figures[small_db], figures[large_db]
    small_recount = measure_recount_in(wrappers, small_db, args.recounts)
    large_recount = measure_recount_in(wrappers, large_db, args.recounts)

    print()
    print(
        f"{args.small:,} customers / {small_failures:,} open failures vs {args.large:,} customers / "
        f"{args.failures:,} open failures ({args.failures * OCCURRENCES_PER_RECORD:,} occurrences); median of "
        f"{args.rounds} requests each, alternating."
    )
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
        f"Dashboard recount (the count job, off the request path; median of {args.recounts}): "
        f"{small_recount:.1f} ms at {args.small:,}, {large_recount:.1f} ms at {args.large:,}, "
        f"ratio {large_recount / small_recount:.0f}"
    )
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
