"""The three file jobs through the ledger, against a local folder standing in for the SFTP server."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from customers.dispatch import customers_sync_now
from customers.models import (
    NETSUITE_CUSTOMER_ID,
    SHOPIFY_CUST_ID,
    Customer,
    CustomerSync,
    PartyIdentification,
    SyncFailure,
    SyncLog,
)
from customers.services import (
    attempt_record,
    customer_attempt,
    customer_refresh_validation,
    customer_validate_for_export,
    problems_as_text,
)
from jobs.models import JobRun
from jobs.registry import JOBS
from sftpsync import tasks
from sftpsync.formats import EXPORT_HEADER
from sftpsync.models import ExportedCustomer, FeedFile
from sftpsync.services import run_export, run_inbound
from sftpsync.services.runs import EXPORT_JOB, HISTORICAL_JOB, PARTY_IDENT_JOB

from .fixtures_jobs import FIXTURES, Feeds, file_system_fixture, local_feeds_fixture, make_feeds_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def historical(feeds: Feeds) -> str:
    return str(run_inbound(job=HISTORICAL_JOB, kind="IMP_HIS_SHOP_CUST", trigger="on_demand"))


def party_ident(feeds: Feeds) -> str:
    return str(run_inbound(job=PARTY_IDENT_JOB, kind="IMP_PARTY_IDENT", trigger="on_demand"))


def idents(customer: Customer) -> dict[str, str]:
    return dict(customer.identifications.values_list("type", "value"))


def row_failures(file_name: str) -> list[tuple[int, str]]:
    return list(
        SyncLog.objects.filter(record_type="file_row", file_name=file_name, outcome="failed")
        .order_by("line_number")
        .values_list("line_number", "message")
    )


def export_rows(feeds: Feeds, entry: FeedFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(feeds.read(entry.remote_path).decode())))


# --- historical import -----------------------------------------------------------------------------


def test_historical_bom_crlf_creates_customers_with_both_ids_and_archives(local_feeds: Feeds) -> None:
    local_feeds.put(local_feeds.historical, "historical-bom-crlf.csv", fixture="historical-bom-crlf.csv")
    historical(local_feeds)
    ada = Customer.objects.get(first_name="Ada")
    assert idents(ada) == {NETSUITE_CUSTOMER_ID: "101", SHOPIFY_CUST_ID: "6543210001"}
    sync = ada.syncs.get()
    assert (sync.status, sync.external_id) == (CustomerSync.Status.SYNCED, "101")
    entry = FeedFile.objects.get()
    assert (entry.status, entry.rows_total, entry.rows_ok, entry.rows_failed) == ("done", 2, 2, 0)
    assert len(entry.sha256) == 64 and entry.size == (FIXTURES / "historical-bom-crlf.csv").stat().st_size
    assert entry.moved_at and entry.remote_path.endswith("/archive/historical-bom-crlf.csv")
    assert local_feeds.names(local_feeds.historical) == []
    assert local_feeds.names(local_feeds.historical, "archive") == ["historical-bom-crlf.csv"]
    local_feeds.system.refresh_from_db()
    assert local_feeds.system.historical_import_completed_at is not None


def test_historical_file_with_bare_cr_line_endings_goes_in(local_feeds: Feeds) -> None:
    local_feeds.put(local_feeds.historical, "old-mac.csv", fixture="historical-bare-cr.csv")
    historical(local_feeds)
    entry = FeedFile.objects.get()
    assert (entry.status, entry.rows_total, entry.rows_ok, entry.rows_failed) == ("done", 3, 3, 0)
    assert set(PartyIdentification.objects.filter(type=NETSUITE_CUSTOMER_ID).values_list("value", flat=True)) == {
        "201",
        "202",
        "203",
    }
    run = JobRun.objects.get(job=HISTORICAL_JOB)
    # The progress total counts physical lines after the header, CR-terminated ones too (an estimate).
    assert (run.rows_done, run.rows_total) == (3, 5)
    assert local_feeds.names(local_feeds.historical, "archive") == ["old-mac.csv"]


def test_stored_validity_of_historical_customers_matches_the_validator(local_feeds: Feeds, make_customer) -> None:
    # Existing customers the file touches: one gains its first name and a connector, one only a connector.
    unnamed = make_customer(customer_id="C777", first_name="", connector=False)
    no_connector = make_customer(connector=False)
    PartyIdentification.objects.create(customer=no_connector, type=SHOPIFY_CUST_ID, value="555")
    Customer.objects.filter(pk__in=[unnamed.pk, no_connector.pk]).update(is_valid=False, problems="stale")
    local_feeds.put(local_feeds.historical, "a.csv", fixture="historical-bom-crlf.csv")
    local_feeds.put(local_feeds.historical, "b.csv", fixture="historical-quoted-commas-newlines.csv")
    local_feeds.put(
        local_feeds.historical,
        "c.csv",
        b"internalId,HCShopifyCustomerId,externalId,firstName\n9001,444,C777,Filled\n9002,555,,Other\n",
    )
    historical(local_feeds)
    assert Customer.objects.count() == 2 + 2 + 3
    for customer in Customer.objects.prefetch_related("addresses", "syncs__external_system"):
        problems = customer_validate_for_export(customer=customer)
        assert (customer.is_valid, customer.problems) == (not problems, problems_as_text(problems)), customer
        for sync in customer.syncs.all():
            needs = customer_validate_for_export(customer=customer, external_system=sync.external_system)
            assert (sync.is_ready, sync.problems) == (not needs, problems_as_text(needs)), customer
    assert Customer.objects.get(pk=unnamed.pk).is_valid and Customer.objects.get(pk=no_connector.pk).is_valid
    # The file connector needs neither payment term nor address: a historical person with email is ready.
    ada = Customer.objects.get(first_name="Ada", identifications__value="101")
    assert ada.is_valid and ada.syncs.get().is_ready


def test_historical_latin1_and_quoted_fields(local_feeds: Feeds) -> None:
    local_feeds.put(local_feeds.historical, "a.csv", fixture="historical-latin1.csv")
    local_feeds.put(local_feeds.historical, "b.csv", fixture="historical-quoted-commas-newlines.csv")
    historical(local_feeds)
    assert Customer.objects.get(identifications__value="201").first_name == "Renée"
    acme = Customer.objects.get(identifications__value="301")
    assert (acme.company_name, acme.party_type) == ("Acme, Inc.", "company")
    assert Customer.objects.get(identifications__value="302").company_name == "Multi\nLine Co"
    assert set(FeedFile.objects.values_list("status", flat=True)) == {"done"}


def test_missing_required_column_fails_the_file_into_failed_folder(local_feeds: Feeds) -> None:
    local_feeds.put(local_feeds.historical, "bad.csv", fixture="historical-missing-required-column.csv")
    historical(local_feeds)
    entry = FeedFile.objects.get()
    assert entry.status == "failed" and "Shopify customer ID" in entry.reason
    assert local_feeds.names(local_feeds.historical, "failed") == ["bad.csv"]
    log = SyncLog.objects.get(record_type="file", outcome="failed")
    assert log.file_name == "bad.csv" and "Shopify customer ID" in log.message
    assert not Customer.objects.exists()
    local_feeds.system.refresh_from_db()
    assert local_feeds.system.historical_import_completed_at is None


def test_empty_file_fails_and_header_only_is_done(local_feeds: Feeds) -> None:
    local_feeds.put(local_feeds.historical, "empty.csv", fixture="empty.csv")
    local_feeds.put(local_feeds.historical, "header-only.csv", fixture="header-only.csv")
    historical(local_feeds)
    empty = FeedFile.objects.get(file_name="empty.csv")
    assert empty.status == "failed" and "empty" in empty.reason
    header = FeedFile.objects.get(file_name="header-only.csv")
    assert header.status == "done" and "no rows" in header.reason
    assert local_feeds.names(local_feeds.historical, "failed") == ["empty.csv"]
    assert local_feeds.names(local_feeds.historical, "archive") == ["header-only.csv"]


def test_duplicate_rows_go_in_once_and_a_shopify_id_claimed_twice_names_both(local_feeds: Feeds) -> None:
    local_feeds.put(local_feeds.historical, "duplicate-rows.csv", fixture="duplicate-rows.csv")
    historical(local_feeds)
    assert PartyIdentification.objects.filter(type=NETSUITE_CUSTOMER_ID).count() == 2
    assert Customer.objects.count() == 2
    entry = FeedFile.objects.get()
    assert (entry.status, entry.rows_ok, entry.rows_failed) == ("partly_failed", 3, 1)
    [(line, message)] = row_failures("duplicate-rows.csv")
    assert line == 6
    assert "9000000502" in message and "502" in message and "503" in message
    assert local_feeds.names(local_feeds.historical, "archive") == ["duplicate-rows.csv"]


def test_too_many_fields_is_a_row_error_and_good_rows_go_in(local_feeds: Feeds) -> None:
    local_feeds.put(local_feeds.historical, "too-many-fields.csv", fixture="too-many-fields.csv")
    historical(local_feeds)
    assert set(PartyIdentification.objects.filter(type=NETSUITE_CUSTOMER_ID).values_list("value", flat=True)) == {
        "601",
        "603",
    }
    [(line, message)] = row_failures("too-many-fields.csv")
    assert line == 3 and "fields" in message


def test_historical_matches_existing_customers_instead_of_duplicating(local_feeds: Feeds, make_customer) -> None:
    by_portal_id = make_customer(customer_id="C777", first_name="", shopify_id=False)
    by_shopify = make_customer(shopify_id=False)
    PartyIdentification.objects.create(customer=by_shopify, type=SHOPIFY_CUST_ID, value="555")
    local_feeds.put(
        local_feeds.historical,
        "h.csv",
        b"internalId,HCShopifyCustomerId,externalId,firstName\n9001,444,C777,Filled\n9002,555,,Other\n",
    )
    historical(local_feeds)
    assert Customer.objects.count() == 2
    by_portal_id.refresh_from_db()
    assert by_portal_id.first_name == "Filled"  # blank filled in
    by_shopify.refresh_from_db()
    assert by_shopify.first_name == "Ada"  # the portal's own value wins
    assert idents(by_shopify) == {SHOPIFY_CUST_ID: "555", NETSUITE_CUSTOMER_ID: "9002"}
    assert by_shopify.syncs.get().external_id == "9002"


def test_binding_a_customer_to_the_file_connector_is_not_a_change_the_rest_push_sends_back(
    local_feeds: Feeds, make_customer
) -> None:
    """A customer the REST connector pulled from NetSuite, found again in the historical file: being bound to the file
    connector changes none of its data, so it must not count as changed (``modified_at``) and be pushed back to
    NetSuite by the REST connector (the demo's 200 pulled customers came back as REST failures: no payment term)."""
    from datetime import timedelta

    from customers.models import ExternalSystem

    rest = ExternalSystem.objects.create(
        code="netsuite-rest", name="NetSuite (REST)", kind="netsuite", transport=ExternalSystem.Transport.REST
    )
    pulled = make_customer(connector=False, shopify_id=False)
    PartyIdentification.objects.create(customer=pulled, type=NETSUITE_CUSTOMER_ID, value="9002")
    synced_at = timezone.now()
    CustomerSync.objects.create(
        customer=pulled, external_system=rest, enabled=True, status="synced", external_id="9002",
        last_synced_at=synced_at, last_attempt_at=synced_at,
    )  # fmt: skip
    before = synced_at - timedelta(minutes=5)
    blank = make_customer(customer_id="C777", first_name="", shopify_id=False, connector=False)
    Customer.objects.filter(pk__in=[pulled.pk, blank.pk]).update(modified_at=before)
    local_feeds.put(
        local_feeds.historical,
        "h.csv",
        b"internalId,HCShopifyCustomerId,externalId,firstName\n9002,555,,Someone\n9003,556,C777,Filled\n",
    )
    historical(local_feeds)

    pulled.refresh_from_db()
    assert pulled.syncs.get(external_system=local_feeds.system).external_id == "9002"
    assert pulled.modified_at == before  # bound, not changed
    blank.refresh_from_db()
    assert blank.first_name == "Filled" and blank.modified_at > before  # a blank filled in is a change


def test_conflict_with_the_database_is_a_row_error(local_feeds: Feeds, make_customer) -> None:
    owner = make_customer(shopify_id=False)
    PartyIdentification.objects.create(customer=owner, type=NETSUITE_CUSTOMER_ID, value="100")
    PartyIdentification.objects.create(customer=owner, type=SHOPIFY_CUST_ID, value="200")
    local_feeds.put(local_feeds.historical, "h.csv", b"internalId,HCShopifyCustomerId\n101,200\n")
    historical(local_feeds)
    [(line, message)] = row_failures("h.csv")
    assert line == 2 and "100" in message and "101" in message and "200" in message


def test_same_content_under_a_new_name_is_a_duplicate_and_archived(local_feeds: Feeds) -> None:
    local_feeds.put(local_feeds.historical, "one.csv", fixture="historical-bom-crlf.csv")
    historical(local_feeds)
    local_feeds.put(local_feeds.historical, "two.csv", fixture="historical-bom-crlf.csv")
    historical(local_feeds)
    dup = FeedFile.objects.get(file_name="two.csv")
    assert dup.status == "duplicate" and "one.csv" in dup.reason
    assert sorted(local_feeds.names(local_feeds.historical, "archive")) == ["one.csv", "two.csv"]
    assert Customer.objects.count() == 2


def test_committed_but_not_moved_file_is_moved_without_reprocessing(local_feeds: Feeds) -> None:
    path = local_feeds.put(local_feeds.historical, "h.csv", fixture="historical-bom-crlf.csv")
    historical(local_feeds)
    entry = FeedFile.objects.get()
    # Put the run back to "committed, then killed before the move".
    with local_feeds.transport() as t:
        t.move(entry.remote_path, local_feeds.historical.folder)
    FeedFile.objects.filter(pk=entry.pk).update(remote_path=path, moved_at=None)
    Customer.objects.filter(first_name="Ada").update(first_name="Changed since")
    historical(local_feeds)
    assert FeedFile.objects.count() == 1
    entry.refresh_from_db()
    assert entry.moved_at and "/archive/" in entry.remote_path
    assert Customer.objects.filter(first_name="Changed since").exists()  # not read again


def test_a_run_stopped_mid_file_resumes_after_its_checkpoint(local_feeds: Feeds) -> None:
    feed = local_feeds.historical
    feed.batch_size = 2
    feed.save()
    lines = [b"internalId,HCShopifyCustomerId"] + [f"{n},{n + 5000}".encode() for n in range(1, 8)]
    local_feeds.put(feed, "h.csv", b"\n".join(lines) + b"\n")
    historical(local_feeds)
    clean = sorted(PartyIdentification.objects.values_list("type", "value"))
    # Rewind to "two batches committed, then the worker died".
    PartyIdentification.objects.all().delete()
    CustomerSync.objects.all().delete()
    Customer.objects.all().delete()
    entry = FeedFile.objects.get()
    with local_feeds.transport() as t:
        t.move(entry.remote_path, feed.folder)
    FeedFile.objects.filter(pk=entry.pk).update(
        status="processing",
        checkpoint_line=5,
        rows_total=4,
        rows_ok=4,
        remote_path=f"{feed.folder}/h.csv",
        moved_at=None,
    )
    historical(local_feeds)
    entry.refresh_from_db()
    assert (entry.status, entry.rows_total, entry.rows_ok) == ("done", 7, 7)
    # Only the rows after the checkpoint were written again (the first four were "already in").
    assert sorted(PartyIdentification.objects.values_list("value", flat=True)) == sorted(
        v for t, v in clean if v in {"5", "6", "7", "5005", "5006", "5007"}
    )


def test_local_file_through_the_command(local_feeds: Feeds, tmp_path) -> None:
    path = tmp_path / "historical.csv"
    path.write_bytes((FIXTURES / "historical-bom-crlf.csv").read_bytes())
    out = io.StringIO()
    call_command(
        "import_historical_customers", "--file", str(path), "--connection", "netsuite", "--no-progress", stdout=out
    )
    assert "2 rows imported" in out.getvalue()
    assert path.exists()  # an operator's local file stays where it is
    assert JobRun.objects.get(job=HISTORICAL_JOB).status == "done"


def test_unknown_connection_is_a_clear_command_error(local_feeds: Feeds) -> None:
    with pytest.raises(CommandError, match=r"No .* feed belongs to 'nope'"):
        call_command("export_customers", "--connection", "nope", "--no-progress")


# --- export ----------------------------------------------------------------------------------------


def test_export_is_refused_before_the_historical_import(local_feeds: Feeds, make_customer) -> None:
    make_customer()
    with pytest.raises(CommandError, match="historical customers have not been imported"):
        call_command("export_customers", "--connection", "netsuite", "--no-progress")
    assert JobRun.objects.get(job=EXPORT_JOB).status == "refused"
    assert local_feeds.names(local_feeds.export) == []


def complete_historical(feeds: Feeds) -> None:
    feeds.system.historical_import_completed_at = timezone.now()
    feeds.system.save()


def test_export_writes_one_file_with_the_exact_header_and_marks_customers(local_feeds: Feeds, make_customer) -> None:
    complete_historical(local_feeds)
    ada = make_customer(
        customer_id="C1", first_name='=HYPERLINK("x")', last_name="-2", order_priority=3, shopify_id=False
    )
    PartyIdentification.objects.create(customer=ada, type=SHOPIFY_CUST_ID, value="6543210001")
    customer_refresh_validation(customer=ada)
    # HotWax's file carries persons only: a company is refused before export, with the reason.
    company = make_customer(customer_id="C2", party_type="company", company_name="Acme", subsidiary="")
    run_export(trigger="on_demand")
    entry = FeedFile.objects.get(direction="out")
    data = local_feeds.read(entry.remote_path)
    assert data.split(b"\r\n")[0].decode() == ",".join(EXPORT_HEADER)
    rows = {r["HCCustomerId"]: r for r in export_rows(local_feeds, entry)}
    assert rows["C1"] == {
        "HCCustomerId": "C1",
        "externalId": "C1",
        "HCShopifyCustomerId": "6543210001",
        "firstName": '\'=HYPERLINK("x")',
        "lastName": "-2",  # a negative number is data, not a formula (SPEC section 2)
        "email": ada.email,
        "phone": "",
        "individual": "T",
        "status": "CUSTOMER-Closed Won",
        "subsidiary": "1",  # by internal ID, as custimport_customer_hc takes it
        "taxable": "TRUE",
        "defaultOrderPriority": "3",
        "accountSource": "7",
    }
    assert set(rows) == {"C1"}
    assert ada.syncs.get().status == "exported"
    refused = company.syncs.get()
    assert (refused.status, refused.last_error_code) == ("error", "COMPANY_NOT_SUPPORTED")
    # One sentence, its problem's own period not doubled before the advice.
    assert refused.last_error_message.startswith(f"Customer {company.customer_id} was not exported to ")
    assert ".." not in refused.last_error_message and "REST connector. Fix this" in refused.last_error_message
    assert SyncFailure.objects.get(customer=company, resolved_at=None).error_code == "COMPANY_NOT_SUPPORTED"
    assert ExportedCustomer.objects.filter(feed_file=entry).count() == 1
    assert entry.status == "done" and entry.rows_total == 1 and len(entry.sha256) == 64
    assert local_feeds.names(local_feeds.export) == [entry.file_name]
    assert local_feeds.names(local_feeds.export, "staging") == []
    # Awaiting NetSuite's ID: not exported again.
    run_export(trigger="on_demand")
    assert FeedFile.objects.filter(direction="out").count() == 1


def test_invalid_customers_are_skipped_and_logged_once_per_problem_set(local_feeds: Feeds, make_customer) -> None:
    complete_historical(local_feeds)
    bad = make_customer(email="")
    for _ in range(3):
        run_export(trigger="scheduled")
    # Nothing was attempted, so nothing is in the attempt log: the failure says what is missing, once.
    assert not SyncLog.objects.filter(record_id=bad.customer_id).exists()
    (failure,) = SyncFailure.objects.filter(customer=bad, resolved_at=None)
    assert (failure.error_code, failure.occurrences) == ("MISSING_EMAIL", 1) and "Missing email" in failure.message
    assert not FeedFile.objects.filter(direction="out").exists()
    # A different problem supersedes: one open failure still, with the new code.
    Customer.objects.filter(pk=bad.pk).update(email="ada@example.com", last_name="")
    customer_refresh_validation(customer=Customer.objects.get(pk=bad.pk))
    run_export(trigger="scheduled")
    (failure,) = SyncFailure.objects.filter(customer=bad, resolved_at=None)
    assert failure.error_code == "MISSING_CUSTOMER_NAME"
    assert SyncFailure.objects.filter(customer=bad).count() == 2  # the first one superseded


def test_customers_already_in_netsuite_are_never_exported(local_feeds: Feeds, make_customer) -> None:
    complete_historical(local_feeds)
    linked = make_customer()
    PartyIdentification.objects.create(customer=linked, type=NETSUITE_CUSTOMER_ID, value="5")
    run_export(trigger="on_demand")
    assert not FeedFile.objects.filter(direction="out").exists()


def test_sync_now_writes_a_file_for_the_given_customers(local_feeds: Feeds, make_customer) -> None:
    complete_historical(local_feeds)
    one, two, invalid = make_customer(), make_customer(), make_customer(email="")
    CustomerSync.objects.filter(customer=one).update(status="exported")  # an operator's RESYNC while awaiting
    results = customers_sync_now(customers=[one, invalid], external_system=local_feeds.system, trigger="resync")
    assert [r.ok for r in results] == [True, False]
    assert results[0].status == "exported" and "HCCustomerExport" in results[0].message
    assert "Missing email" in results[1].message
    entry = FeedFile.objects.get(direction="out")
    assert [r["HCCustomerId"] for r in export_rows(local_feeds, entry)] == [one.customer_id]
    assert CustomerSync.objects.get(customer=two).status == "pending"
    assert SyncLog.objects.filter(customer=one, outcome="success", file_name=entry.file_name).exists()


def test_sync_now_refused_before_historical_import(local_feeds: Feeds, make_customer) -> None:
    [result] = customers_sync_now(customers=[make_customer()], external_system=local_feeds.system, trigger="selective")
    assert not result.ok and result.error_code == "HISTORICAL_IMPORT_PENDING"


# --- NetSuite ID import ----------------------------------------------------------------------------


def test_party_ident_with_excel_floats(local_feeds: Feeds, make_customer) -> None:
    first, second, third = (make_customer(customer_id=f"C1000{n}", shopify_id=False) for n in (1, 2, 3))
    CustomerSync.objects.update(status="exported")
    local_feeds.put(local_feeds.party_ident, "2026-01-01-CustomerExport.csv", fixture="party-ident-excel-floats.csv")
    party_ident(local_feeds)
    sync = first.syncs.get()
    assert (sync.status, sync.external_id) == ("synced", "8812")
    assert idents(second) == {} and second.syncs.get().status == "exported"  # 6.54321E+12 lost digits: refused
    assert idents(third) == {}
    failures = row_failures("2026-01-01-CustomerExport.csv")
    assert [line for line, _ in failures] == [3, 4, 5]
    assert "scientific notation" in failures[0][1]
    entry = FeedFile.objects.get()
    assert entry.status == "partly_failed"
    assert local_feeds.names(local_feeds.party_ident, "archive") == ["2026-01-01-CustomerExport.csv"]


def test_party_ident_unknown_party_and_conflicts_are_row_errors(local_feeds: Feeds, make_customer) -> None:
    a, b = make_customer(customer_id="CA"), make_customer(customer_id="CB")
    PartyIdentification.objects.create(customer=a, type=NETSUITE_CUSTOMER_ID, value="1")
    local_feeds.put(
        local_feeds.party_ident,
        "ids.csv",
        b"CB,NETSUITE_CUSTOMER_ID,1\nCX,NETSUITE_CUSTOMER_ID,2\nCA,NETSUITE_CUSTOMER_ID,3\nCB,NETSUITE_CUSTOMER_ID,4\n",
    )
    party_ident(local_feeds)
    failures = dict(row_failures("ids.csv"))
    assert "already belongs to customer CA" in failures[1]
    assert "CX is not in the portal" in failures[2]
    assert "already has NETSUITE_CUSTOMER_ID 1" in failures[3]
    assert b.syncs.get().external_id == "4"
    log = SyncLog.objects.get(record_type="file_row", line_number=2)
    assert log.file_name == "ids.csv" and log.external_system == local_feeds.system


def test_party_ident_resolves_open_export_failures(local_feeds: Feeds, make_customer) -> None:
    c = make_customer(customer_id="CR")
    attempt_record(
        customer_attempt(
            c, local_feeds.system, ok=False, trigger="scheduled", operation="export file", code="NETSUITE_IMPORT_ERROR"
        )
    )
    local_feeds.put(
        local_feeds.party_ident, "ids.csv", b"partyId,partyIdentificationTypeId,idValue\nCR,NETSUITE_CUSTOMER_ID,9\n"
    )
    party_ident(local_feeds)
    assert SyncFailure.objects.get(customer=c).resolution == SyncFailure.Resolution.SUCCEEDED
    assert c.syncs.get().status == "synced"


# --- wiring ----------------------------------------------------------------------------------------


def test_jobs_are_registered_with_their_schedules() -> None:
    assert JOBS[EXPORT_JOB].task == "sftpsync.tasks.export_customers" and JOBS[EXPORT_JOB].scheduled
    assert JOBS[PARTY_IDENT_JOB].default_minutes == 15 and JOBS[PARTY_IDENT_JOB].scheduled
    assert not JOBS[HISTORICAL_JOB].scheduled


def test_tasks_run_for_file_systems_and_report(local_feeds: Feeds, make_customer) -> None:
    local_feeds.put(local_feeds.historical, "h.csv", fixture="historical-bom-crlf.csv")
    assert "2 rows imported" in tasks.import_historical_customers(trigger="on_demand")
    make_customer()
    assert "Wrote 1 customers" in tasks.export_customers()
    assert "No file matching" in tasks.import_party_identifications()


# --- references, limits and formats through the jobs ----------------------------------------------


def test_values_without_an_internal_id_are_held_back_once_and_go_when_mapped(local_feeds: Feeds, make_customer) -> None:
    from netsuite.services import reference_mappings_set

    complete_historical(local_feeds)
    ok = make_customer(customer_id="COK")
    eu = [make_customer(customer_id=f"CEU{n}", subsidiary="EU Wholesale") for n in range(2)]
    blank = make_customer(customer_id="CBLANK", subsidiary="")
    local_feeds.export.default_subsidiary = "Nowhere Ltd"
    local_feeds.export.save()
    text = str(run_export(trigger="scheduled"))
    assert "Wrote 1 customers" in text and "EU Wholesale" in text and "(feed default)" in text
    entry = FeedFile.objects.get(direction="out")
    assert [r["HCCustomerId"] for r in export_rows(local_feeds, entry)] == [ok.customer_id]
    for customer in eu:
        sync = customer.syncs.get()
        assert (sync.status, sync.last_error_code) == ("error", "MAPPING_MISSING")
        assert "Subsidiary 'EU Wholesale' has no NetSuite internal ID" in sync.last_error_message
    assert "export feed's default 'Nowhere Ltd'" in blank.syncs.get().last_error_message
    run_export(trigger="scheduled")
    assert SyncLog.objects.filter(error_code="MAPPING_MISSING").count() == 3  # once each, not every run

    reference_mappings_set(external_system=local_feeds.system, mappings={"subsidiaries": {"EU Wholesale": "3"}})
    run_export(trigger="scheduled")
    latest = FeedFile.objects.filter(direction="out").latest("pk")
    assert {r["HCCustomerId"]: r["subsidiary"] for r in export_rows(local_feeds, latest)} == {"CEU0": "3", "CEU1": "3"}
    assert {(s.status, s.last_error_code) for s in CustomerSync.objects.filter(customer__in=eu)} == {("exported", "")}


def test_exports_are_split_below_the_row_and_byte_limits(
    local_feeds: Feeds, make_customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sftpsync.services import export

    complete_historical(local_feeds)
    local_feeds.export.rows_per_file = 4
    local_feeds.export.save()
    customers = [make_customer(customer_id=f"CS{n:02d}") for n in range(10)]
    monkeypatch.setattr(export, "MAX_BYTES", 400)  # N/sftp's 100,000,000 bytes, scaled down: about 2 rows a file
    run_export(trigger="on_demand")
    files = list(FeedFile.objects.filter(direction="out").order_by("pk"))
    seen = []
    for entry in files:
        rows = export_rows(local_feeds, entry)
        assert len(rows) <= 4 and entry.size <= 400 and entry.rows_total == len(rows)
        lines = dict(ExportedCustomer.objects.filter(feed_file=entry).values_list("customer__customer_id", "line"))
        assert lines == {r["HCCustomerId"]: n for n, r in enumerate(rows, start=2)}  # the physical lines
        seen += [r["HCCustomerId"] for r in rows]
    assert len(files) > 3 and sorted(seen) == [c.customer_id for c in customers]  # each exactly once


def test_the_historical_file_in_hotwax_party_format_goes_in(local_feeds: Feeds) -> None:
    local_feeds.put(local_feeds.historical, "hotwax.csv", fixture="historical-hotwax-party-format.csv")
    historical(local_feeds)
    entry = FeedFile.objects.get()
    assert (entry.status, entry.rows_ok, entry.rows_failed) == ("partly_failed", 2, 3)
    ada = Customer.objects.get(first_name="Ada")
    assert idents(ada) == {NETSUITE_CUSTOMER_ID: "101", SHOPIFY_CUST_ID: "6543210101"}
    assert ada.syncs.get().status == "synced"
    assert [line for line, _ in row_failures("hotwax.csv")] == [3, 4, 5]


def test_a_feeds_column_mapping_reads_an_accounts_own_saved_search(local_feeds: Feeds) -> None:
    from django.core.exceptions import ValidationError

    feed = local_feeds.historical
    feed.column_mapping = {"Customer Internal ID": "internal_id", "Shopify ID": "shopify_id", "Mail": "email"}
    feed.full_clean()
    feed.save()
    local_feeds.put(feed, "own.csv", fixture="historical-custom-headers.csv")
    historical(local_feeds)
    radia = Customer.objects.get(identifications__value="301")
    assert radia.email == "radia@example.com" and idents(radia)[SHOPIFY_CUST_ID] == "6543210301"
    feed.column_mapping = {"X": "no_such_field"}
    with pytest.raises(ValidationError, match="Unknown field"):
        feed.full_clean()


@pytest.mark.parametrize(
    ("fixture", "cause"),
    [
        ("historical-utf16.csv", "UTF-16"),
        ("historical-gzip.csv", "gzip"),
        ("historical-xlsx.csv", "Excel workbook"),
        ("party-ident-random-bytes.csv", "binary data"),
    ],
)
def test_a_file_that_is_not_csv_fails_whole_with_its_cause_and_no_row_errors(
    local_feeds: Feeds, fixture: str, cause: str
) -> None:
    local_feeds.put(local_feeds.party_ident, "x.csv", fixture=fixture)
    party_ident(local_feeds)
    entry = FeedFile.objects.get()
    assert entry.status == "failed" and cause in entry.reason and "No row of it was imported" in entry.reason
    assert not SyncLog.objects.filter(record_type="file_row").exists()
    assert local_feeds.names(local_feeds.party_ident, "failed") == ["x.csv"]


def test_rows_before_a_failure_are_counted_exactly(local_feeds: Feeds, make_customer) -> None:
    make_customer(customer_id="C1")
    CustomerSync.objects.update(status="exported")
    data = b"partyId,partyIdentificationTypeId,idValue\nC1,NETSUITE_CUSTOMER_ID,5\n" + b"a,b,c,d\n" * 150
    local_feeds.put(local_feeds.party_ident, "x.csv", data)
    party_ident(local_feeds)
    entry = FeedFile.objects.get()
    # The broken rows come after a good one: each is reported with its line, the good one is imported.
    assert (entry.status, entry.rows_ok, entry.rows_failed) == ("partly_failed", 1, 150)


def test_a_hostile_servers_names_are_never_read_or_moved(make_feeds, hostile_sftp_server) -> None:
    from sftpsync.models import SftpConnection

    connection = SftpConnection.objects.create(
        name="Hostile",
        host=hostile_sftp_server.host,
        port=hostile_sftp_server.port,
        username=hostile_sftp_server.user,
        private_key=hostile_sftp_server.private_key,
        host_key=hostile_sftp_server.host_key_line,
    )
    feeds = make_feeds(connection)
    feeds.put(feeds.historical, "good.csv", fixture="historical-bom-crlf.csv")
    historical(feeds)
    assert list(FeedFile.objects.values_list("file_name", "status")) == [("good.csv", "done")]
    assert feeds.names(feeds.historical, "archive") == ["good.csv"]
    assert Customer.objects.count() == 2


def test_file_jobs_set_their_totals_before_their_rows(local_feeds: Feeds, make_customer, totals_seen) -> None:
    local_feeds.put(local_feeds.historical, "history.csv", fixture="historical-bom-crlf.csv")
    historical(local_feeds)
    for _ in range(3):
        customer_refresh_validation(customer=make_customer())
    run_export(trigger="on_demand")
    by_job = {job: {total for _job, total, _done in totals_seen if _job == job} for job, _t, _d in totals_seen}
    assert None not in by_job[HISTORICAL_JOB] and by_job[EXPORT_JOB] == {3}
