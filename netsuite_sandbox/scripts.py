"""The NetSuite side of the file exchange: HotWax's SuiteScripts, acting on the sandbox's customers.

Folders, relative to the file root (the SFTP home, `/home/{sftp-username}`):
- `netsuite/customer/export/`: customer CSVs from the portal, consumed by HC_SC_ImportCustomer, which moves each
  file to `archive/` (read, its good rows imported) or `failed/` (unreadable, a required column missing, or no
  row importable), and writes `error/<file>-error.csv` (`fileName,errorMessage`) when a file or a row failed.
  Files still being uploaded (`.name`, `*.tmp`, `*.part`, ...) are left alone.
- `netsuite/customer/import/`: `<YYYY-MM-DD>-CustomerExport.csv` created-IDs files from HC_MR_ExportedCustomerCSV
  (a later run on the same day adds the time: `<YYYY-MM-DD>-<HHMMSS>-CustomerExport.csv`).
- `netsuite/historicalshopifycustomer/csv/`: `HistoricalShopifyCustomer-<YYYYMMDD-HHMMSS>.csv` from
  HC_SC_GenerateHistoricalCustomerCSV.
Every file is written under a temporary name, then renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import io
import logging
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import records
from .errors import NetSuiteError
from .files import FileRoot, as_file_root, is_temporary
from .store import SUBSIDIARIES, Store

log = logging.getLogger(__name__)

EXPORT_DIR = "netsuite/customer/export"
IMPORT_DIR = "netsuite/customer/import"
HISTORICAL_DIR = "netsuite/historicalshopifycustomer/csv"
FOLDERS = (
    EXPORT_DIR,
    f"{EXPORT_DIR}/archive",
    f"{EXPORT_DIR}/failed",
    f"{EXPORT_DIR}/error",
    IMPORT_DIR,
    HISTORICAL_DIR,
)

EXPORT_HEADER = [
    "HCCustomerId",
    "externalId",
    "HCShopifyCustomerId",
    "firstName",
    "lastName",
    "email",
    "phone",
    "individual",
    "status",
    "subsidiary",
    "taxable",
    "defaultOrderPriority",
    "accountSource",
]
REQUIRED_COLUMNS = ("firstName", "lastName", "individual", "subsidiary")
CREATED_IDS_HEADER = "partyId,partyIdentificationTypeId,idValue"
HISTORICAL_HEADER = [
    "Internal ID",
    "HCShopifyCustomerId",
    "HCCustomerId",
    "Email",
    "Phone",
    "First Name",
    "Last Name",
    "Company Name",
]
WATERMARK = "HC_MR_ExportedCustomerCSV.last_id"
TRUE_VALUES = frozenset({"T", "TRUE", "Y", "YES", "1"})
FALSE_VALUES = frozenset({"F", "FALSE", "N", "NO", "0"})


@dataclass
class ImportResult:
    """What one HC_SC_ImportCustomer run did."""

    archived: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error_files: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    row_errors: list[str] = field(default_factory=list)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _free_name(root: FileRoot, folders: tuple[str, ...], name: str, stamp: str) -> str:
    """Return `name`, or `name` with `stamp` (then a counter) before its extension, free in every folder."""
    stem, ext = posixpath.splitext(name)
    candidates = [name, f"{stem}-{stamp}{ext}"] + [f"{stem}-{stamp}-{n}{ext}" for n in range(2, 1000)]
    for candidate in candidates:
        if not any(root.exists(f"{folder}/{candidate}") for folder in folders):
            return candidate
    raise RuntimeError(f"No free file name for {name}.")


def _write_atomically(root: FileRoot, folder: str, name: str, data: bytes) -> str:
    """Write under a temporary name, then rename, so a reader never sees half a file."""
    temporary = f"{folder}/.{name}.tmp"
    root.write(temporary, data)
    root.rename(temporary, f"{folder}/{name}")
    return f"{folder}/{name}"


def _truthy(value: str, *, line: int, column: str) -> bool:
    upper = (value or "").strip().upper()
    if upper in TRUE_VALUES:
        return True
    if upper in FALSE_VALUES:
        return False
    raise ValueError(f"Line {line}: {column} is '{value}'; expected T or F.")


def _subsidiary_id(value: str, *, line: int) -> str:
    raw = (value or "").strip()
    if raw.isdigit():
        return raw
    for sid, name in SUBSIDIARIES.items():
        if name.lower() == raw.lower():
            return str(sid)
    raise ValueError(f"Line {line}: subsidiary '{raw}' does not exist.")


def _row_body(row: dict[str, str], line: int) -> tuple[str, dict[str, Any]]:
    """Turn one export row into an external ID and a customer body."""
    eid = (row.get("externalId") or row.get("HCCustomerId") or "").strip()
    if not eid:
        raise ValueError(f"Line {line}: externalId and HCCustomerId are both empty.")
    is_person = _truthy(row.get("individual", ""), line=line, column="individual")
    first, last = (row.get("firstName") or "").strip(), (row.get("lastName") or "").strip()
    body: dict[str, Any] = {
        "isPerson": is_person,
        "subsidiary": {"id": _subsidiary_id(row.get("subsidiary", ""), line=line)},
    }
    if is_person:
        body.update(firstName=first, lastName=last)
    else:
        body["companyName"] = (row.get("companyName") or f"{first} {last}").strip()
    for column, key in (
        ("email", "email"),
        ("phone", "phone"),
        ("HCShopifyCustomerId", "custentity_hc_shopify_customer_id"),
    ):
        if (row.get(column) or "").strip():
            body[key] = row[column].strip()
    if (row.get("status") or "").strip():
        body["entityStatus"] = {"id": row["status"].strip()}
    if (row.get("taxable") or "").strip():
        body["taxable"] = _truthy(row["taxable"], line=line, column="taxable")
    if (row.get("defaultOrderPriority") or "").strip():
        body["defaultOrderPriority"] = row["defaultOrderPriority"].strip()
    if (row.get("accountSource") or "").strip():
        body["custentity_hc_account_source"] = row["accountSource"].strip()
    return eid, body


def _error_csv(rows: list[tuple[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["fileName", "errorMessage"])
    writer.writerows(rows)
    return out.getvalue().encode()


def import_customer(store: Store, root: str | Path | FileRoot, *, now: datetime | None = None) -> ImportResult:
    """HC_SC_ImportCustomer: upsert every export file's customers by external ID, then archive or fail the file."""
    root = as_file_root(root)
    stamp = _now(now).strftime("%Y%m%d-%H%M%S")
    result = ImportResult()
    for name in root.list(EXPORT_DIR):
        if is_temporary(name) or not name.lower().endswith(".csv"):
            continue
        path = f"{EXPORT_DIR}/{name}"
        file_error, row_errors, created, updated = _import_file(store, root.read(path))
        result.created += created
        result.updated += updated
        result.row_errors += [f"{name}: {e}" for e in row_errors]
        errors = [(name, file_error)] if file_error else []
        errors += [(name, e) for e in row_errors]
        folder = f"{EXPORT_DIR}/failed" if file_error else f"{EXPORT_DIR}/archive"
        target = _free_name(root, (folder,), name, stamp)
        if errors:
            error_name = _free_name(root, (f"{EXPORT_DIR}/error",), f"{posixpath.splitext(name)[0]}-error.csv", stamp)
            result.error_files.append(_write_atomically(root, f"{EXPORT_DIR}/error", error_name, _error_csv(errors)))
        root.rename(path, f"{folder}/{target}")
        (result.failed if file_error else result.archived).append(f"{folder}/{target}")
        log.info("HC_SC_ImportCustomer: %s -> %s (%d created, %d updated)", name, folder, created, updated)
    return result


def _import_file(store: Store, data: bytes) -> tuple[str | None, list[str], int, int]:
    """Import one file; return a file-level error (if any), row errors, and how many were created and updated."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"The file is not UTF-8 text ({exc.reason} at byte {exc.start}).", [], 0, 0
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        return "The file is empty.", [], 0, 0
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if "externalId" not in header and "HCCustomerId" not in header:
        missing.insert(0, "externalId")
    if missing:
        return f"Missing required column(s): {', '.join(missing)}.", [], 0, 0
    row_errors: list[str] = []
    created = updated = rows = 0
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        rows += 1
        try:
            eid, body = _row_body(row, line)
            _, is_new = records.upsert(store, eid, body, source="csv")
        except ValueError as exc:
            row_errors.append(str(exc))
            continue
        except NetSuiteError as exc:
            row_errors.append(f"Line {line}: {exc.detail}")
            continue
        created += is_new
        updated += not is_new
    if rows == 0:
        return "The file has no customer rows.", row_errors, 0, 0
    if created + updated == 0:
        return "No row could be imported.", row_errors, 0, 0
    return None, row_errors, created, updated


def exported_customer_csv(store: Store, root: str | Path | FileRoot, *, now: datetime | None = None) -> str | None:
    """HC_MR_ExportedCustomerCSV: write the IDs of customers created since the last run; return the path, if any."""
    root = as_file_root(root)
    last_id = int(store.get_state(WATERMARK, "0"))
    rows = store.execute(
        "SELECT id, externalid FROM customer WHERE id > ? AND externalid IS NOT NULL ORDER BY id", (last_id,)
    )
    if not rows:
        return None
    # No CSV quoting, as the real script writes; external IDs hold no comma or quote, so the lines stay sound.
    lines = [CREATED_IDS_HEADER] + [f"{r['externalid']},NETSUITE_CUSTOMER_ID,{r['id']}" for r in rows]
    moment = _now(now)
    # A file of the same date may not have been consumed yet: never overwrite it, add the time instead.
    folders = (IMPORT_DIR, f"{IMPORT_DIR}/archive")
    day, time = f"{moment:%Y-%m-%d}", f"{moment:%H%M%S}"
    candidates = [day, f"{day}-{time}"] + [f"{day}-{time}-{n}" for n in range(2, 1000)]
    name = next(
        f"{c}-CustomerExport.csv"
        for c in candidates
        if not any(root.exists(f"{folder}/{c}-CustomerExport.csv") for folder in folders)
    )
    path = _write_atomically(root, IMPORT_DIR, name, ("\n".join(lines) + "\n").encode())
    store.set_state(WATERMARK, str(rows[-1]["id"]))
    log.info("HC_MR_ExportedCustomerCSV: %d customer(s) in %s", len(rows), path)
    return path


def generate_historical_customer_csv(store: Store, root: str | Path | FileRoot, *, now: datetime | None = None) -> str:
    """HC_SC_GenerateHistoricalCustomerCSV: write every customer with a Shopify customer ID; return the path."""
    root = as_file_root(root)
    rows = store.execute(
        "SELECT id, custentity_hc_shopify_customer_id, externalid, email, phone, firstname, lastname, companyname "
        "FROM customer WHERE custentity_hc_shopify_customer_id IS NOT NULL ORDER BY id"
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HISTORICAL_HEADER)
    writer.writerows([["" if v is None else v for v in tuple(r)] for r in rows])
    name = _free_name(root, (HISTORICAL_DIR,), f"HistoricalShopifyCustomer-{_now(now):%Y%m%d-%H%M%S}.csv", "2")
    path = _write_atomically(root, HISTORICAL_DIR, name, out.getvalue().encode())
    log.info("HC_SC_GenerateHistoricalCustomerCSV: %d customer(s) in %s", len(rows), path)
    return path


SCRIPTS: dict[str, Callable[..., Any]] = {
    "HC_SC_ImportCustomer": import_customer,
    "HC_MR_ExportedCustomerCSV": exported_customer_csv,
    "HC_SC_GenerateHistoricalCustomerCSV": generate_historical_customer_csv,
}


def run_script(name: str, store: Store, root: str | Path | FileRoot) -> Any:
    """Run one SuiteScript by its NetSuite name."""
    if name not in SCRIPTS:
        raise ValueError(f"Unknown script {name}. Known: {', '.join(SCRIPTS)}.")
    return SCRIPTS[name](store, root)


def make_folders(root: str | Path) -> None:
    """Create the HotWax folder layout under a local root, so an SFTP user finds it."""
    for folder in FOLDERS:
        (Path(root) / folder).mkdir(parents=True, exist_ok=True)


def run_scheduled(store: Store, root: str | Path | FileRoot) -> None:
    """Run what NetSuite schedules: HC_SC_ImportCustomer, then HC_MR_ExportedCustomerCSV; log, never raise."""
    for name in ("HC_SC_ImportCustomer", "HC_MR_ExportedCustomerCSV"):
        try:
            run_script(name, store, root)
        except Exception:
            log.exception("Scheduled %s failed", name)
