"""NetSuite's CSV import as HC_SC_ImportCustomer uses it: saved import ``custimport_customer_hc`` run as a task.

The saved import (src/Objects/Customer/custimport_customer_hc.xml) is ADD only (``datahandling`` ADD): a row whose
external ID NetSuite already has is rejected, never updated. Its field mappings name the CSV columns exactly
and say how a reference is given: SUBSIDIARY and LEADSOURCE by internal ID, ENTITYSTATUS by name. It has no
company name, address, terms or price level column. ``charencoding`` UTF_8, ``columndelimiter`` COMMA.

A task is queued by ``submit`` (CsvImportTask.submit: "throws errors resulting from inline validation of CSV file
data before the import of data begins") and imported later, asynchronously, by ``run_queue``. Rows it rejects are
written only to the job's status record (NetSuite's CSV Import Job Status page and its response file): nothing
goes back to the SFTP server. The portal cannot read ``jobs()``; tests and operators of the sandbox can.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import records
from ..errors import NetSuiteError
from ..store import ENTITY_STATUSES, LEAD_SOURCES, SUBSIDIARIES, Store, to_stored
from .nmodules import SuiteFile, SuiteScriptError

MAPPING_ID = "custimport_customer_hc"
# (CSV column, NetSuite field, reference type), in the order of the saved import's <fieldmappings>.
FIELD_MAPPINGS: tuple[tuple[str, str, str], ...] = (
    ("defaultOrderPriority", "DEFAULTORDERPRIORITY", "NAME"),
    ("HCShopifyCustomerId", "custentity_hc_shop_cust_id", "NAME"),
    ("HCCustomerId", "custentity_hc_customer_id", "NAME"),
    ("status", "ENTITYSTATUS", "NAME"),
    ("externalId", "EXTERNALID", "NAME"),
    ("email", "EMAIL", "NAME"),
    ("phone", "PHONE", "NAME"),
    ("firstName", "FIRSTNAME", "NAME"),
    ("individual", "ISPERSON", "NAME"),
    ("lastName", "LASTNAME", "NAME"),
    ("accountSource", "LEADSOURCE", "INTERNAL_ID"),
    ("subsidiary", "SUBSIDIARY", "INTERNAL_ID"),
    ("taxable", "TAXABLE", "NAME"),
)
# "You can upload a maximum of 25,000 records per CSV import job", scripted imports included.
MAX_ROWS = 25_000
SUBMIT_FAILED = "FAILED_TO_SUBMIT_JOB_REQUEST_1"
PENDING, PROCESSING, COMPLETE, FAILED = "PENDING", "PROCESSING", "COMPLETE", "FAILED"
_CHECKBOX = {"T": True, "TRUE": True, "YES": True, "F": False, "FALSE": False, "NO": False}


@dataclass
class RowResult:
    """One row of a job's response file: its line, whether it was added, and NetSuite's message."""

    line: int
    added: bool
    message: str = ""
    internal_id: int | None = None


def _decode(data: bytes) -> str:
    # charencoding UTF_8. Assumed: a BOM is dropped and bytes that are not UTF-8 become U+FFFD, as a Java
    # decoder does by default; the portal writes UTF-8, so this matters only for hand-made files.
    return data.decode("utf-8-sig", errors="replace")


def _records(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    last = 0
    for record in reader:
        start, last = last + 1, reader.line_num
        if not header:
            header = [h.strip() for h in record]
            continue
        if any(v.strip() for v in record):  # blank lines are no records (assumed)
            rows.append((start, record))
    return header, rows


def submit(store: Store, *, mapping_id: str, file: SuiteFile, name: str, now: datetime) -> int:
    """``task.create({taskType: CSV_IMPORT}) ... submit()``: validate inline, queue the job, return its ID."""
    if mapping_id != MAPPING_ID:
        raise SuiteScriptError(SUBMIT_FAILED, f"Failed to submit job request: no import {mapping_id}")
    header, rows = _records(_decode(file.contents))
    # Assumed inline validation (what the Import Assistant checks between its mapping and save steps): every
    # mapped column is in the file, and the file is within the 25,000-record limit.
    missing = [column for column, _, _ in FIELD_MAPPINGS if column not in header]
    if missing:
        raise SuiteScriptError(
            SUBMIT_FAILED,
            f"Failed to submit job request: the CSV file has no column {', '.join(missing)} of the saved import map.",
        )
    if len(rows) > MAX_ROWS:
        raise SuiteScriptError(
            SUBMIT_FAILED,
            f"Failed to submit job request: the file has {len(rows):,} records, more than the {MAX_ROWS:,} a CSV "
            "import takes.",
        )
    with store.transaction() as db:
        cur = db.execute(
            "INSERT INTO csv_import_job (name, mapping, submitted_at, status, file, rows_total) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (name, mapping_id, to_stored(now), PENDING, file.contents, len(rows)),
        )
        return int(cur.lastrowid)


def check_status(store: Store, task_id: int, *, fail_at_once: bool = False) -> str:
    """``task.checkStatus(id).status``; ``fail_at_once`` is the sandbox's switch for a queue that fails at once."""
    if fail_at_once:
        store.execute(
            "UPDATE csv_import_job SET status = ?, message = ? WHERE id = ?", (FAILED, "Queue failure", task_id)
        )
        return FAILED
    rows = store.execute("SELECT status FROM csv_import_job WHERE id = ?", (task_id,))
    return rows[0]["status"] if rows else FAILED


def run_queue(store: Store) -> list[int]:
    """Import every pending job, oldest first, as NetSuite's queue does some time after the script ran."""
    done = []
    for job in store.execute("SELECT id, file FROM csv_import_job WHERE status = ? ORDER BY id", (PENDING,)):
        store.execute("UPDATE csv_import_job SET status = ? WHERE id = ?", (PROCESSING, job["id"]))
        results = import_rows(store, bytes(job["file"]))
        added = sum(r.added for r in results)
        store.execute(
            "UPDATE csv_import_job SET status = ?, rows_added = ?, rows_failed = ?, results = ? WHERE id = ?",
            (COMPLETE, added, len(results) - added, json.dumps([r.__dict__ for r in results]), job["id"]),
        )
        done.append(int(job["id"]))
    return done


def jobs(store: Store) -> list[dict[str, Any]]:
    """The CSV Import Job Status page: every job with its counts and each rejected row's message."""
    out = []
    for row in store.execute("SELECT * FROM csv_import_job ORDER BY id"):
        job = {k: row[k] for k in row.keys() if k != "file"}  # noqa: SIM118 (sqlite3.Row has no iteration of keys)
        job["results"] = json.loads(job["results"])
        out.append(job)
    return out


def import_rows(store: Store, data: bytes) -> list[RowResult]:
    """Add one customer per row with ADD data handling; return each row's result."""
    header, rows = _records(_decode(data))
    position = {name: n for n, name in enumerate(header)}
    results = []
    for line, record in rows:
        values = {
            column: (record[position[column]].strip() if position[column] < len(record) else "")
            for column, _, _ in FIELD_MAPPINGS
            if column in position
        }
        try:
            body = _body(values)
            internal_id = records.create(store, body, source="csv")
        except (NetSuiteError, ValueError) as exc:
            message = exc.detail if isinstance(exc, NetSuiteError) else str(exc)
            results.append(RowResult(line, False, message))
            continue
        results.append(RowResult(line, True, internal_id=internal_id))
    return results


def _reference(value: str, table: dict[int, str], field: str) -> dict[str, str]:
    # INTERNAL_ID references take the record's internal ID only; a name is "an invalid reference key".
    if not value.lstrip("-").isdigit() or int(value) not in table:
        raise ValueError(f"Invalid {field} reference key {value}.")
    return {"id": value}


def _body(v: dict[str, str]) -> dict[str, Any]:
    """Turn one row's mapped values into a customer body; an empty cell leaves its field unset."""
    body: dict[str, Any] = {}
    if v.get("individual"):
        flag = _CHECKBOX.get(v["individual"].upper())
        if flag is None:
            raise ValueError(f"Invalid isperson value {v['individual']}. Use T or F.")
        body["isPerson"] = flag
    for column, key in (("firstName", "firstName"), ("lastName", "lastName"), ("email", "email"), ("phone", "phone"),
                        ("HCShopifyCustomerId", "custentity_hc_shop_cust_id"),
                        ("HCCustomerId", "custentity_hc_customer_id")):  # fmt: skip
        if v.get(column):
            body[key] = v[column]
    if v.get("externalId"):
        body["externalId"] = v["externalId"]
    if v.get("subsidiary"):
        body["subsidiary"] = _reference(v["subsidiary"], SUBSIDIARIES, "subsidiary")
    if v.get("accountSource"):
        body["leadSource"] = _reference(v["accountSource"], LEAD_SOURCES, "leadsource")
    if v.get("status"):
        # A NAME reference matches the record's name; case is ignored (assumed).
        by_name = {name.casefold(): sid for sid, name in ENTITY_STATUSES.items()}
        status_id = by_name.get(v["status"].casefold())
        if status_id is None:
            raise ValueError(f"Invalid entitystatus reference key {v['status']}.")
        body["entityStatus"] = {"id": str(status_id)}
    if v.get("taxable"):
        flag = _CHECKBOX.get(v["taxable"].upper())
        if flag is None:
            raise ValueError(f"Invalid taxable value {v['taxable']}. Use TRUE or FALSE.")
        body["taxable"] = flag
    if v.get("defaultOrderPriority"):
        try:
            body["defaultOrderPriority"] = float(v["defaultOrderPriority"])
        except ValueError:
            raise ValueError(f"Invalid defaultorderpriority value {v['defaultOrderPriority']}.") from None
    return body
