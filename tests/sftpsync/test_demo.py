"""The demo wiring: seed_demo gives the file-exchange system a local folder the NetSuite sandbox shares."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from customers.models import NETSUITE_CUSTOMER_ID, Customer, CustomerSync, ExternalSystem
from customers.services import customer_refresh_validation
from netsuite_sandbox import scripts
from netsuite_sandbox.store import Store
from sftpsync.apps import DEMO_SYSTEM_CODE, DEMO_USERNAME
from sftpsync.models import Feed, FeedFile, SftpConnection
from sftpsync.services import run_export, run_inbound
from sftpsync.services.runs import HISTORICAL_JOB, PARTY_IDENT_JOB

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
    assert Feed.objects.count() == 3 and {f.connection_id for f in feeds} == {connection.pk}
    # The feeds' folders are the sandbox's, whose SFTP home scripts/run.sh puts at <root>/home/<username>.
    home = var_dir / "sftp-home" / "home" / DEMO_USERNAME
    for folder in (scripts.HISTORICAL_DIR, scripts.EXPORT_DIR, scripts.IMPORT_DIR):
        assert (home / folder).is_dir()


def test_demo_setup_without_the_file_system_does_nothing(var_dir: Path) -> None:
    apps.get_app_config("sftpsync").demo_setup(stdout=io.StringIO())
    assert not SftpConnection.objects.exists()


def test_demo_loop_over_the_local_folder(var_dir: Path, make_customer) -> None:
    system = ExternalSystem.objects.create(code=DEMO_SYSTEM_CODE, name="NetSuite (files)", transport="file")
    out = io.StringIO()
    apps.get_app_config("sftpsync").demo_setup(stdout=out)
    assert "sftp-home" in out.getvalue()
    # The sandbox as scripts/run.sh starts it: historical customers, and their file written into its home.
    home = var_dir / "sftp-home" / "home" / DEMO_USERNAME
    store = Store()
    store.seed(3, historical=True)
    scripts.make_folders(home)
    scripts.generate_historical_customer_csv(store, home)
    # Portal customers waiting for this connector.
    waiting = [make_customer(customer_id=f"CDEMO{n}", connector=False, shopify_id=True) for n in range(2)]
    for customer in waiting:
        CustomerSync.objects.create(customer=customer, external_system=system)
        assert customer_refresh_validation(customer=customer) == []

    run_inbound(job=HISTORICAL_JOB, kind=Feed.Kind.HISTORICAL, trigger="on_demand", connection=DEMO_SYSTEM_CODE)
    assert Customer.objects.count() == 2 + 3
    run_export(trigger="on_demand", connection=DEMO_SYSTEM_CODE)
    assert set(CustomerSync.objects.filter(customer__in=waiting).values_list("status", flat=True)) == {"exported"}
    # NetSuite's scheduled scripts: import the export file, write the created IDs.
    scripts.import_customer(store, home)
    scripts.exported_customer_csv(store, home)
    run_inbound(job=PARTY_IDENT_JOB, kind=Feed.Kind.PARTY_IDENT, trigger="on_demand", connection=DEMO_SYSTEM_CODE)

    assert store.count() == 3 + 2
    for customer in waiting:
        sync = customer.syncs.get(external_system=system)
        assert sync.status == CustomerSync.Status.SYNCED and sync.external_id
        assert customer.identifications.get(type=NETSUITE_CUSTOMER_ID).value == sync.external_id
        assert store.get(int(sync.external_id))["externalid"] == customer.customer_id
    assert set(FeedFile.objects.values_list("direction", "status")) == {("in", "done"), ("out", "done")}
    assert list((home / scripts.EXPORT_DIR / "archive").iterdir())
