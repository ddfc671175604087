"""The whole file loop with the NetSuite sandbox's SuiteScripts, over a local folder and a real SFTP server."""

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
from django.db import connection

from customers.models import NETSUITE_CUSTOMER_ID, SHOPIFY_CUST_ID, Customer, CustomerSync, PartyIdentification
from netsuite_sandbox import scripts
from netsuite_sandbox.store import Store
from sftpsync.models import FeedFile
from sftpsync.services import run_export, run_inbound
from sftpsync.services.runs import HISTORICAL_JOB, PARTY_IDENT_JOB

from .fixtures_jobs import Feeds, file_system_fixture, local_feeds_fixture, make_feeds_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def all_portal_jobs() -> None:
    run_inbound(job=HISTORICAL_JOB, kind="IMP_HIS_SHOP_CUST", trigger="on_demand")
    run_export(trigger="on_demand")
    run_inbound(job=PARTY_IDENT_JOB, kind="IMP_PARTY_IDENT", trigger="on_demand")


def netsuite_side(store: Store, home: Path) -> None:
    scripts.import_customer(store, home)
    scripts.exported_customer_csv(store, home)


def full_loop(feeds: Feeds, home: Path, make_customer) -> None:
    store = Store()
    scripts.make_folders(home)
    store.seed(3, historical=True)
    scripts.generate_historical_customer_csv(store, home)
    # A portal customer NetSuite already knows (by Shopify ID) must not be sent again.
    known = make_customer(customer_id="CKNOWN", shopify_id=False)
    known_shopify = store.execute("SELECT custentity_hc_shopify_customer_id FROM customer ORDER BY id LIMIT 1")[0][0]
    PartyIdentification.objects.create(customer=known, type=SHOPIFY_CUST_ID, value=known_shopify)
    new = [make_customer(customer_id=f"CNEW{n}") for n in range(3)]

    run_export(trigger="on_demand")  # refused: no historical import yet
    assert not FeedFile.objects.filter(direction="out").exists()

    for _ in range(2):  # every job twice, on both sides: nothing doubles
        all_portal_jobs()
        netsuite_side(store, home)
        all_portal_jobs()
        netsuite_side(store, home)

    assert store.count() == 6
    assert store.duplicates() == {"email": {}, "name": {}}
    assert Customer.objects.count() == 2 + 4  # historical ones the portal did not have, plus its own four
    for customer in [*new, known]:
        sync = customer.syncs.get()
        assert sync.status == CustomerSync.Status.SYNCED and sync.external_id
        netsuite = store.get(int(sync.external_id))
        assert netsuite is not None
    for customer in new:
        assert store.get(int(customer.syncs.get().external_id))["externalid"] == customer.customer_id
    assert PartyIdentification.objects.filter(type=NETSUITE_CUSTOMER_ID).count() == 6
    assert FeedFile.objects.filter(direction="out").count() == 1
    assert set(FeedFile.objects.filter(direction="in").values_list("status", flat=True)) == {"done"}
    assert FeedFile.objects.filter(moved_at__isnull=True, direction="in").count() == 0
    assert scripts.EXPORT_DIR and list((home / scripts.EXPORT_DIR / "archive").iterdir())


@pytest.mark.django_db
def test_full_loop_over_a_local_folder(local_feeds: Feeds, make_customer) -> None:
    home = Path(local_feeds.connection.local_root) / "home" / local_feeds.connection.username
    full_loop(local_feeds, home, make_customer)
    assert (home / "netsuite/historicalshopifycustomer/csv/archive").is_dir()


@pytest.mark.django_db
def test_full_loop_over_sftp(make_feeds, sftp_connection, sftp_server, make_customer) -> None:
    feeds = make_feeds(sftp_connection)
    full_loop(feeds, sftp_server.home, make_customer)
    assert [p.name for p in (sftp_server.home / "netsuite/customer/import/archive").iterdir()]


@pytest.mark.django_db
def test_archive_and_failed_moves_over_sftp(make_feeds, sftp_connection, sftp_server) -> None:
    feeds = make_feeds(sftp_connection)
    feeds.put(feeds.historical, "good.csv", fixture="historical-bom-crlf.csv")
    feeds.put(feeds.historical, "bad.csv", fixture="historical-missing-required-column.csv")
    feeds.put(feeds.historical, "good-again.csv", fixture="historical-bom-crlf.csv")
    folder = sftp_server.home / "netsuite/historicalshopifycustomer/csv"
    # SFTP shows whole-second mtimes, so files put within one second would list in name order; age them apart.
    now = time.time()
    for age, name in ((30, "good.csv"), (20, "bad.csv"), (10, "good-again.csv")):
        os.utime(folder / name, (now - age, now - age))
    run_inbound(job=HISTORICAL_JOB, kind="IMP_HIS_SHOP_CUST", trigger="on_demand")
    assert sorted(p.name for p in (folder / "archive").iterdir()) == ["good-again.csv", "good.csv"]
    assert [p.name for p in (folder / "failed").iterdir()] == ["bad.csv"]
    assert [p.name for p in folder.iterdir() if p.is_file()] == []
    statuses = dict(FeedFile.objects.values_list("file_name", "status"))
    assert statuses == {"good.csv": "done", "bad.csv": "failed", "good-again.csv": "duplicate"}


# --- a worker killed mid-file -----------------------------------------------------------------------

SETUP = """
from customers.models import ExternalSystem
from sftpsync.models import Feed, SftpConnection
system = ExternalSystem.objects.create(code="netsuite", name="NetSuite", transport="file")
conn = SftpConnection.objects.create(name="local", transport="local", username="demo", local_root={root!r})
Feed.objects.create(kind="IMP_HIS_SHOP_CUST", external_system=system, connection=conn,
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


def _prepare(tmp: Path, name: str, data: Path) -> Path:
    folder = tmp / name
    folder.mkdir()
    (folder / "root").mkdir()
    db = folder / "db.sqlite3"
    _manage(db, "migrate", "--noinput")
    _manage(db, "shell", "-c", SETUP.format(root=str(folder / "root")))
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

    clean = _prepare(tmp_path, "clean", data)
    _manage(clean, "import_historical_customers", "--file", str(data), "--no-progress")

    killed = _prepare(tmp_path, "killed", data)
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


# --- two exports at the same moment on PostgreSQL ---------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_exports_put_each_customer_in_exactly_one_file(local_feeds: Feeds) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")
    from django.utils import timezone

    from customers.models import ExternalSystem
    from integration_portal.bulk import RowInserter

    ExternalSystem.objects.update(historical_import_completed_at=timezone.now())
    local_feeds.export.batch_size = 50
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
    for entry in files:
        lines = local_feeds.read(entry.remote_path).decode().splitlines()[1:]
        seen += [line.split(",")[0] for line in lines]
    assert len(seen) == count and len(set(seen)) == count
    assert CustomerSync.objects.filter(status="exported").count() == count
