"""The Feed and FeedFile admin: pages open, Run now queues the feed's job, the ledger is read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ

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


def test_run_now_queues_the_feeds_job(admin_client_logged_in: Client, local_feeds: Feeds, settings) -> None:
    response = admin_client_logged_in.get(reverse("admin:sftpsync_feed_run", args=[local_feeds.export.pk]))
    assert response.status_code == 302
    assert OrmQ.objects.count() == 1
    task = OrmQ.objects.get().task
    assert task["func"] == "sftpsync.tasks.export_customers"
    assert task["kwargs"]["connection"] == "netsuite" and task["kwargs"]["trigger"] == "on_demand"
