"""The Feed and FeedFile admin: pages open, Run now queues the feed's job, the ledger is read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from jobs.models import JobRun
from sftpsync.models import FeedFile

from .fixtures_jobs import Feeds, file_system_fixture, local_feeds_fixture, make_feeds_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in() -> Client:
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_feed_and_ledger_pages_open(admin_client_logged_in: Client, local_feeds: Feeds) -> None:
    feed = local_feeds.historical
    entry = FeedFile.objects.create(feed=feed, direction="in", file_name="a.csv", remote_path="/x/a.csv", sha256="ab")
    for url in (
        reverse("admin:sftpsync_feed_changelist"),
        reverse("admin:sftpsync_feed_add"),
        reverse("admin:sftpsync_feed_change", args=[feed.pk]),
        reverse("admin:sftpsync_feedfile_changelist") + "?status__exact=failed",
        reverse("admin:sftpsync_feedfile_change", args=[entry.pk]),
    ):
        assert admin_client_logged_in.get(url).status_code == 200, url
    assert admin_client_logged_in.get(reverse("admin:sftpsync_feedfile_add")).status_code == 403


def test_the_ledger_list_shows_the_reason_beside_the_status(admin_client_logged_in: Client, local_feeds: Feeds) -> None:
    # Last in the row, the reason (why a file failed) was past the right edge of the table even at 1920 pixels.
    FeedFile.objects.create(
        feed=local_feeds.historical, direction="in", file_name="u.csv", remote_path="/x/u.csv", sha256="cd",
        status="failed", reason="The file is UTF-16 text",
    )  # fmt: skip
    html = admin_client_logged_in.get(reverse("admin:sftpsync_feedfile_changelist")).content.decode()
    headers = html[html.index('id="result_list"') :]
    assert headers.index("column-status") < headers.index("column-reason") < headers.index("column-rows_total")


def user_in_group(group: str) -> Client:
    user = get_user_model().objects.create_user(group.lower(), password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def test_run_now_button_queues_the_feeds_job(admin_client_logged_in: Client, local_feeds: Feeds, task_queue) -> None:
    url = reverse("admin:sftpsync_feed_run", args=[local_feeds.export.pk])
    page = admin_client_logged_in.get(reverse("admin:sftpsync_feed_change", args=[local_feeds.export.pk]))
    assert url in page.content.decode()
    response = admin_client_logged_in.post(url)
    assert response.status_code == 302
    (task,) = task_queue.drain()
    assert task["func"] == "jobs.tasks.run_queued" and task["kwargs"]["job"] == "export_customers"
    assert task["kwargs"]["connection"] == "netsuite" and task["kwargs"]["trigger"] == "on_demand"
    # Queued at once, for the feed's connector, until a worker starts it.
    run = JobRun.objects.get(pk=task["kwargs"]["run_id"])
    assert (run.status, run.external_system) == (JobRun.Status.QUEUED, local_feeds.system)


def test_run_now_is_never_started_by_a_get(admin_client_logged_in: Client, local_feeds: Feeds, task_queue) -> None:
    response = admin_client_logged_in.get(reverse("admin:sftpsync_feed_run", args=[local_feeds.export.pk]))
    assert response.status_code == 302
    assert task_queue.drain() == []


def test_operator_runs_feeds_in_bulk_and_viewer_is_refused(local_feeds: Feeds, task_queue) -> None:
    changelist = reverse("admin:sftpsync_feed_changelist")
    action = {"action": "run_selected_now", "_selected_action": [local_feeds.export.pk, local_feeds.party_ident.pk]}
    operator = user_in_group("Operator")
    operator.post(changelist, action)
    assert sorted(t["kwargs"]["job"] for t in task_queue.drain()) == [
        "export_customers",
        "import_party_identifications",
    ]
    viewer = user_in_group("Viewer")
    page = viewer.get(reverse("admin:sftpsync_feed_change", args=[local_feeds.export.pk])).content.decode()
    assert "Run now" not in page
    assert viewer.post(reverse("admin:sftpsync_feed_run", args=[local_feeds.export.pk])).status_code == 403
    viewer.post(changelist, action)
    assert task_queue.drain() == []


def test_an_operator_edits_a_feeds_column_mapping_and_a_wrong_field_is_refused(
    admin_client_logged_in: Client, local_feeds: Feeds
) -> None:
    feed = local_feeds.historical
    url = reverse("admin:sftpsync_feed_change", args=[feed.pk])
    form = {
        "kind": feed.kind,
        "external_system": feed.external_system_id,
        "sftp_connection": feed.sftp_connection_id,
        "enabled": "on",
        "remote_folder": feed.remote_folder,
        "file_pattern": feed.file_pattern,
        "archive_folder": feed.archive_folder,
        "failed_folder": feed.failed_folder,
        "rows_per_file": 20000,
        "id_wait_minutes": 120,
        "default_status": feed.default_status,
        "default_subsidiary": feed.default_subsidiary,
        "default_taxable": feed.default_taxable,
        "default_order_priority": feed.default_order_priority,
        "default_account_source": feed.default_account_source,
        "batch_size": feed.batch_size,
    }
    page = admin_client_logged_in.post(url, {**form, "column_mapping": '{"Customer Number": "no_such_field"}'})
    assert page.status_code == 200 and "Unknown field(s) no_such_field" in page.content.decode()
    saved = admin_client_logged_in.post(url, {**form, "column_mapping": '{"Customer Number": "internal_id"}'})
    assert saved.status_code == 302
    feed.refresh_from_db()
    assert feed.column_mapping == {"Customer Number": "internal_id"}
