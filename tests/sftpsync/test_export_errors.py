"""NetSuite's error files (export/error/*.csv, one unquoted line per failed export file) lead back to the file's
customers, once, through the ledger."""

from __future__ import annotations

import pytest
from django.utils import timezone

from customers.models import CustomerSync, SyncFailure, SyncLog
from sftpsync.models import FeedFile
from sftpsync.services import run_export, run_inbound
from sftpsync.services.export_errors import ERROR_CODE, UNKNOWN_CODE
from sftpsync.services.runs import PARTY_IDENT_JOB

from .fixtures_jobs import FIXTURES, Feeds, file_system_fixture, local_feeds_fixture, make_feeds_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
# As HC_SC_ImportCustomer.js:128-135 writes it: '<Date.toString()>-ErrorAddCustomer.csv', the message unquoted.
ERROR_NAME = "Mon Nov 30 2026 10:15:01 GMT-0800 (Pacific Standard Time)-ErrorAddCustomer.csv"


def _ids_job() -> str:
    return str(run_inbound(job=PARTY_IDENT_JOB, kind="IMP_PARTY_IDENT", trigger="on_demand"))


def _ready(feeds: Feeds) -> None:
    feeds.system.historical_import_completed_at = timezone.now()
    feeds.system.save()


def _put_error_file(feeds: Feeds, name: str, data: bytes) -> None:
    with feeds.transport() as t, t.open_write_atomic(f"{feeds.export.folder}/error", name) as out:
        out.write(data)


def _exported(feeds: Feeds, make_customer, *ids: str) -> tuple[list, FeedFile]:
    _ready(feeds)
    customers = [make_customer(customer_id=cid) for cid in ids]
    run_export(trigger="on_demand")
    return customers, FeedFile.objects.get(direction="out")


def _state() -> tuple:
    syncs = sorted(CustomerSync.objects.values_list("customer_id", "status", "last_error_message"))
    logs = sorted(SyncLog.objects.filter(outcome="failed").values_list("record_id", "error_code"), key=str)
    failures = sorted(SyncFailure.objects.values_list("record_id", "error_code", "occurrences", "resolved_at"), key=str)
    return syncs, logs, failures


def test_a_file_level_error_with_commas_marks_every_customer_of_the_file_once(
    local_feeds: Feeds, make_customer
) -> None:
    customers, export = _exported(local_feeds, make_customer, "CW1", "CW2")
    message = "Failed to submit job request: the file has 25,001 records, more than the 25,000 a CSV import takes."
    _put_error_file(local_feeds, ERROR_NAME, f"fileName,errorMessage\n{export.file_name},{message}\n".encode())
    _ids_job()
    for customer in customers:
        sync = customer.syncs.get()
        assert (sync.status, sync.last_error_code) == ("error", ERROR_CODE)
        assert message in sync.last_error_message and export.file_name in sync.last_error_message
        log = SyncLog.objects.get(customer=customer, error_code=ERROR_CODE)
        assert (log.file_name, log.operation) == (export.file_name, "netsuite csv import")
    export.refresh_from_db()
    assert export.status == "failed" and message in export.reason
    errors = FeedFile.objects.get(file_name=ERROR_NAME)
    assert (errors.status, errors.rows_ok, errors.rows_failed) == ("done", 1, 0)
    assert errors.remote_path == f"{local_feeds.export.folder}/error/archive/{ERROR_NAME}"

    # The same error file again is a duplicate: archived, nothing marked twice.
    before = _state()
    _put_error_file(local_feeds, "again-" + ERROR_NAME, local_feeds.read(errors.remote_path))
    _ids_job()
    assert _state() == before
    assert FeedFile.objects.get(file_name="again-" + ERROR_NAME).status == "duplicate"


def test_customers_with_their_id_meanwhile_are_left_alone_and_unknown_files_reported(
    local_feeds: Feeds, make_customer
) -> None:
    (synced, waiting), export = _exported(local_feeds, make_customer, "CSYNCED", "CWAIT")
    CustomerSync.objects.filter(customer=synced).update(status=CustomerSync.Status.SYNCED, external_id="991")
    _put_error_file(
        local_feeds,
        ERROR_NAME,
        f"fileName,errorMessage\n{export.file_name},FTP_NO_SUCH_FILE_OR_DIRECTORY\n"
        "HCCustomerExport-19990101-000000-00000001.csv,The file or directory does not exist.\n"
        "no comma on this line\n".encode(),
    )
    _ids_job()
    assert synced.syncs.get().status == CustomerSync.Status.SYNCED
    assert not SyncLog.objects.filter(customer=synced, outcome="failed").exists()
    assert waiting.syncs.get().status == CustomerSync.Status.ERROR
    unknown = SyncLog.objects.filter(record_type="file_row").order_by("line_number")
    assert [(u.file_name, u.line_number, u.error_code) for u in unknown] == [
        (ERROR_NAME, 3, UNKNOWN_CODE),
        (ERROR_NAME, 4, "ROW_INVALID"),
    ]
    assert "never wrote a file of that name" in unknown[0].message
    entry = FeedFile.objects.get(file_name=ERROR_NAME)
    assert (entry.status, entry.rows_ok, entry.rows_failed) == ("partly_failed", 1, 2)


def test_an_unreadable_error_file_goes_to_failed_with_its_reason(local_feeds: Feeds) -> None:
    _ready(local_feeds)
    _put_error_file(local_feeds, "garbled-error.csv", b"name,reason\nsomething,else\n")
    _put_error_file(local_feeds, "empty-error.csv", b"")
    _put_error_file(local_feeds, "zipped-error.csv", (FIXTURES / "historical-gzip.csv").read_bytes())
    text = _ids_job()
    assert "NetSuite import errors" in text
    for name in ("garbled-error.csv", "empty-error.csv", "zipped-error.csv"):
        entry = FeedFile.objects.get(file_name=name)
        assert entry.status == "failed" and entry.reason
        assert "/error/failed/" in entry.remote_path
    assert "fileName,errorMessage" in FeedFile.objects.get(file_name="garbled-error.csv").reason
    assert "gzip" in FeedFile.objects.get(file_name="zipped-error.csv").reason
    rejected = SyncLog.objects.filter(record_type="file", error_code="FILE_REJECTED", file_name="garbled-error.csv")
    assert rejected.exists()
