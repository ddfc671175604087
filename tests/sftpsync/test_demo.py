"""The demo wiring: seed_demo gives the file-exchange system a local folder the NetSuite sandbox shares."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from customers.models import (
    NETSUITE_CUSTOMER_ID,
    Customer,
    CustomerSync,
    ExternalSystem,
)
from customers.services import customer_refresh_validation
from netsuite_sandbox.hotwax import EXPORT_DIR, HISTORICAL_DIR, IMPORT_DIR
from sftpsync.apps import DEMO_SYSTEM_CODE, DEMO_USERNAME
from sftpsync.models import Feed, FeedFile, SftpConnection
from sftpsync.services import run_export, run_inbound
from sftpsync.services.runs import HISTORICAL_JOB, PARTY_IDENT_JOB

from .netsuite_side import NetSuiteSide

pytestmark = pytest.mark.django_db


@pytest.fixture
def var_dir(settings, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_seed_demo_twice_makes_one_local_connection_and_three_feeds(var_dir: Path) -> None:
    call_command("seed_demo", customers=0, stdout=io.StringIO())
    call_command("seed_demo", customers=0, stdout=io.StringIO())
    connection = SftpConnection.objects.get()
    assert (connection.transport, connection.local_root) == ("local", str(var_dir / "sftp-home"))
    system = ExternalSystem.objects.get(code=DEMO_SYSTEM_CODE)
    feeds = Feed.objects.filter(external_system=system)
    assert sorted(f.kind for f in feeds) == sorted(Feed.Kind.values)
    assert Feed.objects.count() == 3 and {f.sftp_connection_id for f in feeds} == {connection.pk}
    # The feeds' folders are the sandbox's, whose SFTP home scripts/run.sh puts at <root>/home/<username>; every
    # folder HotWax's scripts move into is made too, since they make none.
    home = var_dir / "sftp-home" / "home" / DEMO_USERNAME
    for folder in (HISTORICAL_DIR, EXPORT_DIR, IMPORT_DIR, f"{EXPORT_DIR}/archive", f"{EXPORT_DIR}/failed"):
        assert (home / folder).is_dir()
    assert (home / f"{EXPORT_DIR}/error").is_dir()


def test_demo_setup_without_the_file_system_does_nothing(var_dir: Path) -> None:
    apps.get_app_config("sftpsync").demo_setup(stdout=io.StringIO())
    assert not SftpConnection.objects.exists()


def test_demo_loop_over_the_local_folder(var_dir: Path, make_customer) -> None:
    system = ExternalSystem.objects.create(code=DEMO_SYSTEM_CODE, name="NetSuite (files)", transport="file")
    out = io.StringIO()
    apps.get_app_config("sftpsync").demo_setup(stdout=out)
    assert "sftp-home" in out.getvalue()
    # The sandbox as scripts/run.sh starts it: historical customers, their file generated and uploaded.
    home = var_dir / "sftp-home" / "home" / DEMO_USERNAME
    netsuite = NetSuiteSide.over_local_folder(home)
    store = netsuite.store
    store.seed(3, historical=True)
    assert netsuite.historical().written
    # Portal customers waiting for this connector, with the Shopify ID HotWax's ID search needs to send them back.
    waiting = [make_customer(customer_id=f"CDEMO{n}", connector=False, shopify_id=True) for n in range(2)]
    for customer in waiting:
        CustomerSync.objects.create(customer=customer, external_system=system)
        assert customer_refresh_validation(customer=customer) == []

    run_inbound(job=HISTORICAL_JOB, kind=Feed.Kind.HISTORICAL, trigger="on_demand", connection=DEMO_SYSTEM_CODE)
    assert Customer.objects.count() == 2 + 3
    run_export(trigger="on_demand", connection=DEMO_SYSTEM_CODE)
    assert set(CustomerSync.objects.filter(customer__in=waiting).values_list("status", flat=True)) == {"exported"}
    # NetSuite's scheduled scripts: import the export file, write the created IDs.
    netsuite.scheduled()
    run_inbound(job=PARTY_IDENT_JOB, kind=Feed.Kind.PARTY_IDENT, trigger="on_demand", connection=DEMO_SYSTEM_CODE)

    assert store.count() == 3 + 2
    for customer in waiting:
        sync = customer.syncs.get(external_system=system)
        assert sync.status == CustomerSync.Status.SYNCED and sync.external_id
        assert customer.identifications.get(type=NETSUITE_CUSTOMER_ID).value == sync.external_id
        assert store.get(int(sync.external_id))["externalid"] == customer.customer_id
    assert set(FeedFile.objects.values_list("direction", "status")) == {("in", "done"), ("out", "done")}
    assert list((home / EXPORT_DIR / "archive").iterdir())
