"""NetSuite's import errors (export/error/*.csv) lead back to the rejected customers, once, through the ledger."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.utils import timezone

from customers.errors import ErrorCode
from customers.models import CustomerSync, SyncFailure, SyncLog
from netsuite_sandbox import scripts
from netsuite_sandbox.store import Store
from sftpsync.models import ExportedCustomer, FeedFile
from sftpsync.services import run_export, run_inbound
from sftpsync.services.export_errors import UNKNOWN_CODE
from sftpsync.services.runs import PARTY_IDENT_JOB

from .fixtures_jobs import Feeds, file_system_fixture, local_feeds_fixture, make_feeds_fixture  # noqa: F401

BAD_SUBSIDIARY = "EU Wholesale"
ERROR_CODE = ErrorCode.NETSUITE_IMPORT_ERROR
ERROR_CODE = ErrorCode.NETSUITE_IMPORT_ERROR


def _ids_job() -> str:
    return str(run_inbound(job=PARTY_IDENT_JOB, kind="IMP_PARTY_IDENT", trigger="on_demand"))


def _state() -> tuple:
    syncs = sorted(CustomerSync.objects.values_list("customer_id", "status", "external_id", "last_error_message"))
    logs = sorted(
        SyncFailure.objects.values_list(
            "record_id", "error_code", "file_name", "line_number", "message", "resolved_at"
        ),
        key=str,
    )
    ledger = sorted(FeedFile.objects.exclude(status="duplicate").values_list("file_name", "status", "rows_ok"))
    return syncs, logs, ledger


def _home(feeds: Feeds) -> Path:
    return Path(feeds.connection.local_root) / "home" / feeds.connection.username


def _ready(feeds: Feeds) -> None:
    feeds.system.historical_import_completed_at = timezone.now()
    feeds.system.save()


def _put_error_file(feeds: Feeds, name: str, data: bytes) -> None:
    with feeds.transport() as t, t.open_write_atomic(f"{feeds.export.folder}/error", name) as out:
        out.write(data)


def _error_csv(rows: list[tuple[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["fileName", "errorMessage"])
    writer.writerows(rows)
    return out.getvalue().encode()


def rejected_rows_loop(feeds: Feeds, home: Path, make_customer) -> None:
    """Export four customers, two with a subsidiary NetSuite lacks; after the IDs job they end in error."""
    _ready(feeds)
    store = Store()
    with feeds.transport() as t:  # as the SFTP user, the way NetSuite's account makes them; the sandbox runs as root
        t.makedirs(f"{feeds.export.folder}/error/archive")
        t.makedirs(f"{feeds.export.folder}/error/failed")
    scripts.make_folders(home)
    good = [make_customer(customer_id="CGOOD1"), make_customer(customer_id="CGOOD2")]
    bad = [
        make_customer(customer_id="CBAD1", subsidiary=BAD_SUBSIDIARY),
        make_customer(customer_id="CBAD2", subsidiary=BAD_SUBSIDIARY),
    ]

    run_export(trigger="on_demand")
    export = FeedFile.objects.get(direction="out")
    written = feeds.read(f"{feeds.export.folder}/{export.file_name}").decode().splitlines()
    for customer_pk, line in ExportedCustomer.objects.filter(feed_file=export).values_list("customer_id", "line"):
        cid = type(good[0]).objects.get(pk=customer_pk).customer_id
        assert written[line - 1].startswith(f"{cid},{cid},"), (line, written)

    result = scripts.import_customer(store, home)
    assert result.error_files and len(result.row_errors) == 2
    scripts.exported_customer_csv(store, home)
    first = None
    for _ in range(3):  # the job again, and NetSuite's side again: nothing changes after the first pass
        _ids_job()
        state = _state()
        assert first is None or state == first
        first = state
        scripts.import_customer(store, home)
        scripts.exported_customer_csv(store, home)

    for customer in good:
        sync = customer.syncs.get()
        assert sync.status == CustomerSync.Status.SYNCED and sync.external_id
    for customer in bad:
        sync = customer.syncs.get()
        line = ExportedCustomer.objects.get(customer=customer).line
        assert sync.status == CustomerSync.Status.ERROR and sync.last_error_code == ERROR_CODE
        assert f"subsidiary '{BAD_SUBSIDIARY}' does not exist" in sync.last_error_message
        assert f"line {line} of {export.file_name}" in sync.last_error_message
        log = SyncFailure.objects.get(customer=customer, resolved_at__isnull=True)
        assert (log.record_type, log.error_code, log.file_name, log.line_number, log.operation) == (
            "customer",
            ERROR_CODE,
            export.file_name,
            line,
            "netsuite csv import",
        )
        assert log.external_system_id == feeds.system.pk
    errors = FeedFile.objects.get(feed=feeds.export, direction="in")
    assert (errors.status, errors.rows_ok, errors.rows_failed) == ("done", 2, 0)
    assert errors.moved_at and errors.remote_path.startswith(f"{feeds.export.folder}/error/archive/")
    assert feeds.names(feeds.export, "error") == []
    assert len(feeds.names(feeds.export, "error/archive")) == 1

    # The same error file dropped again is a duplicate: archived, nothing marked twice.
    archived = feeds.read(errors.remote_path)
    _put_error_file(feeds, "again-error.csv", archived)
    before = _state()
    _ids_job()
    assert _state() == before
    assert FeedFile.objects.get(file_name="again-error.csv").status == "duplicate"
    assert feeds.names(feeds.export, "error") == []


@pytest.mark.django_db
def test_rejected_rows_end_in_error_over_a_local_folder(local_feeds: Feeds, make_customer) -> None:
    rejected_rows_loop(local_feeds, _home(local_feeds), make_customer)


@pytest.mark.django_db
def test_rejected_rows_end_in_error_over_sftp(make_feeds, sftp_connection, sftp_server, make_customer) -> None:
    rejected_rows_loop(make_feeds(sftp_connection), sftp_server.home, make_customer)


@pytest.mark.django_db
def test_a_whole_file_failure_marks_every_customer_of_the_file(local_feeds: Feeds, make_customer) -> None:
    _ready(local_feeds)
    customers = [make_customer(customer_id=f"CW{n}") for n in range(3)]
    run_export(trigger="on_demand")
    export = FeedFile.objects.get(direction="out")
    _put_error_file(
        local_feeds, "whole-error.csv", _error_csv([(export.file_name, "The file is not UTF-8 text (bad byte).")])
    )
    _ids_job()
    for customer in customers:
        sync = customer.syncs.get()
        assert sync.status == CustomerSync.Status.ERROR and "the whole file" in sync.last_error_message
        log = SyncFailure.objects.get(customer=customer, error_code=ERROR_CODE)
        assert (log.file_name, log.line_number) == (export.file_name, None)
    assert FeedFile.objects.get(file_name="whole-error.csv").status == "done"


@pytest.mark.django_db
def test_unknown_files_and_lines_are_file_row_failures_and_synced_customers_are_left_alone(
    local_feeds: Feeds, make_customer
) -> None:
    _ready(local_feeds)
    synced, waiting = make_customer(customer_id="CSYNCED"), make_customer(customer_id="CWAIT")
    run_export(trigger="on_demand")
    export = FeedFile.objects.get(direction="out")
    lines = dict(ExportedCustomer.objects.values_list("customer_id", "line"))
    CustomerSync.objects.filter(customer=synced).update(status=CustomerSync.Status.SYNCED, external_id="991")
    _put_error_file(
        local_feeds,
        "mixed-error.csv",
        _error_csv(
            [
                (export.file_name, f"Line {lines[synced.pk]}: subsidiary 'X' does not exist."),
                (export.file_name, f"Line {lines[waiting.pk]}: email is invalid."),
                (export.file_name, "Line 99: subsidiary 'X' does not exist."),
                ("HCCustomerExport-19990101-000000-1.csv", "Line 2: subsidiary 'X' does not exist."),
            ]
        ),
    )
    _ids_job()
    assert synced.syncs.get().status == CustomerSync.Status.SYNCED
    assert not SyncFailure.objects.filter(customer=synced).exists()
    assert waiting.syncs.get().status == CustomerSync.Status.ERROR
    unknown = SyncLog.objects.filter(record_type="file_row", error_code=UNKNOWN_CODE).order_by("line_number")
    assert [(u.file_name, u.line_number) for u in unknown] == [("mixed-error.csv", 4), ("mixed-error.csv", 5)]
    assert "no customer on that line" in unknown[0].message
    assert "never wrote a file of that name" in unknown[1].message
    entry = FeedFile.objects.get(file_name="mixed-error.csv")
    assert (entry.status, entry.rows_ok, entry.rows_failed) == ("partly_failed", 2, 2)
    assert "/error/archive/" in entry.remote_path


@pytest.mark.django_db
def test_an_unreadable_error_file_goes_to_failed_with_its_reason(local_feeds: Feeds, make_customer) -> None:
    _ready(local_feeds)
    _put_error_file(local_feeds, "garbled-error.csv", b"name,reason\nsomething,else\n")
    _put_error_file(local_feeds, "empty-error.csv", b"")
    text = _ids_job()
    assert "NetSuite import errors" in text
    for name in ("garbled-error.csv", "empty-error.csv"):
        entry = FeedFile.objects.get(file_name=name)
        assert entry.status == "failed" and entry.reason
        assert "/error/failed/" in entry.remote_path
    assert "fileName" in FeedFile.objects.get(file_name="garbled-error.csv").reason
    assert sorted(local_feeds.names(local_feeds.export, "error/failed")) == ["empty-error.csv", "garbled-error.csv"]
    rejected = SyncLog.objects.filter(record_type="file", error_code="FILE_REJECTED", file_name="garbled-error.csv")
    assert rejected.exists()


@pytest.mark.django_db
def test_a_name_with_a_line_break_does_not_shift_the_lines_netsuite_names(local_feeds: Feeds, make_customer) -> None:
    _ready(local_feeds)
    home = _home(local_feeds)
    scripts.make_folders(home)
    first = make_customer(customer_id="CMULTI", first_name="Ada\r\nMarie")
    after = make_customer(customer_id="CAFTER", subsidiary=BAD_SUBSIDIARY)
    run_export(trigger="on_demand")
    scripts.import_customer(Store(), home)
    _ids_job()
    assert after.syncs.get().status == CustomerSync.Status.ERROR
    assert first.syncs.get().status == CustomerSync.Status.EXPORTED
    assert SyncFailure.objects.get(error_code=ERROR_CODE).line_number == 3
