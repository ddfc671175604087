"""HotWax's SuiteScripts in the sandbox behave as their source: folders, names, what is taken, ADD-only import."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from netsuite_sandbox import NetSuiteSandbox
from netsuite_sandbox.__main__ import main
from netsuite_sandbox.hotwax import (
    EXPORT_DIR,
    HISTORICAL_DIR,
    IMPORT_DIR,
    LAST_RUNTIME,
    cabinet,
    csvimport,
    date_to_string,
    nmodules,
    run_script,
)

HEADER = (
    "HCCustomerId,externalId,HCShopifyCustomerId,firstName,lastName,email,phone,individual,status,subsidiary,"
    "taxable,defaultOrderPriority,accountSource"
)
MOMENT = datetime(2026, 11, 30, 18, 15, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 3, 18, 15, 9, tzinfo=UTC)
FOLDERS = (
    EXPORT_DIR,
    f"{EXPORT_DIR}/archive",
    f"{EXPORT_DIR}/error",
    f"{EXPORT_DIR}/failed",
    IMPORT_DIR,
    HISTORICAL_DIR,
)


def _home(tmp_path: Path, *, without: tuple[str, ...] = ()) -> Path:
    """An SFTP home with the folders the portal creates (the scripts create none)."""
    for folder in FOLDERS:
        if folder not in without:
            (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    return tmp_path


def _put(home: Path, name: str, *rows: str, raw: bytes | None = None, age: float = 0) -> Path:
    path = home / EXPORT_DIR / name
    path.write_bytes(raw if raw is not None else ("\n".join([HEADER, *rows]) + "\n").encode())
    if age:
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))
    return path


def _row(cid: str, *, first: str = "Ada", last: str = "Lovelace", individual: str = "T", subsidiary: str = "1",
         source: str = "7", status: str = "CUSTOMER-Closed Won", shop: str | None = None) -> str:  # fmt: skip
    fields = [cid, cid, shop if shop is not None else f"70{cid[1:]}", first, last, f"{cid.lower()}@example.com",
              "+1-555-0100", individual, status, subsidiary, "TRUE", "5", source]  # fmt: skip
    return ",".join(fields)


def _clock(start: datetime = MOMENT, step: float = 1.0):
    """A clock that moves on a second at every reading, as a real run does."""
    state = {"now": start - timedelta(seconds=step)}

    def now() -> datetime:
        state["now"] += timedelta(seconds=step)
        return state["now"]

    return now


def _import(sandbox: NetSuiteSandbox, home: Path, **context):
    context.setdefault("clock", _clock())
    return sandbox.run_script("HC_SC_ImportCustomer", home, **context)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


# --- JavaScript dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "UTC", "Asia/Kolkata", "Europe/London"])
@pytest.mark.parametrize("moment", [MOMENT, SUMMER])
def test_file_names_use_javascript_date_to_string(zone: str, moment: datetime) -> None:
    expected = {
        ("America/Los_Angeles", MOMENT): "Mon Nov 30 2026 10:15:00 GMT-0800 (Pacific Standard Time)",
        ("America/Los_Angeles", SUMMER): "Fri Jul 03 2026 11:15:09 GMT-0700 (Pacific Daylight Time)",
    }
    text = date_to_string(moment, zone)
    if (zone, moment) in expected:
        assert text == expected[(zone, moment)]
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: compared with the fixed examples only")
    millis = int(moment.timestamp() * 1000)
    js = subprocess.run(
        [node, "-e", f"console.log(String(new Date({millis})))"],
        env={**os.environ, "TZ": zone},
        capture_output=True,
        text=True,
        check=True,
    )
    assert text == js.stdout.strip()


# --- HC_SC_ImportCustomer ---------------------------------------------------------------------------------


def test_import_archives_before_netsuite_imports_a_row(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    home = _home(tmp_path)
    _put(home, "customers-1.csv", _row("C10042"), _row("C10043"))
    run = _import(sandbox, home)
    assert run.error is None and run.archived == [f"{EXPORT_DIR}/archive/customers-1.csv"]
    assert _listing(home / EXPORT_DIR / "archive") == ["customers-1.csv"]
    # The file is archived, yet NetSuite has not imported anything: the task only waits in the queue.
    assert sandbox.count_customers() == 0
    [job] = sandbox.csv_import_jobs()
    assert (job["name"], job["status"], job["rows_total"]) == ("Add Customer-customers-1.csv", "PENDING", 2)

    sandbox.run_csv_import_queue()
    [job] = sandbox.csv_import_jobs()
    assert (job["status"], job["rows_added"], job["rows_failed"]) == ("COMPLETE", 2, 0)
    person = sandbox.customers_by_external_id("C10042")[0]
    assert person["isPerson"] is True and person["firstName"] == "Ada"
    assert person["custentity_hc_customer_id"] == "C10042"
    assert person["custentity_hc_shop_cust_id"] == "7010042"
    assert person["subsidiary"]["id"] == "1" and person["leadSource"]["id"] == "7"
    assert person["entityStatus"]["id"] == "13" and person["taxable"] is True
    assert person["phone"] == "+1-555-0100"


def test_import_takes_every_entry_that_is_not_a_folder_oldest_first(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    home = _home(tmp_path)
    (home / EXPORT_DIR / ".writing").mkdir()
    (home / EXPORT_DIR / ".writing" / "inside-a-folder.csv").write_text(HEADER + "\n" + _row("C9") + "\n")
    _put(home, "newest.csv", _row("C3"), age=10)
    _put(home, ".hidden.csv.part", _row("C2"), age=20)  # a half-written temporary name is taken all the same
    _put(home, "notes.txt", _row("C1"), age=30)
    run = _import(sandbox, home)
    assert [t.rsplit("/", 1)[1] for t in run.archived] == ["notes.txt", ".hidden.csv.part", "newest.csv"]
    assert [j["name"] for j in sandbox.csv_import_jobs()] == [
        "Add Customer-notes.txt",
        "Add Customer-.hidden.csv.part",
        "Add Customer-newest.csv",
    ]
    assert (home / EXPORT_DIR / ".writing" / "inside-a-folder.csv").exists()  # a subfolder is never looked into


def test_add_only_import_rejects_known_external_ids_and_reports_rows_only_on_the_job(
    sandbox: NetSuiteSandbox, tmp_path: Path
) -> None:
    home = _home(tmp_path)
    _put(home, "first.csv", _row("C1"))
    _import(sandbox, home)
    sandbox.run_csv_import_queue()
    _put(home, "second.csv", _row("C1", last="Byron"), _row("C2"))
    _import(sandbox, home)
    sandbox.run_csv_import_queue()
    assert sandbox.customers_by_external_id("C1")[0]["lastName"] == "Lovelace"  # never updated
    job = sandbox.csv_import_jobs()[1]
    assert (job["rows_added"], job["rows_failed"]) == (1, 1)
    result = job["results"][0]
    assert (result["line"], result["added"], result["internal_id"]) == (2, False, None)
    assert result["message"].startswith("This entity already exists.")  # NetSuite's words; the sandbox adds why
    # Nothing about rejected rows reaches the server: no error file, both files archived.
    assert _listing(home / EXPORT_DIR / "error") == []
    assert _listing(home / EXPORT_DIR / "archive") == ["first.csv", "second.csv"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (_row("C1", subsidiary="Parent Company"), "Invalid subsidiary reference key Parent Company."),
        (_row("C1", subsidiary="99"), "Invalid subsidiary reference key 99."),
        (_row("C1", source="Shopify"), "Invalid leadsource reference key Shopify."),
        (_row("C1", status="13"), "Invalid entitystatus reference key 13."),
        (_row("C1", individual="F"), "Please enter value(s) for: Company Name."),
        (_row("C1", last=""), "Please enter value(s) for: Last Name."),
        (_row("C1", first="A" * 33), "The field firstName contained more than the maximum number ( 32 )"),
    ],
)
def test_rows_are_checked_as_the_saved_import_maps_them(
    sandbox: NetSuiteSandbox, tmp_path: Path, row: str, message: str
) -> None:
    home = _home(tmp_path)
    _put(home, "one.csv", row)
    _import(sandbox, home)
    sandbox.run_csv_import_queue()
    [job] = sandbox.csv_import_jobs()
    assert job["rows_failed"] == 1 and job["results"][0]["message"].startswith(message)
    assert sandbox.count_customers() == 0


def test_a_status_by_name_ignores_case(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    home = _home(tmp_path)
    _put(home, "one.csv", _row("C1", status="customer-closed won"))
    _import(sandbox, home)
    sandbox.run_csv_import_queue()
    assert sandbox.customers_by_external_id("C1")[0]["entityStatus"]["id"] == "13"


def _error_file(home: Path) -> tuple[str, str]:
    [name] = _listing(home / EXPORT_DIR / "error")
    return name, (home / EXPORT_DIR / "error" / name).read_text()


def test_too_many_rows_fail_the_submit_with_an_unquoted_error_file(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    home = _home(tmp_path)
    _put(home, "big.csv", *(_row(f"C{n}") for n in range(csvimport.MAX_ROWS + 1)))
    run = _import(sandbox, home)
    assert run.failed == [f"{EXPORT_DIR}/failed/big.csv"] and sandbox.csv_import_jobs() == []
    name, text = _error_file(home)
    assert name == "Mon Nov 30 2026 10:15:01 GMT-0800 (Pacific Standard Time)-ErrorAddCustomer.csv"
    # One line per failed file, the message as it is: its commas unquoted, so only the first comma splits.
    assert text == (
        "fileName,errorMessage\nbig.csv,Failed to submit job request: the file has 25,001 records, more than the "
        "25,000 a CSV import takes.\n"
    )


def test_a_file_over_the_download_limit_moves_to_failed(
    sandbox: NetSuiteSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nmodules, "MAX_FILE_SIZE", 300)  # N/sftp's 100,000,000 bytes, scaled down
    home = _home(tmp_path)
    _put(home, "large.csv", *(_row(f"C{n}") for n in range(5)))
    run = _import(sandbox, home)
    assert run.failed == [f"{EXPORT_DIR}/failed/large.csv"]
    assert _error_file(home)[1].endswith(
        "large.csv,The file size is greater than the maximum file size allowed by NetSuite.\n"
    )


def test_missing_archive_folder_fails_the_file_after_it_was_submitted(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    home = _home(tmp_path, without=(f"{EXPORT_DIR}/archive",))
    _put(home, "a.csv", _row("C1"))
    run = _import(sandbox, home)
    # The task was queued before the move threw: the customers will be imported although the file is in failed/.
    assert run.failed == [f"{EXPORT_DIR}/failed/a.csv"] and len(run.tasks) == 1
    assert _error_file(home)[1].endswith("a.csv,The file or directory does not exist.\n")
    sandbox.run_csv_import_queue()
    assert sandbox.count_customers() == 1


def test_missing_archive_and_failed_folders_resubmit_the_file_every_run(
    sandbox: NetSuiteSandbox, tmp_path: Path
) -> None:
    home = _home(tmp_path, without=(f"{EXPORT_DIR}/archive", f"{EXPORT_DIR}/failed"))
    _put(home, "a.csv", _row("C1"))
    first = _import(sandbox, home)
    assert first.error is not None and "does not exist" in first.error.message
    sandbox.run_csv_import_queue()
    second = _import(sandbox, home, clock=_clock(MOMENT + timedelta(minutes=15)))
    sandbox.run_csv_import_queue()
    assert second.error is not None
    assert _listing(home / EXPORT_DIR) == ["a.csv"]  # never moved
    assert len(_listing(home / EXPORT_DIR / "error")) == 2
    jobs = sandbox.csv_import_jobs()
    assert [(j["rows_added"], j["rows_failed"]) for j in jobs] == [(1, 0), (0, 1)]  # ADD refuses the second time


def test_two_failures_in_one_second_end_the_run_on_the_taken_error_file_name(
    sandbox: NetSuiteSandbox, tmp_path: Path
) -> None:
    home = _home(tmp_path)
    _put(home, "x.csv", raw=b"firstName\nAda\n", age=20)
    _put(home, "y.csv", raw=b"firstName\nGrace\n", age=10)
    run = _import(sandbox, home, clock=lambda: MOMENT)
    assert run.failed == [f"{EXPORT_DIR}/failed/x.csv"]
    assert run.error is not None and run.error.message == "The file already exists on the remote FTP server."
    assert _listing(home / EXPORT_DIR) == ["y.csv"]  # left for the next run


def test_an_empty_file_is_archived_without_an_import(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    home = _home(tmp_path)
    _put(home, "empty.csv", raw=b"")
    run = _import(sandbox, home)
    assert run.archived == [f"{EXPORT_DIR}/archive/empty.csv"] and sandbox.csv_import_jobs() == []


def test_a_task_that_fails_at_once_leaves_the_file_for_the_next_run(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    home = _home(tmp_path)
    _put(home, "a.csv", _row("C1"))
    run = _import(sandbox, home, csv_import_fails_at_once=True)
    assert run.left == ["a.csv"] and _listing(home / EXPORT_DIR) == ["a.csv"]


def test_the_usage_threshold_stops_the_run_and_leaves_files_for_the_next(
    sandbox: NetSuiteSandbox, tmp_path: Path
) -> None:
    home = _home(tmp_path)
    for n in range(50):
        _put(home, f"f{n:02d}.csv", _row(f"C{n}"), age=100 - n)
    run = _import(sandbox, home)
    # 10,000 units: 10 for the configuration search, 10 for the listing, 220 per file; below 500 it stops.
    assert len(run.archived) == 44 and run.left == [f"f{n:02d}.csv" for n in range(44, 50)]


# --- HC_MR_ExportedCustomerCSV ----------------------------------------------------------------------------


def _created(sandbox: NetSuiteSandbox, when: datetime, **fields) -> int:
    sandbox.store.clock = lambda: when
    body = {"isPerson": True, "firstName": "A", "lastName": "B", "subsidiary": {"id": "1"}, **fields}
    return sandbox.create_customer(body)


def test_created_ids_file_holds_active_customers_with_external_and_shopify_ids(
    sandbox: NetSuiteSandbox, tmp_path: Path
) -> None:
    home = _home(tmp_path)
    sandbox.store.set_state(LAST_RUNTIME, "2026-11-30 18:00")
    ok = _created(sandbox, MOMENT, externalId="C1", custentity_hc_customer_id="C1", custentity_hc_shop_cust_id="71")
    no_party = _created(sandbox, MOMENT, externalId="C2", custentity_hc_shop_cust_id="72")
    _created(sandbox, MOMENT, externalId="C3", custentity_hc_customer_id="C3")  # no Shopify ID: never comes back
    _created(sandbox, MOMENT, custentity_hc_customer_id="C4", custentity_hc_shop_cust_id="74")  # no external ID
    _created(sandbox, MOMENT, externalId="C5", custentity_hc_shop_cust_id="75", isInactive=True)
    _created(
        sandbox, MOMENT - timedelta(hours=1), externalId="C6", custentity_hc_shop_cust_id="76"
    )  # before the window
    run = sandbox.run_script("HC_MR_ExportedCustomerCSV", home, clock=lambda: MOMENT + timedelta(seconds=42))
    assert run.written == [f"{IMPORT_DIR}/Mon Nov 30 2026 10:15:42 GMT-0800 (Pacific Standard Time)-CustomerExport.csv"]
    text = (home / run.written[0]).read_bytes().decode()
    header = "partyId,partyIdentificationTypeId,idValue\n"
    assert text == f"{header}C1,NETSUITE_CUSTOMER_ID,{ok}\n,NETSUITE_CUSTOMER_ID,{no_party}\n"
    assert sandbox.store.get_state(LAST_RUNTIME) == "2026-11-30 18:15"


def test_the_minute_window_repeats_the_boundary_minute_and_writes_nothing_when_empty(
    sandbox: NetSuiteSandbox, tmp_path: Path
) -> None:
    home = _home(tmp_path)
    sandbox.store.set_state(LAST_RUNTIME, "2026-11-30 18:00")
    boundary = _created(sandbox, MOMENT + timedelta(seconds=5), externalId="C1", custentity_hc_shop_cust_id="7")
    sandbox.run_script("HC_MR_ExportedCustomerCSV", home, clock=lambda: MOMENT + timedelta(seconds=30))
    second = sandbox.run_script("HC_MR_ExportedCustomerCSV", home, clock=lambda: MOMENT + timedelta(minutes=15))
    # Created in the minute the first run ended in: both runs list it (minute precision at both ends).
    assert second.rows == 1 and f",NETSUITE_CUSTOMER_ID,{boundary}\n" in (home / second.written[0]).read_text()
    third = sandbox.run_script("HC_MR_ExportedCustomerCSV", home, clock=lambda: MOMENT + timedelta(minutes=30))
    assert (third.rows, third.written) == (0, [])
    assert sandbox.store.get_state(LAST_RUNTIME) == "2026-11-30 18:30"  # the second run's minute


def test_a_missing_import_folder_keeps_the_last_runtime(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    home = _home(tmp_path, without=(IMPORT_DIR,))
    sandbox.store.set_state(LAST_RUNTIME, "2026-11-30 18:00")
    _created(sandbox, MOMENT, externalId="C1", custentity_hc_shop_cust_id="7")
    run = sandbox.run_script("HC_MR_ExportedCustomerCSV", home, clock=lambda: MOMENT)
    assert run.error is not None and run.written == []
    assert sandbox.store.get_state(LAST_RUNTIME) == "2026-11-30 18:00"


# --- the historical pair ----------------------------------------------------------------------------------


def test_historical_file_goes_through_the_file_cabinet_in_hotwax_party_format(
    sandbox: NetSuiteSandbox, tmp_path: Path
) -> None:
    home = _home(tmp_path, without=(HISTORICAL_DIR,))
    sandbox.seed_historical(2)
    sandbox.store.execute("UPDATE customer SET celigo_shopify_id = '' WHERE id = 2")
    sandbox.create_customer({"companyName": "Not from Shopify", "subsidiary": {"id": "1"}})
    generated = sandbox.run_script("HC_SC_GenerateHistoricalCustomerCSV", home, clock=lambda: MOMENT)
    [name] = cabinet.files_in(sandbox.store, cabinet.HISTORICAL_FOLDER)
    assert name == "Mon Nov 30 2026 10:15:00 GMT-0800 (Pacific Standard Time)-HistoricalShopifyCustomerExport.csv"
    assert generated.rows == 2

    first = sandbox.run_script("HC_SC_UploadHistoricalCustomerCSV", home)
    assert first.left == [name]  # csv/ does not exist: the file stays in the File Cabinet for the next run
    (home / HISTORICAL_DIR).mkdir(parents=True)
    second = sandbox.run_script("HC_SC_UploadHistoricalCustomerCSV", home)
    assert second.written == [f"{HISTORICAL_DIR}/{name}"]
    assert cabinet.files_in(sandbox.store, cabinet.ARCHIVE_FOLDER) == [name]
    rows = list(csv.reader(io.StringIO((home / HISTORICAL_DIR / name).read_text(), newline="")))
    assert rows == [
        ["first-name", "last-name", "external-id", "party-identifications"],
        ["First1", "Last1", "7000000000001", "SHOPIFY_CUST_ID:7000000000001|NETSUITE_CUSTOMER_ID:1"],
        ["First2", "Last2", "", "SHOPIFY_CUST_ID:|NETSUITE_CUSTOMER_ID:2"],
    ]


def test_no_historical_file_without_results(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    run = sandbox.run_script("HC_SC_GenerateHistoricalCustomerCSV", _home(tmp_path))
    assert run.written == [] and not cabinet.folder_exists(sandbox.store, cabinet.HISTORICAL_FOLDER)


# --- running them -----------------------------------------------------------------------------------------


def test_run_script_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, home = tmp_path / "data", _home(tmp_path / "home")
    _put(home, "cli.csv", _row("C7"))
    assert main(["run-script", "HC_SC_ImportCustomer", "--root", str(home), "--data-dir", str(data)]) == 0
    assert '"archived"' in capsys.readouterr().out
    assert main(["run-script", "csv-import-queue", "--data-dir", str(data)]) == 0
    assert main(["run-script", "HC_MR_ExportedCustomerCSV", "--root", str(home), "--data-dir", str(data)]) == 0
    [created] = list((home / IMPORT_DIR).glob("*-CustomerExport.csv"))
    assert created.read_text().splitlines()[1] == "C7,NETSUITE_CUSTOMER_ID,1"


def test_scheduler_runs_import_queue_and_created_ids(tmp_path: Path) -> None:
    home = _home(tmp_path)
    _put(home, "sched.csv", _row("C8"))
    with NetSuiteSandbox(file_root=home) as sandbox:
        sandbox.start_scheduler(0.05)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not list((home / IMPORT_DIR).glob("*.csv")):
            time.sleep(0.05)
        assert sandbox.count_customers(external_id="C8") == 1
    assert (home / EXPORT_DIR / "archive" / "sched.csv").exists()
    assert len(list((home / IMPORT_DIR).glob("*-CustomerExport.csv"))) == 1


def test_run_script_control_endpoint(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    import requests

    home = _home(tmp_path)
    _put(home, "http.csv", _row("C9"))
    answer = requests.post(
        sandbox.root_url + "/_sandbox/run-script",
        json={"name": "HC_SC_ImportCustomer", "root": str(home)},
        timeout=10,
    ).json()
    assert answer["archived"] == [f"{EXPORT_DIR}/archive/http.csv"] and answer["error"] is None


def test_scripts_run_over_a_real_sftp_server_too(tmp_path: Path) -> None:
    """The module-level entry point takes a FileRoot; the portal's end-to-end tests use SftpFileRoot."""
    from netsuite_sandbox.hotwax import LocalFileRoot
    from netsuite_sandbox.store import Store

    store = Store()
    home = _home(tmp_path)
    _put(home, "a.csv", _row("C1"))
    run = run_script("HC_SC_ImportCustomer", store, LocalFileRoot(home))
    assert run.archived and csvimport.jobs(store)[0]["status"] == "PENDING"
