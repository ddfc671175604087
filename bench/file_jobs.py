"""Bench the three file jobs against their raw ceilings, django-import-export, and file size (peak memory).

Every measurement runs in its own subprocess on a fresh copy of a migrated database, so peak RSS is the
job's own and no run warms another's caches. Ratios are computed from figures of the same run.

    .venv/bin/python bench/file_jobs.py                 # 1,000,000 rows (memory: 100,000 vs 1,000,000)
    .venv/bin/python bench/file_jobs.py --rows 100000   # a quick run (memory: 10,000 vs 100,000)

DATABASE_URL picks the database (default: SQLite files in a temporary folder). On PostgreSQL each
measurement gets its own database created from a migrated template; the raw ceiling there uses COPY.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYSTEM_CODE = "netsuite"
HOME = "/home/bench"
HIST_FOLDER = f"{HOME}/netsuite/historicalshopifycustomer/csv"
EXPORT_FOLDER = f"{HOME}/netsuite/customer/export"
IMPORT_FOLDER = f"{HOME}/netsuite/customer/import"
GROUPS = ("hist", "iie", "ids", "exp", "mem")


# --- data files -------------------------------------------------------------------------------------


def write_historical(path: Path, rows: int) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["internalId", "HCShopifyCustomerId", "HCCustomerId", "email", "phone", "firstName", "lastName"])
        for n in range(1, rows + 1):
            w.writerow([n, 7_000_000_000_000 + n, "", f"c{n}@example.com", f"+1 555 {n:07d}", f"First{n}", f"Last{n}"])


def write_party_ident(path: Path, rows: int) -> None:
    with open(path, "w", newline="") as f:
        f.write("partyId,partyIdentificationTypeId,idValue\n")
        for n in range(1, rows + 1):
            f.write(f"C{n},NETSUITE_CUSTOMER_ID,{100_000 + n}\n")


# --- the child: one measurement -------------------------------------------------------------------


def child(step: str, rows: int, workdir: Path, data: Path | None) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_portal.settings")
    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from customers.models import Customer, CustomerSync, ExternalSystem
    from integration_portal.bulk import RowInserter, db_datetime, table
    from sftpsync.models import Feed, SftpConnection
    from sftpsync.services import run_export, run_inbound
    from sftpsync.services.runs import HISTORICAL_JOB, PARTY_IDENT_JOB

    root = workdir / "root"
    root.mkdir(exist_ok=True)
    system = ExternalSystem.objects.create(code=SYSTEM_CODE, name="NetSuite", transport="file")
    conn = SftpConnection.objects.create(name="bench", transport="local", username="bench", local_root=str(root))
    feeds = {
        kind: Feed.objects.create(
            kind=kind,
            external_system=system,
            connection=conn,
            remote_folder=Feed.DEFAULT_FOLDERS[kind],
            default_subsidiary="Parent Company",
        )
        for kind in Feed.Kind
    }
    for feed in feeds.values():
        (root / feed.folder.lstrip("/")).mkdir(parents=True, exist_ok=True)
    now = timezone.now()

    def seed_customers(status: str) -> None:
        """Customers C1..Cn, valid, each with a sync row in the given status (not timed)."""
        customers = RowInserter(
            Customer, ("customer_id", "first_name", "last_name", "email", "is_valid", "created_at", "modified_at")
        )
        syncs = RowInserter(CustomerSync, ("customer_id", "external_system_id", "enabled", "status", "external_id"))
        stamp = db_datetime(now)
        with transaction.atomic():
            for start in range(1, rows + 1, 50_000):
                stop = min(start + 50_000, rows + 1)
                customers.insert(
                    [
                        (f"C{n}", f"First{n}", f"Last{n}", f"c{n}@example.com", True, stamp, stamp)
                        for n in range(start, stop)
                    ]
                )
            with connection.cursor() as cur:
                cur.execute(f"SELECT id FROM {table(Customer)} ORDER BY id")
                pks = [r[0] for r in cur.fetchall()]
            for start in range(0, len(pks), 50_000):
                syncs.insert([(pk, system.pk, True, status, "") for pk in pks[start : start + 50_000]])
            del pks

    if step in ("export", "raw_export"):
        ExternalSystem.objects.filter(pk=system.pk).update(historical_import_completed_at=now)
        seed_customers("pending")
    if step in ("party_ident", "raw_party_ident"):
        seed_customers("exported")

    started = time.perf_counter()
    if step == "historical":
        shutil.copy(data, root / HIST_FOLDER.lstrip("/") / data.name)
        run_inbound(job=HISTORICAL_JOB, kind=Feed.Kind.HISTORICAL, trigger="on_demand")
        assert Customer.objects.count() == rows, Customer.objects.count()
    elif step == "raw_historical":
        raw_historical(connection, data, system.pk)
    elif step == "iie":
        import_export_bulk(data)
    elif step == "party_ident":
        shutil.copy(data, root / IMPORT_FOLDER.lstrip("/") / data.name)
        run_inbound(job=PARTY_IDENT_JOB, kind=Feed.Kind.PARTY_IDENT, trigger="on_demand")
        assert CustomerSync.objects.filter(status="synced").count() == rows
    elif step == "raw_party_ident":
        raw_party_ident(connection, data, system.pk)
    elif step == "export":
        run_export(trigger="on_demand")
        assert CustomerSync.objects.filter(status="exported").count() == rows
    elif step == "raw_export":
        raw_export(connection, workdir / "raw-export.csv", system.pk)
    else:
        raise SystemExit(f"unknown step {step}")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def raw_historical(connection, data: Path, system_id: int) -> None:
    """The ceiling: the same rows into the same tables with plain executemany (SQLite) or COPY (PostgreSQL)."""
    from django.db import transaction
    from django.utils import timezone

    from customers.models import Customer, CustomerSync, PartyIdentification
    from customers.services import customer_validate_for_export, problems_as_text
    from integration_portal.bulk import RowInserter, db_datetime, model_columns, table

    stamp = db_datetime(timezone.now())
    # The same rows the import writes, stored validity included (every bench row is a person with both names).
    problems = problems_as_text(
        customer_validate_for_export(
            customer=Customer(first_name="a", last_name="b"), addresses=[], syncs=[CustomerSync(enabled=True)]
        )
    )
    given = (
        "customer_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "is_valid",
        "problems",
        "created_at",
        "modified_at",
    )
    names, defaults = model_columns(Customer, given)
    # The ceiling knows its IDs in advance, so it names them and needs no lookup for the other tables.
    names, template = ["id", *names], [None, *defaults]
    template[names.index("is_valid")], template[names.index("problems")] = not problems, problems
    pos = {n: i for i, n in enumerate(names)}
    cols = ", ".join(Customer._meta.get_field(n).column for n in names)
    insert_customer = f"INSERT INTO {table(Customer)} ({cols}) VALUES ({', '.join(['%s'] * len(names))})"
    idents = RowInserter(PartyIdentification, ("customer_id", "type", "value", "created_at"))
    syncs = RowInserter(
        CustomerSync,
        ("customer_id", "external_system_id", "enabled", "status", "external_id", "last_attempt_at", "last_synced_at"),
    )
    with open(data, newline="") as f, transaction.atomic(), connection.cursor() as cur:
        reader = csv.reader(f)
        next(reader)
        batch_c, batch_i, batch_s = [], [], []
        for ns, shop, _pid, email, phone, first, last in reader:
            n = int(ns)
            row = list(template)
            row[pos["id"]], row[pos["customer_id"]] = n, f"NS{ns}"
            row[pos["email"]], row[pos["phone"]], row[pos["first_name"]], row[pos["last_name"]] = (
                email,
                phone,
                first,
                last,
            )
            row[pos["created_at"]] = row[pos["modified_at"]] = stamp
            batch_c.append(row)
            batch_i += [(n, "NETSUITE_CUSTOMER_ID", ns, stamp), (n, "SHOPIFY_CUST_ID", shop, stamp)]
            batch_s.append((n, system_id, True, "synced", ns, stamp, stamp))
            if len(batch_c) >= 5000:
                _raw_flush(connection, cur, insert_customer, batch_c, idents, batch_i, syncs, batch_s)
                batch_c, batch_i, batch_s = [], [], []
        _raw_flush(connection, cur, insert_customer, batch_c, idents, batch_i, syncs, batch_s)


def _raw_flush(connection, cur, insert_customer, batch_c, idents, batch_i, syncs, batch_s) -> None:
    if not batch_c:
        return
    if connection.vendor == "postgresql":
        with cur.cursor.copy(
            insert_customer.split(" VALUES")[0].replace("INSERT INTO", "COPY") + " FROM STDIN"
        ) as copy:
            for row in batch_c:
                copy.write_row(row)
    else:
        cur.executemany(insert_customer, batch_c)
    idents.insert(batch_i)
    syncs.insert(batch_s)


def raw_party_ident(connection, data: Path, system_id: int) -> None:
    """The ceiling: plain SQL insert/update per row, fed by the csv module, in one transaction."""
    from django.db import transaction
    from django.utils import timezone

    from integration_portal.bulk import db_datetime

    stamp = db_datetime(timezone.now())
    ins = (
        "INSERT INTO customers_partyidentification (customer_id, type, value, created_at) "
        "SELECT id, %s, %s, %s FROM customers_customer WHERE customer_id = %s"
    )
    upd = (
        "UPDATE customers_customersync SET status = 'synced', external_id = %s, last_synced_at = %s "
        "WHERE external_system_id = %s AND customer_id = (SELECT id FROM customers_customer WHERE customer_id = %s)"
    )
    with open(data, newline="") as f, transaction.atomic(), connection.cursor() as cur:
        reader = csv.reader(f)
        next(reader)
        batch = []
        for party, type_, value in reader:
            batch.append((party, type_, value))
            if len(batch) >= 5000:
                cur.executemany(ins, [(t, v, stamp, p) for p, t, v in batch])
                cur.executemany(upd, [(v, stamp, system_id, p) for p, t, v in batch])
                batch = []
        if batch:
            cur.executemany(ins, [(t, v, stamp, p) for p, t, v in batch])
            cur.executemany(upd, [(v, stamp, system_id, p) for p, t, v in batch])


def raw_export(connection, out: Path, system_id: int) -> None:
    """The ceiling: one plain SELECT streamed to the csv module, then one UPDATE, in one transaction.

    It writes the same file as the export (the 13 columns, the feed's defaults as constants).
    """
    from django.db import transaction

    from sftpsync.formats import EXPORT_HEADER

    with transaction.atomic():
        with open(out, "w", newline="") as f, connection.chunked_cursor() as cur:
            w = csv.writer(f)
            w.writerow(EXPORT_HEADER)
            cur.execute(
                "SELECT c.customer_id, c.customer_id, '', c.first_name, c.last_name, c.email, c.phone, "
                "'T', 'CUSTOMER-Closed Won', 'Parent Company', 'TRUE', 5, 'Shopify' "
                "FROM customers_customersync s JOIN customers_customer c ON c.id = s.customer_id "
                "WHERE s.external_system_id = %s AND s.status = 'pending' ORDER BY s.id",
                [system_id],
            )
            while rows := cur.fetchmany(5000):
                w.writerows(rows)
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE customers_customersync SET status = 'exported' "
                "WHERE external_system_id = %s AND status = 'pending'",
                [system_id],
            )


def import_export_bulk(data: Path) -> None:
    """django-import-export as an operator would set it up: bulk mode, matching on the customer ID."""
    import tablib
    from import_export import resources

    from customers.models import Customer

    class CustomerResource(resources.ModelResource):
        class Meta:
            model = Customer
            fields = ("customer_id", "email", "phone", "first_name", "last_name")
            import_id_fields = ("customer_id",)
            use_bulk = True
            batch_size = 1000

    dataset = tablib.Dataset(headers=["customer_id", "email", "phone", "first_name", "last_name"])
    with open(data, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for ns, _shop, _pid, email, phone, first, last in reader:
            dataset.append([f"NS{ns}", email, phone, first, last])
    result = CustomerResource().import_data(dataset, dry_run=False, raise_errors=True)
    assert not result.has_errors()


# --- the parent: databases, subprocesses, ratios ----------------------------------------------------


class Databases:
    """Fresh migrated databases for each measurement: copies of a SQLite file, or PostgreSQL templates."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.url = os.environ.get("DATABASE_URL", "")
        self.postgres = self.url.startswith(("postgres://", "postgresql://"))
        self.count = 0
        if self.postgres:
            self.base, _, self.template_name = self.url.rpartition("/")
            self.template_name = f"{self.template_name or 'portal'}_bench_tpl"
            self._psql(f'DROP DATABASE IF EXISTS "{self.template_name}"', f'CREATE DATABASE "{self.template_name}"')
            self._migrate(f"{self.base}/{self.template_name}")
        else:
            self.template = workdir / "template.sqlite3"
            self._migrate(f"sqlite:///{self.template}")
            with sqlite3.connect(self.template) as con:
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _psql(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.base}/postgres", autocommit=True) as con:
            for s in statements:
                con.execute(s)

    def _migrate(self, url: str) -> None:
        env = {**os.environ, "DATABASE_URL": url, "PORTAL_VAR_DIR": str(self.workdir)}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)

    def fresh(self) -> tuple[str, Path]:
        self.count += 1
        run_dir = self.workdir / f"run{self.count}"
        run_dir.mkdir()
        if self.postgres:
            name = f"{self.template_name[:-4]}_{self.count}"
            self._psql(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"')
            return f"{self.base}/{name}", run_dir
        db = run_dir / "db.sqlite3"
        shutil.copy(self.template, db)
        return f"sqlite:///{db}", run_dir

    def drop_all(self) -> None:
        if self.postgres:
            names = [f"{self.template_name[:-4]}_{n}" for n in range(1, self.count + 1)] + [self.template_name]
            self._psql(*[f'DROP DATABASE IF EXISTS "{n}"' for n in names])


def measure(dbs: Databases, step: str, rows: int, data: Path | None) -> dict:
    url, run_dir = dbs.fresh()
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_VAR_DIR": str(run_dir), "PORTAL_TESTING": "1"}
    args = [sys.executable, __file__, "--child", step, "--rows", str(rows), "--workdir", str(run_dir)]
    if data is not None:
        args += ["--data", str(data)]
    out = subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    if os.environ.get("BENCH_PROFILE"):
        print(out.stderr, file=sys.stderr)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"  {step:<16} {rows:>9,} rows  {result['seconds']:8.2f} s  {rows / result['seconds']:>10,.0f} rows/s  "
        f"peak RSS {result['maxrss_kb'] / 1024:7.1f} MB",
        flush=True,
    )
    if not dbs.postgres:
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the ceilings and the large memory run")
    parser.add_argument("--iie-rows", type=int, default=20_000, help="rows for the django-import-export comparison")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; every figure is the median of the rounds")
    parser.add_argument("--only", default="", help=f"comma-separated groups to run: {','.join(GROUPS)} (default all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = lambda: child(args.child, args.rows, Path(args.workdir), Path(args.data) if args.data else None)  # noqa: E731
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            with cProfile.Profile() as prof:
                result = run()
            pstats.Stats(prof, stream=sys.stderr).sort_stats(
                os.environ.get("BENCH_PROFILE_SORT", "cumulative")
            ).print_stats(45)
        else:
            result = run()
        print(json.dumps(result))
        return

    rows, small, iie_rows = args.rows, max(args.rows // 10, 1), args.iie_rows
    groups = set(args.only.split(",")) if args.only else set(GROUPS)
    if unknown := groups - set(GROUPS):
        raise SystemExit(f"--only takes {', '.join(GROUPS)}; not {', '.join(sorted(unknown))}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-file-jobs-"))
    try:
        dbs = Databases(workdir)
        print(
            f"database: {'PostgreSQL' if dbs.postgres else 'SQLite'}; rows: {rows:,}; memory: {small:,} vs {rows:,}; "
            f"repeats: {args.repeat}"
        )
        hist, hist_small, hist_iie = workdir / "hist.csv", workdir / "hist-small.csv", workdir / "hist-iie.csv"
        ids = workdir / "ids.csv"
        write_historical(hist, rows)
        write_historical(hist_small, small)
        write_historical(hist_iie, iie_rows)
        write_party_ident(ids, rows)

        # Each pair (ours, ceiling) runs back to back, so load from other work on the machine hits both alike;
        # with --repeat the pairs run again in turn and every figure is the median of its runs.
        plan = {
            "hist": [("hist", "historical", rows, hist), ("hist_raw", "raw_historical", rows, hist)],
            "iie": [("hist_iie_ours", "historical", iie_rows, hist_iie), ("iie", "iie", iie_rows, hist_iie)],
            "ids": [("ids", "party_ident", rows, ids), ("ids_raw", "raw_party_ident", rows, ids)],
            "exp": [("exp", "export", rows, None), ("exp_raw", "raw_export", rows, None)],
            "mem": [("hist_small", "historical", small, hist_small)],
        }
        runs: dict[str, list[dict]] = {}
        for n in range(args.repeat):
            print(f"round {n + 1} of {args.repeat}")
            for group in GROUPS:
                if group in groups:
                    for key, step, count, data in plan[group]:
                        runs.setdefault(key, []).append(measure(dbs, step, count, data))
        if "mem" in groups and "hist" not in groups:
            runs["hist"] = [measure(dbs, "historical", rows, hist)]

        def ratios(ours: str, ceiling: str) -> list[float]:
            return [c["seconds"] / o["seconds"] for o, c in zip(runs[ours], runs[ceiling], strict=True)]

        checks = []
        if "hist" in groups:
            checks.append(("historical import / raw insert ceiling", ratios("hist", "hist_raw"), 0.4, True))
        if "iie" in groups:
            checks.append(
                (
                    f"historical import / django-import-export bulk ({iie_rows:,} rows)",
                    ratios("hist_iie_ours", "iie"),
                    10.0,
                    True,
                )
            )
        if "ids" in groups:
            checks.append(("NetSuite ID import / raw SQL ceiling", ratios("ids", "ids_raw"), 0.4, True))
        if "exp" in groups:
            checks.append(("export / raw SQL + csv ceiling", ratios("exp", "exp_raw"), 0.4, True))
        if "mem" in groups:
            peak = statistics.median(r["maxrss_kb"] for r in runs["hist"])
            peak_small = statistics.median(r["maxrss_kb"] for r in runs["hist_small"])
            checks.append((f"peak RSS historical import, {rows:,} / {small:,} rows", [peak / peak_small], 1.3, False))
        print("\nmedian seconds")
        for key, results in runs.items():
            print(f"  {key:<16} {statistics.median(r['seconds'] for r in results):8.2f} s")
        print("\nratios, median of the rounds (higher is better, except memory)")
        ok = True
        for name, values, target, at_least in checks:
            value = statistics.median(values)
            passed = value >= target if at_least else value <= target
            ok &= passed
            each = ", ".join(f"{v:.2f}" for v in values)
            sign = ">=" if at_least else "<="
            print(f"  {name:<62} {value:6.2f}  (target {sign} {target})  {'ok' if passed else 'MISSED'}  [{each}]")
        dbs.drop_all()
        sys.exit(0 if ok else 1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
