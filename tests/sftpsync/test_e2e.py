"""The whole file loop against HotWax's scripts in the sandbox, over a real SFTP server and over a local folder."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from customers.dispatch import customers_sync_now
from customers.models import NETSUITE_CUSTOMER_ID, SHOPIFY_CUST_ID, Customer, CustomerSync, PartyIdentification, SyncLog
from customers.services import customer_refresh_validation
from netsuite_sandbox.hotwax import EXPORT_DIR, HISTORICAL_DIR, IMPORT_DIR, csvimport
from sftpsync.models import ExportedCustomer, FeedFile
from sftpsync.services import run_export, run_inbound
from sftpsync.services.export_errors import ERROR_CODE, FAILED_CODE, ID_NOT_RETURNED
from sftpsync.services.runs import HISTORICAL_JOB, PARTY_IDENT_JOB
from sftpsync.services_connection import connection_test

from .fixtures_jobs import Feeds, file_system_fixture, local_feeds_fixture, make_feeds_fixture  # noqa: F401
from .netsuite_side import NetSuiteSide

ROOT = Path(__file__).resolve().parents[2]


def historical_job() -> str:
    return str(run_inbound(job=HISTORICAL_JOB, kind="IMP_HIS_SHOP_CUST", trigger="on_demand"))


def ids_job() -> str:
    return str(run_inbound(job=PARTY_IDENT_JOB, kind="IMP_PARTY_IDENT", trigger="on_demand"))


def person(make_customer, cid: str, shopify: str, **fields) -> Customer:
    customer = make_customer(customer_id=cid, shopify_id=False, **fields)
    PartyIdentification.objects.create(customer=customer, type=SHOPIFY_CUST_ID, value=shopify)
    customer_refresh_validation(customer=customer)  # the file connector needs the Shopify ID: ready now
    return customer


def full_loop(feeds: Feeds, netsuite: NetSuiteSide, make_customer) -> None:
    store = netsuite.store
    store.seed(3, historical=True)  # Celigo's Shopify customers NetSuite had before the portal
    store.execute("UPDATE customer SET celigo_shopify_id = '' WHERE id = 3")  # the formula's empty value

    # The scripts make no folder: Test connection makes every folder of both sides.
    ok, message = connection_test(connection=feeds.connection)
    assert ok, message
    netsuite.historical()
    assert netsuite.runs[-1].written, netsuite.runs[-1].log.entries

    known = person(make_customer, "CKNOWN", "7000000000001")  # NetSuite has it (Shopify ID 1): never exported
    new = [person(make_customer, f"CNEW{n}", f"65432100{n}") for n in range(3)]
    # What HotWax's file cannot carry is refused before the export, with a reason on the customer page: a company
    # (the file has no company name column) and a person without a Shopify ID (its ID would never come back).
    company = make_customer(customer_id="CCOMPANY", party_type="company", company_name="Acme Supply")
    no_shopify = make_customer(customer_id="CNOSHOP", shopify_id=False)

    run_export(trigger="on_demand")  # refused until the historical file is in
    assert not FeedFile.objects.filter(direction="out").exists()

    historical_job()
    historical = FeedFile.objects.get(feed=feeds.historical)
    assert (historical.status, historical.rows_ok, historical.rows_failed) == ("partly_failed", 2, 1)
    assert "Shopify customer ID is empty" in SyncLog.objects.get(record_type="file_row").message

    for _ in range(2):  # every job twice, on both sides: nothing doubles
        run_export(trigger="on_demand")
        netsuite.scheduled()
        ids_job()
        netsuite.scheduled()
        ids_job()

    assert store.count() == 3 + 3
    assert store.duplicates() == {"email": {}, "name": {}}
    # The known one, the new ones, the two refused, and one historical customer the portal lacked.
    assert Customer.objects.count() == 1 + 3 + 2 + 1
    for customer in new:
        sync = customer.syncs.get()
        assert sync.status == CustomerSync.Status.SYNCED and sync.external_id
        row = store.get(int(sync.external_id))
        assert (row["externalid"], row["custentity_hc_customer_id"]) == (customer.customer_id, customer.customer_id)
        assert row["custentity_hc_shop_cust_id"] == customer.identifications.get(type=SHOPIFY_CUST_ID).value
        assert (row["subsidiary"], row["leadsource"], row["entitystatus"]) == (1, 7, "13")
        assert customer.identifications.get(type=NETSUITE_CUSTOMER_ID).value == sync.external_id
    assert known.syncs.get().external_id == "1"
    for refused, code in ((company, "COMPANY_NOT_SUPPORTED"), (no_shopify, "MISSING_SHOPIFY_ID")):
        sync = refused.syncs.get()
        assert (sync.status, sync.is_ready, sync.last_error_code) == ("error", False, code)
        assert sync.problems and not ExportedCustomer.objects.filter(customer=refused).exists()
        assert not store.find(external_id=refused.customer_id)
    outbound = FeedFile.objects.filter(direction="out")
    assert outbound.count() == 1 and outbound.get().status == "done"
    assert ExportedCustomer.objects.count() == 3
    jobs = store.execute("SELECT name, rows_added, rows_failed FROM csv_import_job")
    assert [(j["rows_added"], j["rows_failed"]) for j in jobs] == [(3, 0)]
    assert feeds.names(feeds.export) == [] and feeds.names(feeds.export, "staging") == []
    assert feeds.names(feeds.export, "archive") == [outbound.get().file_name]
    assert set(FeedFile.objects.filter(direction="in").values_list("status", flat=True)) <= {
        "done",
        "duplicate",
        "partly_failed",
    }
    assert not FeedFile.objects.filter(direction="in", moved_at__isnull=True).exists()


@pytest.mark.django_db
def test_full_loop_over_a_local_folder(local_feeds: Feeds, make_customer) -> None:
    home = Path(local_feeds.connection.local_root) / "home" / local_feeds.connection.username
    full_loop(local_feeds, NetSuiteSide.over_local_folder(home), make_customer)


@pytest.mark.django_db
def test_full_loop_over_sftp(make_feeds, sftp_connection, sftp_server, make_customer) -> None:
    netsuite = NetSuiteSide.over_sftp(sftp_server)
    try:
        full_loop(make_feeds(sftp_connection), netsuite, make_customer)
    finally:
        netsuite.close()
    assert [p.name for p in (sftp_server.home / IMPORT_DIR / "archive").iterdir()]
    assert not list((sftp_server.home / EXPORT_DIR).glob("*.csv"))
    assert list((sftp_server.home / HISTORICAL_DIR / "archive").iterdir())


@pytest.mark.django_db
def test_file_level_errors_failed_files_and_missing_ids_mark_their_customers(
    make_feeds, sftp_connection, sftp_server, make_customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = make_feeds(sftp_connection)
    netsuite = NetSuiteSide.over_sftp(sftp_server)
    connection_test(connection=feeds.connection)
    feeds.system.historical_import_completed_at = timezone.now()
    feeds.system.save()
    feeds.export.rows_per_file = 2
    feeds.export.save()
    # A file over the CSV import's record limit (25,000, scaled down to 1 here) fails its submit.
    monkeypatch.setattr(csvimport, "MAX_ROWS", 1)
    too_many = [person(make_customer, f"CBIG{n}", f"6500{n}") for n in range(2)]
    run_export(trigger="on_demand")
    [big] = FeedFile.objects.filter(direction="out")
    try:
        imported, _ = netsuite.scheduled()
    finally:
        netsuite.close()
    assert imported.failed == [f"{EXPORT_DIR}/failed/{big.file_name}"]
    text = ids_job()
    assert "NetSuite import errors: 1 file(s)" in text
    for customer in too_many:
        sync = customer.syncs.get()
        assert (sync.status, sync.last_error_code) == ("error", ERROR_CODE)
        assert "the file has 2 records, more than the 1 a CSV import takes" in sync.last_error_message
    big.refresh_from_db()
    assert big.status == "failed"
    assert feeds.names(feeds.export, "error") == [] and len(feeds.names(feeds.export, "error/archive")) == 1

    # A file in failed/ whose error file never arrived still fails its customers.
    alone = person(make_customer, "CALONE", "6599")
    customers_sync_now(customers=[alone], external_system=feeds.system, trigger="selective")
    lone = FeedFile.objects.get(exported_customers__customer=alone)
    with feeds.transport() as t:
        t.move(lone.remote_path, f"{feeds.export.folder}/failed")
    assert "1 export file(s) in failed/" in ids_job()
    assert alone.syncs.get().last_error_code == FAILED_CODE
    lone.refresh_from_db()
    assert lone.status == "failed" and lone.remote_path.endswith(f"/failed/{lone.file_name}")
    # A file NetSuite could not take would fail again until its cause is fixed: the schedule leaves it to a RESYNC.
    run_export(trigger="scheduled")
    assert FeedFile.objects.filter(direction="out").count() == 2
    assert (
        not ExportedCustomer.objects.filter(customer__in=[*too_many, alone]).exclude(feed_file__in=[big, lone]).exists()
    )

    # Rows NetSuite rejects are reported nowhere the portal reads: after the feed's wait they become failures.
    # (a customer status NetSuite's account does not have: the portal cannot know the account's list)
    rejected = person(make_customer, "CLONG", "6598", export_status="CUSTOMER-Unheard Of")
    customers_sync_now(customers=[rejected], external_system=feeds.system, trigger="selective")
    late = FeedFile.objects.get(exported_customers__customer=rejected)
    netsuite = NetSuiteSide.over_sftp(sftp_server, store=netsuite.store)
    try:
        netsuite.scheduled()
    finally:
        netsuite.close()
    ids_job()
    assert rejected.syncs.get().status == "exported"  # still within the wait
    CustomerSync.objects.filter(customer=rejected).update(last_attempt_at=timezone.now() - timedelta(hours=3))
    assert "1 customers whose NetSuite ID did not come back" in ids_job()
    sync = rejected.syncs.get()
    assert (sync.status, sync.last_error_code) == ("error", ID_NOT_RETURNED)
    assert "View CSV Import Status" in sync.last_error_message
    assert f"Add Customer-{late.file_name}" in sync.last_error_message
    ids_job()
    assert SyncLog.objects.filter(customer=rejected, error_code=ID_NOT_RETURNED).count() == 1  # once
    run_export(trigger="scheduled")  # the same row would be rejected again: it waits for a RESYNC
    assert not ExportedCustomer.objects.filter(customer=rejected).exclude(feed_file=late).exists()


# --- a worker killed mid-file -----------------------------------------------------------------------

SETUP = """
from customers.models import ExternalSystem
from sftpsync.models import Feed, SftpConnection
system = ExternalSystem.objects.create(code="netsuite", name="NetSuite", transport="file")
conn = SftpConnection.objects.create(name="local", transport="local", username="demo", local_root={root!r})
Feed.objects.create(kind="IMP_HIS_SHOP_CUST", external_system=system, sftp_connection=conn,
                    remote_folder="/home/demo/netsuite/historicalshopifycustomer/csv", batch_size=500)
"""


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite:///{db}", PORTAL_TESTING="1", PORTAL_VAR_DIR=str(db.parent))
    return env


def _manage(db: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=_env(db), check=True, capture_output=True, **kwargs
    )


def _state(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return sorted(
            con.execute(
                "SELECT c.customer_id, c.first_name, c.last_name, c.email, "
                "group_concat(i.type || '=' || i.value), s.status, s.external_id "
                "FROM customers_customer c JOIN customers_partyidentification i ON i.customer_id = c.id "
                "JOIN customers_customersync s ON s.customer_id = c.id GROUP BY c.id"
            ).fetchall()
        )


def _ledger(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT status, rows_total, rows_ok, rows_failed FROM sftpsync_feedfile").fetchall()


def _prepare(tmp: Path, name: str, setup: str = SETUP) -> Path:
    folder = tmp / name
    folder.mkdir()
    (folder / "root").mkdir()
    db = folder / "db.sqlite3"
    _manage(db, "migrate", "--noinput")
    _manage(db, "shell", "-c", setup.format(root=str(folder / "root")))
    return db


@pytest.mark.slow
def test_import_killed_halfway_ends_like_one_clean_run(tmp_path: Path) -> None:
    rows = 40_000
    data = tmp_path / "historical.csv"
    with open(data, "w") as f:
        f.write("internalId,HCShopifyCustomerId,firstName,lastName,email\n")
        for n in range(1, rows + 1):
            f.write(f"{n},{7_000_000_000 + n},First{n},Last{n},c{n}@example.com\n")
        f.write(f"{rows + 1},{7_000_000_001},Conflict,Row,x@example.com\n")  # a row error survives the restart

    clean = _prepare(tmp_path, "clean")
    _manage(clean, "import_historical_customers", "--file", str(data), "--no-progress")

    killed = _prepare(tmp_path, "killed")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "import_historical_customers", "--file", str(data), "--no-progress"],
        cwd=ROOT,
        env=_env(killed),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    checkpoint = 0
    while time.monotonic() < deadline and proc.poll() is None:
        with sqlite3.connect(killed, timeout=30) as con:
            found = con.execute("SELECT max(checkpoint_line) FROM sftpsync_feedfile").fetchone()[0]
        checkpoint = found or 0
        if checkpoint >= 2000:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < checkpoint < rows, "the import was not caught halfway; make the file larger"
    assert _ledger(killed)[0][0] == "processing"

    _manage(killed, "import_historical_customers", "--file", str(data), "--no-progress")
    assert _ledger(killed) == _ledger(clean) == [("partly_failed", rows + 1, rows, 1)]
    assert _state(killed) == _state(clean)
    with sqlite3.connect(killed) as con:
        assert con.execute("SELECT count(*) FROM customers_synclog WHERE record_type = 'file_row'").fetchone()[0] == 1


# --- an export killed at any instant -----------------------------------------------------------------

EXPORT_SETUP = """
from django.utils import timezone
from customers.models import Customer, CustomerSync, ExternalSystem
from integration_portal.bulk import RowInserter, db_datetime
from netsuite.services import reference_mappings_set
from sftpsync.models import Feed, SftpConnection
system = ExternalSystem.objects.create(code="netsuite", name="NetSuite", transport="file",
                                       historical_import_completed_at=timezone.now())
reference_mappings_set(external_system=system, mappings={{"subsidiaries": {{"Parent Company": "1"}}}})
conn = SftpConnection.objects.create(name="local", transport="local", username="demo", local_root={root!r})
Feed.objects.create(kind="EXP_CUSTOMER", external_system=system, sftp_connection=conn,
                    default_subsidiary="Parent Company", default_account_source="",
                    remote_folder="/home/demo/netsuite/customer/export", rows_per_file=700)
now = db_datetime(timezone.now())
RowInserter(Customer, ("customer_id", "first_name", "last_name", "is_valid", "created_at", "modified_at")).insert(
    [(f"K{{n:05d}}", "Ada", f"L{{n}}", True, now, now) for n in range({count})])
CustomerSync.objects.bulk_create(CustomerSync(customer_id=pk, external_system=system, is_ready=True)
                                 for pk in Customer.objects.values_list("pk", flat=True))
"""
# Run the export and die (SIGKILL, no clean-up of any kind) at a chosen point of the second export file.
KILLER = """
import os, signal
from sftpsync.services import export
point, hits = os.environ["KILL_AT"], {}

def die_at(name, func):
    def wrapper(*args, **kwargs):
        hits[name] = hits.get(name, 0) + 1
        if name == point and hits[name] == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # no clean-up of any kind, as a power cut
        return func(*args, **kwargs)
    return wrapper

export._place = die_at("after_claim", export._place)  # the second file's claims are committed, nothing written
export.ExportWriter.add = die_at("mid_write", export.ExportWriter.add)  # the second file half-written in staging/
export._mark_placed = die_at("after_rename", export._mark_placed)  # the second file renamed into export/, no commit
from sftpsync.services import run_export
run_export(trigger="on_demand")
"""


def _export_state(db: Path, root: Path) -> tuple[list[tuple], dict[str, list[str]]]:
    """The ledger's outbound entries, and the customers of each file NetSuite would read (export/ and archive/)."""
    with sqlite3.connect(db) as con:
        ledger = con.execute(
            "SELECT file_name, status, rows_total FROM sftpsync_feedfile WHERE direction = 'out' ORDER BY id"
        ).fetchall()
    export = root / "home/demo/netsuite/customer/export"
    files = {}
    for path in [*export.glob("*.csv"), *(export / "archive").glob("*.csv")]:
        files[path.name] = [r["HCCustomerId"] for r in csv.DictReader(io.StringIO(path.read_text()))]
    return ledger, files


def _check_exactly_once(db: Path, root: Path, count: int) -> None:
    ledger, files = _export_state(db, root)
    seen = [cid for names in files.values() for cid in names]
    assert len(seen) == count and len(set(seen)) == count, "a customer is missing or in two files"
    assert sorted(files) == sorted(name for name, _, _ in ledger), "the ledger and the folder disagree"
    assert all(status == "done" for _, status, _ in ledger)
    assert {name: rows for name, _, rows in ledger} == {name: len(ids) for name, ids in files.items()}
    staging = root / "home/demo/netsuite/customer/export/staging"
    assert not list(staging.iterdir())
    with sqlite3.connect(db) as con:
        statuses = dict(con.execute("SELECT status, count(*) FROM customers_customersync GROUP BY status").fetchall())
    assert statuses == {"exported": count}


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after_claim", "mid_write", "after_rename"])
def test_export_killed_at_each_step_leaves_every_customer_in_exactly_one_file(tmp_path: Path, point: str) -> None:
    count = 2000
    db = _prepare(tmp_path, point, EXPORT_SETUP.replace("{count}", str(count)))
    root = db.parent / "root"
    killed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", KILLER],
        cwd=ROOT,
        env={**_env(db), "KILL_AT": point},
        capture_output=True,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    ledger, files = _export_state(db, root)
    assert any(status == "processing" for _, status, _ in ledger)
    if point == "after_rename":
        # The file is in export/ (NetSuite may take it at once), and its entry is not done: the instant that used
        # to leave a file without a ledger entry and send its customers twice.
        assert len(files) == 2
    _manage(db, "export_customers", "--no-progress")
    _check_exactly_once(db, root, count)


@pytest.mark.slow
def test_export_killed_at_random_instants_and_netsuite_taking_files_meanwhile(tmp_path: Path) -> None:
    import random

    count = 6000
    db = _prepare(tmp_path, "random", EXPORT_SETUP.replace("{count}", str(count)))
    root = db.parent / "root"
    export = root / "home/demo/netsuite/customer/export"
    rng = random.Random(int(os.environ.get("PORTAL_KILL_SEED", "20261130")))
    for _attempt in range(6):
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "export_customers", "--no-progress"],
            cwd=ROOT,
            env=_env(db),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.5, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # NetSuite's HC_SC_ImportCustomer meanwhile archives whatever reached export/.
        for path in export.glob("*.csv"):
            path.rename(export / "archive" / path.name)
    _manage(db, "export_customers", "--no-progress")
    _check_exactly_once(db, root, count)


# --- two exports at the same moment on PostgreSQL ---------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_exports_put_each_customer_in_exactly_one_file(local_feeds: Feeds) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")
    from customers.models import ExternalSystem
    from integration_portal.bulk import RowInserter

    ExternalSystem.objects.update(historical_import_completed_at=timezone.now())
    local_feeds.export.rows_per_file = 500
    local_feeds.export.save()
    count = 3000
    now = timezone.now()
    RowInserter(
        Customer, ("customer_id", "first_name", "last_name", "email", "is_valid", "created_at", "modified_at")
    ).insert([(f"CC{n}", "F", f"L{n}", f"c{n}@example.com", True, now, now) for n in range(count)])
    pks = list(Customer.objects.values_list("pk", flat=True))
    PartyIdentification.objects.bulk_create(
        PartyIdentification(customer_id=pk, type=SHOPIFY_CUST_ID, value=str(7_000_000 + pk)) for pk in pks
    )
    CustomerSync.objects.bulk_create(
        CustomerSync(customer_id=pk, external_system=local_feeds.system, is_ready=True) for pk in pks
    )

    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_TESTING": "1"}
    cmd = [sys.executable, "manage.py", "export_customers", "--connection", "netsuite", "--no-progress"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()

    seen: list[str] = []
    files = FeedFile.objects.filter(direction="out")
    assert set(files.values_list("status", flat=True)) == {"done"}
    for entry in files:
        lines = local_feeds.read(entry.remote_path).decode().splitlines()[1:]
        seen += [line.split(",")[0] for line in lines]
    assert len(seen) == count and len(set(seen)) == count
    assert CustomerSync.objects.filter(status="exported").count() == count
