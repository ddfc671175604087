"""The NetSuite side of the file exchange: HotWax's SuiteScripts over a local folder standing for the SFTP home."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from netsuite_sandbox import NetSuiteSandbox
from netsuite_sandbox.__main__ import main
from netsuite_sandbox.scripts import (
    EXPORT_DIR,
    HISTORICAL_DIR,
    IMPORT_DIR,
    exported_customer_csv,
    generate_historical_customer_csv,
    import_customer,
)

HEADER = (
    "HCCustomerId,externalId,HCShopifyCustomerId,firstName,lastName,email,phone,individual,status,subsidiary,"
    "taxable,defaultOrderPriority,accountSource"
)
DAY = datetime(2024, 3, 5, 10, 15, 30, tzinfo=UTC)


def _export(root: Path, name: str, *rows: str, header: str = HEADER, raw: bytes | None = None) -> Path:
    folder = root / EXPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(raw if raw is not None else ("\r\n".join([header, *rows]) + "\r\n").encode())
    return path


def _row(cid: str, *, first: str = "Ada", last: str = "Lovelace", individual: str = "T", subsidiary: str = "1") -> str:
    email = f"{cid.lower()}@example.com"
    fields = [cid, cid, f"SH{cid}", first, last, email, "555-123-4567", individual, "CUSTOMER-Closed Won", subsidiary]
    return ",".join([*fields, "TRUE", "5", "Shopify"])


def _error_rows(root: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted((root / EXPORT_DIR / "error").glob("*.csv")):
        rows += list(csv.DictReader(io.StringIO(path.read_text())))
    return rows


def test_import_creates_customers_and_archives_the_file(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    _export(tmp_path, "customers-1.csv", _row("C10042"), _row("C10043", individual="F"))
    result = import_customer(sandbox.store, tmp_path)
    assert (result.created, result.updated, result.failed) == (2, 0, [])
    assert (tmp_path / EXPORT_DIR / "archive" / "customers-1.csv").exists()
    assert not (tmp_path / EXPORT_DIR / "customers-1.csv").exists()
    person = sandbox.customers_by_external_id("C10042")[0]
    assert (person["isPerson"], person["firstName"], person["custentity_hc_shopify_customer_id"]) == (
        True,
        "Ada",
        "SHC10042",
    )
    company = sandbox.customers_by_external_id("C10043")[0]
    assert (company["isPerson"], company["companyName"]) == (False, "Ada Lovelace")
    assert _error_rows(tmp_path) == []


def test_reimporting_the_same_customers_never_duplicates(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    _export(tmp_path, "a.csv", _row("C1"), _row("C1"))
    import_customer(sandbox.store, tmp_path)
    _export(tmp_path, "a.csv", _row("C1", last="Byron"))
    result = import_customer(sandbox.store, tmp_path)
    assert (result.created, result.updated) == (0, 1)
    assert sandbox.count_customers() == 1
    assert sandbox.customers_by_external_id("C1")[0]["lastName"] == "Byron"
    archived = sorted(p.name for p in (tmp_path / EXPORT_DIR / "archive").iterdir())
    assert len(archived) == 2 and "a.csv" in archived  # the second one is renamed, never overwritten


def test_bad_rows_are_reported_and_good_rows_go_in(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    _export(tmp_path, "mixed.csv", _row("C1"), _row("C2", subsidiary="99"), _row("C3", individual="maybe"))
    result = import_customer(sandbox.store, tmp_path)
    assert result.created == 1
    assert (tmp_path / EXPORT_DIR / "archive" / "mixed.csv").exists()
    errors = _error_rows(tmp_path)
    assert [e["fileName"] for e in errors] == ["mixed.csv", "mixed.csv"]
    assert "Line 3" in errors[0]["errorMessage"] and "subsidiary" in errors[0]["errorMessage"]
    assert "Line 4" in errors[1]["errorMessage"]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"raw": b""}, "empty"),
        ({"header": "HCCustomerId,firstName"}, "Missing required column"),
        ({"raw": HEADER.encode() + b"\r\nC1,C1,,J\xfcrgen,X,,,T,,1,,,\r\n"}, "UTF-8"),
    ],
)
def test_unreadable_file_moves_to_failed_with_an_error_csv(
    sandbox: NetSuiteSandbox, tmp_path: Path, kwargs: dict, reason: str
) -> None:
    _export(tmp_path, "bad.csv", _row("C1"), **kwargs)
    result = import_customer(sandbox.store, tmp_path)
    assert result.failed == [f"{EXPORT_DIR}/failed/bad.csv"]
    assert (tmp_path / EXPORT_DIR / "failed" / "bad.csv").exists()
    errors = _error_rows(tmp_path)
    assert errors[0]["fileName"] == "bad.csv"
    assert reason in errors[0]["errorMessage"]
    assert sandbox.count_customers() == 0


def test_files_still_uploading_are_left_alone(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    for name in (".incoming.csv", "upload.csv.part", "upload.csv.tmp"):
        _export(tmp_path, name, _row("C1"))
    result = import_customer(sandbox.store, tmp_path)
    assert result.archived == [] and result.failed == []
    assert sorted(p.name for p in (tmp_path / EXPORT_DIR).iterdir()) == [
        ".incoming.csv",
        "upload.csv.part",
        "upload.csv.tmp",
    ]
    assert sandbox.count_customers() == 0


def test_created_ids_file_is_unquoted_and_holds_only_new_customers(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    sandbox.seed_historical(3)  # historical customers have no external ID: not in the created-IDs feed
    _export(tmp_path, "a.csv", _row("C10042"), _row("C10043"))
    import_customer(sandbox.store, tmp_path)
    path = exported_customer_csv(sandbox.store, tmp_path, now=DAY)
    assert path == f"{IMPORT_DIR}/2024-03-05-CustomerExport.csv"
    text = (tmp_path / path).read_text()
    assert (
        text
        == "partyId,partyIdentificationTypeId,idValue\nC10042,NETSUITE_CUSTOMER_ID,4\nC10043,NETSUITE_CUSTOMER_ID,5\n"
    )
    assert '"' not in text
    assert not list((tmp_path / IMPORT_DIR).glob(".*"))  # the temporary name is gone

    assert exported_customer_csv(sandbox.store, tmp_path, now=DAY) is None  # nothing new since the last run
    _export(tmp_path, "b.csv", _row("C10044"))
    import_customer(sandbox.store, tmp_path)
    second = exported_customer_csv(sandbox.store, tmp_path, now=DAY.replace(hour=11, minute=0, second=0))
    assert second == f"{IMPORT_DIR}/2024-03-05-110000-CustomerExport.csv"
    assert (tmp_path / path).read_text() == text  # the unconsumed earlier file is untouched
    assert (tmp_path / second).read_text().splitlines()[1:] == ["C10044,NETSUITE_CUSTOMER_ID,6"]


def test_historical_file_lists_customers_with_shopify_ids(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    sandbox.seed_historical(2)
    sandbox.create_customer({"companyName": "No Shopify, Inc", "subsidiary": {"id": "1"}})
    sandbox.create_customer(
        {"companyName": 'Quote, "Comma" Co', "subsidiary": {"id": "1"}, "custentity_hc_shopify_customer_id": "99"}
    )
    path = generate_historical_customer_csv(sandbox.store, tmp_path, now=DAY)
    assert path.startswith(HISTORICAL_DIR + "/")
    rows = list(csv.DictReader(io.StringIO((tmp_path / path).read_text(), newline="")))
    assert [r["Internal ID"] for r in rows] == ["1", "2", "4"]
    assert rows[0]["HCShopifyCustomerId"] == "7000000000001"
    assert rows[0]["Email"] == "customer1@example.com"
    assert rows[2]["Company Name"] == 'Quote, "Comma" Co'
    assert list(rows[0]) == [
        "Internal ID",
        "HCShopifyCustomerId",
        "HCCustomerId",
        "Email",
        "Phone",
        "First Name",
        "Last Name",
        "Company Name",
    ]


def test_run_script_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, root = tmp_path / "data", tmp_path / "home"
    _export(root, "cli.csv", _row("C7"))
    assert main(["run-script", "HC_SC_ImportCustomer", "--root", str(root), "--data-dir", str(data)]) == 0
    assert '"created": 1' in capsys.readouterr().out
    assert main(["run-script", "HC_MR_ExportedCustomerCSV", "--root", str(root), "--data-dir", str(data)]) == 0
    [created] = list((root / IMPORT_DIR).glob("*-CustomerExport.csv"))
    assert created.read_text().splitlines()[1] == "C7,NETSUITE_CUSTOMER_ID,1"


def test_scheduler_runs_import_then_export(tmp_path: Path) -> None:
    import time

    _export(tmp_path, "sched.csv", _row("C8"))
    with NetSuiteSandbox(file_root=tmp_path) as sandbox:
        sandbox.start_scheduler(0.05)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not list((tmp_path / IMPORT_DIR).glob("*.csv")):
            time.sleep(0.05)
        assert sandbox.count_customers(external_id="C8") == 1
    assert (tmp_path / EXPORT_DIR / "archive" / "sched.csv").exists()
    assert len(list((tmp_path / IMPORT_DIR).glob("*-CustomerExport.csv"))) == 1


def test_run_script_control_endpoint(sandbox: NetSuiteSandbox, tmp_path: Path) -> None:
    import requests

    _export(tmp_path, "http.csv", _row("C9"))
    answer = requests.post(
        sandbox.root_url + "/_sandbox/run-script",
        json={"name": "HC_SC_ImportCustomer", "root": str(tmp_path)},
        timeout=10,
    ).json()
    assert answer["created"] == 1
    assert answer["archived"] == [f"{EXPORT_DIR}/archive/http.csv"]
