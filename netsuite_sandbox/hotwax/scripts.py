"""HotWax's customer SuiteScripts, behaving as their source does (hotwax/netsuite-integration, read, not copied).

Each function follows one script, step by step; comments cite the script and line each behaviour comes from
(``ImportCustomer.js:85`` is src/FileCabinet/SuiteScripts/Customer/HC_SC_ImportCustomer.js, line 85).

Folders, under the SFTP configuration's default directory (``custrecord_ns_sftp_default_file_dir``, by convention
``/home/{sftp-username}/netsuite/``; here a path relative to the SFTP home, ``netsuite/``):

- ``customer/export/``: HC_SC_ImportCustomer takes every entry that is not a folder, oldest first, whatever its
  name; submits each non-empty file to CSV import ``custimport_customer_hc`` and, unless the task failed at once,
  moves it to ``export/archive/`` before NetSuite has imported a row (an empty file is archived as it is). When a
  download, a submit or a move throws it uploads ``export/error/<Date>-ErrorAddCustomer.csv`` (``fileName,
  errorMessage``, unquoted) and moves the file to ``export/failed/``. Rows the import rejects are reported only
  on the CSV import job (``csvimport.jobs``), never on the server.
- ``customer/import/``: HC_MR_ExportedCustomerCSV writes ``<Date>-CustomerExport.csv`` with
  ``partyId,partyIdentificationTypeId,idValue`` for active customers created since its last run (minute
  precision) that have an external ID and a Shopify customer ID.
- ``historicalshopifycustomer/csv/``: HC_SC_UploadHistoricalCustomerCSV uploads the files that
  HC_SC_GenerateHistoricalCustomerCSV wrote into the File Cabinet from saved search
  ``customsearch_hc_exp_historical_customer``.

``<Date>`` is JavaScript's ``Date.toString()`` (see jsdate.py). No script creates a folder on the server: a move or
an upload into a missing one throws.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..store import Store, to_stored
from . import cabinet, csvimport
from .files import FileRoot, as_file_root
from .jsdate import DEFAULT_TIME_ZONE, date_to_string
from .nmodules import MAX_FILE_SIZE, Governance, ScriptLog, SftpConnection, Sort, SuiteFile, SuiteScriptError

DEFAULT_DIRECTORY = "netsuite/"
# Paths of the three feeds relative to the SFTP home, with the default directory above.
EXPORT_DIR = "netsuite/customer/export"
IMPORT_DIR = "netsuite/customer/import"
HISTORICAL_DIR = "netsuite/historicalshopifycustomer/csv"
# HC_SC_ImportCustomer.js:8: stop taking files when fewer units than this are left.
USAGE_THRESHOLD = 500
# customrecord_hc_last_runtime_export.custrecord_customer_ex_date: when HC_MR_ExportedCustomerCSV last wrote a file.
LAST_RUNTIME = "customrecord_hc_last_runtime_export.custrecord_customer_ex_date"
CREATED_IDS_HEADER = "partyId,partyIdentificationTypeId,idValue\n"
HISTORICAL_HEADER = ("first-name", "last-name", "external-id", "party-identifications")


@dataclass
class ScriptContext:
    """What a script run sees: the account's data, the SFTP home, the clock and its governance."""

    store: Store
    root: FileRoot
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    time_zone: str = DEFAULT_TIME_ZONE
    default_directory: str = DEFAULT_DIRECTORY
    governance: Governance = field(default_factory=Governance)
    # The sandbox's switch for a CSV import queue that reports FAILED straight after submit.
    csv_import_fails_at_once: bool = False


@dataclass
class ScriptRun:
    """What one run did: files archived, failed or left, error files written, tasks queued, and its log."""

    name: str
    archived: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    error_files: list[str] = field(default_factory=list)
    tasks: list[int] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    rows: int = 0
    error: SuiteScriptError | None = None
    log: ScriptLog = field(default_factory=ScriptLog)


def _message(exc: BaseException) -> str:
    """``e.message``: a SuiteScript error's message, or a JavaScript error's."""
    return exc.message if isinstance(exc, SuiteScriptError) else str(exc)


def _connection(ctx: ScriptContext, feed: str) -> SftpConnection:
    # ImportCustomer.js:18-71: the SFTP configuration record's default directory + 'customer' (a plain string
    # concatenation: a default directory without its trailing '/' gives 'netsuitecustomer').
    ctx.governance.use("search")
    return SftpConnection(ctx.root, ctx.default_directory + feed, ctx.governance)


def import_customer(ctx: ScriptContext) -> ScriptRun:
    """HC_SC_ImportCustomer: submit every file of customer/export/ to the CSV import, then archive it."""
    run = ScriptRun("HC_SC_ImportCustomer")
    try:
        connection = _connection(ctx, "customer")
        entries = connection.list(path="/export/", sort=Sort.DATE)  # ImportCustomer.js:74-77
        for entry in entries:
            if ctx.governance.remaining < USAGE_THRESHOLD:  # ImportCustomer.js:80-83
                run.log.debug("Scheduled script has exceeded the usage unit threshold.")
                run.left += [e["name"] for e in entries[entries.index(entry) :] if not e["directory"]]
                return run
            if entry["directory"]:  # ImportCustomer.js:85: every other entry is taken, whatever its name
                continue
            _import_one(ctx, run, connection, entry["name"])
    except Exception as exc:  # ImportCustomer.js:156-164: the run ends in error; later files wait for the next
        run.log.error("Error in importing customer csv files", _message(exc))
        run.error = SuiteScriptError("Error in importing customer csv files", _message(exc))
    return run


def _import_one(ctx: ScriptContext, run: ScriptRun, connection: SftpConnection, name: str) -> None:
    try:
        downloaded = connection.download(directory="/export", filename=name)  # ImportCustomer.js:92-95
        if downloaded.size > 0:  # ImportCustomer.js:98
            ctx.governance.use("submit")
            task_id = csvimport.submit(  # ImportCustomer.js:100-104
                ctx.store,
                mapping_id=csvimport.MAPPING_ID,
                file=downloaded,
                name="Add Customer" + "-" + name,
                now=ctx.clock(),
            )
            run.tasks.append(task_id)
            ctx.governance.use("checkStatus")
            status = csvimport.check_status(ctx.store, task_id, fail_at_once=ctx.csv_import_fails_at_once)
            if status == csvimport.FAILED:  # ImportCustomer.js:107-108: left in place, submitted again next run
                run.log.debug("Import Customer CSV task has been failed")
                run.left.append(name)
                return
        # ImportCustomer.js:110-113 and 116-121: archived now, before the queued import has read a row.
        connection.move(from_="/export/" + name, to="/export/archive/" + name)
        run.archived.append(f"{EXPORT_DIR}/archive/{name}")
    except Exception as exc:  # ImportCustomer.js:123-153
        run.log.error("Error in processing customer csv files", _message(exc))
        # ImportCustomer.js:128-132: one line per failed file, neither quoted nor escaped.
        lines = "fileName,errorMessage\n" + name + "," + _message(exc) + "\n"
        error_name = date_to_string(ctx.clock(), ctx.time_zone) + "-ErrorAddCustomer.csv"  # :134-135
        # ImportCustomer.js:142-151: an upload or a move that throws here ends the whole run (outer catch).
        connection.upload(directory="/export/error/", file=SuiteFile(error_name, lines.encode()))
        run.error_files.append(f"{EXPORT_DIR}/error/{error_name}")
        connection.move(from_="/export/" + name, to="/export/failed/" + name)
        run.failed.append(f"{EXPORT_DIR}/failed/{name}")


def _minute(moment: datetime) -> str:
    # ExportedCustomerCSV.js:8-19 and 37-45: both ends of the window lose their seconds.
    return to_stored(moment)[:16]


def exported_customer_csv(ctx: ScriptContext) -> ScriptRun:
    """HC_MR_ExportedCustomerCSV: write the NetSuite IDs of customers created since the last run into import/."""
    run = ScriptRun("HC_MR_ExportedCustomerCSV")
    started = ctx.clock()  # summaryContext.dateCreated: when the map/reduce was started
    try:
        last = ctx.store.get_state(LAST_RUNTIME)  # ExportedCustomerCSV.js:22-35
        if not last:
            raise TypeError("Cannot read properties of undefined (reading 'getValue')")
        # Saved search customsearch_hc_export_customer (src/Objects/Customer, its definition decoded): isinactive
        # F, externalid not empty, custentity_hc_shop_cust_id not empty; the script adds datecreated WITHIN the
        # last run and now, both to the minute (ExportedCustomerCSV.js:48-60). Read as SPEC section 2 does: the
        # script's `values: lastExportDateString, dateStringWithoutSeconds` passes the two ends as written.
        rows = ctx.store.execute(
            "SELECT id, coalesce(custentity_hc_customer_id, '') AS party FROM customer "
            "WHERE isinactive = 'F' AND coalesce(externalid, '') != '' AND coalesce(custentity_hc_shop_cust_id, '') "
            "!= '' AND substr(datecreated, 1, 16) BETWEEN ? AND ?",
            (last[:16], _minute(started)),
        )
        # map (:65-80) keys each result by internal ID; reduce (:82-88) makes one line; summarize (:90-99) joins
        # them in key order (string keys: assumed sorted as text) with neither quoting nor escaping.
        lines = [f"{r['party']},NETSUITE_CUSTOMER_ID,{r['id']}\n" for r in sorted(rows, key=lambda r: str(r["id"]))]
        run.rows = len(lines)
        if lines:  # ExportedCustomerCSV.js:101: no file when nothing was created
            created = SuiteFile(date_to_string(started, ctx.time_zone) + "-CustomerExport.csv",
                                (CREATED_IDS_HEADER + "".join(lines)).encode())  # fmt: skip
            connection = _connection(ctx, "customer")
            if created.size > MAX_FILE_SIZE:  # ExportedCustomerCSV.js:167-172
                raise SuiteScriptError("FILE_IS_TOO_BIG", "The file you are trying to upload is too big")
            connection.upload(directory="/import/", file=created)  # ExportedCustomerCSV.js:173-176
            run.written.append(f"{IMPORT_DIR}/{created.name}")
            ctx.store.set_state(LAST_RUNTIME, _minute(started))  # ExportedCustomerCSV.js:178-202
    except Exception as exc:  # ExportedCustomerCSV.js:204-213: the last runtime stays: the next run repeats
        run.log.error("Error in exporting and uploading customer csv files", _message(exc))
        run.error = SuiteScriptError("Error in exporting and uploading customer csv files", _message(exc))
    return run


def _search_task_csv(rows: list[tuple[str, ...]]) -> bytes:
    # Undocumented: how a SEARCH task writes its CSV. Assumed: the column labels as header, every value in double
    # quotes, CRLF line ends, UTF-8 without BOM. The portal reads any RFC 4180 shape, so this is one of many.
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(HISTORICAL_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def historical_search(store: Store) -> list[tuple[str, ...]]:
    """Saved search customsearch_hc_exp_historical_customer, as first published (git 98f4f62, later removed).

    Filters: isinactive F, Celigo's e-tail channel and Shopify store set (here: a Celigo Shopify ID is held).
    Columns: first-name, last-name, external-id (Celigo's Shopify customer ID) and party-identifications, the
    formula 'SHOPIFY_CUST_ID:' || {shopify id} || '|' || 'NETSUITE_CUSTOMER_ID:' || {internalid}, where a NULL
    concatenates as nothing (Oracle), so a missing ID leaves the colon empty. Sorted by entity ID.
    """
    rows = store.execute(
        "SELECT id, firstname, lastname, celigo_shopify_id FROM customer "
        "WHERE isinactive = 'F' AND celigo_shopify_id IS NOT NULL ORDER BY entityid"
    )
    return [
        (
            r["firstname"] or "",
            r["lastname"] or "",
            r["celigo_shopify_id"] or "",
            f"SHOPIFY_CUST_ID:{r['celigo_shopify_id'] or ''}|NETSUITE_CUSTOMER_ID:{r['id']}",
        )
        for r in rows
    ]


def generate_historical_customer_csv(ctx: ScriptContext) -> ScriptRun:
    """HC_SC_GenerateHistoricalCustomerCSV: run the historical saved search into a File Cabinet CSV."""
    run = ScriptRun("HC_SC_GenerateHistoricalCustomerCSV")
    try:
        now = ctx.clock()  # GenerateHistoricalCustomerCSV.js:8
        rows = historical_search(ctx.store)
        if not rows:  # GenerateHistoricalCustomerCSV.js:17-20
            run.log.debug("No results found. Skipping CSV file creation.")
            return run
        if not cabinet.folder_exists(ctx.store, cabinet.HISTORICAL_FOLDER):  # :29-47 (File Cabinet folders are made)
            cabinet.folder_create(ctx.store, cabinet.HISTORICAL_FOLDER, now)
        name = date_to_string(now, ctx.time_zone) + "-HistoricalShopifyCustomerExport.csv"  # :49-51
        cabinet.write(ctx.store, cabinet.HISTORICAL_FOLDER, SuiteFile(name, _search_task_csv(rows)), now)  # :53
        run.written.append(f"{cabinet.HISTORICAL_FOLDER}/{name}")
        run.rows = len(rows)
    except Exception as exc:  # GenerateHistoricalCustomerCSV.js:59-67
        run.error = SuiteScriptError("Error in generating historical shopify customer csv files", _message(exc))
    return run


def upload_historical_customer_csv(ctx: ScriptContext) -> ScriptRun:
    """HC_SC_UploadHistoricalCustomerCSV: upload up to 20 File Cabinet CSVs to historicalshopifycustomer/csv/."""
    run = ScriptRun("HC_SC_UploadHistoricalCustomerCSV")
    try:
        if not cabinet.folder_exists(ctx.store, cabinet.HISTORICAL_FOLDER):  # UploadHistorical...js:9-23
            raise SuiteScriptError("Error", "Folder not found.")
        files = cabinet.csv_files(ctx.store, cabinet.HISTORICAL_FOLDER, limit=20)  # :27-38
        if not files:
            return run
        if not cabinet.folder_exists(ctx.store, cabinet.ARCHIVE_FOLDER):  # :45-64
            cabinet.folder_create(ctx.store, cabinet.ARCHIVE_FOLDER, ctx.clock())
        connection = _connection(ctx, "historicalshopifycustomer")  # :71-124
        for found in files:  # :128-156: a file that fails stays in the File Cabinet and is tried next run
            try:
                if found.file.size > MAX_FILE_SIZE:  # :134-139
                    raise SuiteScriptError("FILE_IS_TOO_BIG", "The file you are trying to upload is too big")
                connection.upload(directory="/csv/", file=found.file)  # :141-144: in place, under its own name
                run.written.append(f"{HISTORICAL_DIR}/{found.file.name}")
                cabinet.move(ctx.store, found.id, cabinet.ARCHIVE_FOLDER)  # :148-149
            except Exception as exc:
                run.log.error("Error in uploading historical shopify customer csv files", _message(exc))
                run.left.append(found.file.name)
    except Exception as exc:  # :158-166
        run.error = SuiteScriptError("Error in processing historical shopify customer csv files", _message(exc))
    return run


def install(store: Store, *, now: datetime | None = None) -> None:
    """Deploy the SDF objects the scripts need: the last-runtime record (set to now), as an installation does."""
    if not store.get_state(LAST_RUNTIME):
        store.set_state(LAST_RUNTIME, _minute(now or datetime.now(UTC)))


SCRIPTS: dict[str, Callable[[ScriptContext], ScriptRun]] = {
    "HC_SC_ImportCustomer": import_customer,
    "HC_MR_ExportedCustomerCSV": exported_customer_csv,
    "HC_SC_GenerateHistoricalCustomerCSV": generate_historical_customer_csv,
    "HC_SC_UploadHistoricalCustomerCSV": upload_historical_customer_csv,
}
# What NetSuite runs on its schedule (customscript_*.xml: every 15 minutes), with the CSV import queue between.
SCHEDULED = (
    "HC_SC_UploadHistoricalCustomerCSV",
    "HC_SC_ImportCustomer",
    "csv import queue",
    "HC_MR_ExportedCustomerCSV",
)


def run_script(name: str, store: Store, root: str | Path | FileRoot, **context: Any) -> ScriptRun:
    """Run one SuiteScript by its NetSuite name, over a folder path or a FileRoot standing for the SFTP home."""
    if name not in SCRIPTS:
        raise ValueError(f"Unknown script {name}. Known: {', '.join(SCRIPTS)}.")
    return SCRIPTS[name](ScriptContext(store=store, root=as_file_root(root), **context))


def run_scheduled(store: Store, root: str | Path | FileRoot, **context: Any) -> list[ScriptRun]:
    """Run what NetSuite schedules, in order; a script that fails is logged in its run and never raises."""
    runs = []
    for name in SCHEDULED:
        if name == "csv import queue":
            csvimport.run_queue(store)
            continue
        runs.append(run_script(name, store, root, **context))
    return runs
