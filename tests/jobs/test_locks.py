"""One run of a job per subject across processes: an advisory lock on PostgreSQL, a lock file elsewhere."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from jobs.locks import job_lock, job_lock_or_refuse
from jobs.services import JobRefused


def in_another_session(func):
    """Run ``func`` in a thread of its own: its own database connection, as another worker process would have."""
    result: list = []

    def run() -> None:
        try:
            result.append(func())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0]


def try_lock(name: str, key: int) -> bool:
    with job_lock(name, key) as taken:
        return taken


@pytest.mark.django_db(transaction=True)
def test_a_held_lock_is_refused_elsewhere_and_free_again_after():
    with job_lock("netsuite-push", 7) as taken:
        assert taken
        assert in_another_session(lambda: try_lock("netsuite-push", 7)) is False
        assert in_another_session(lambda: try_lock("netsuite-push", 8)) is True  # another subject
        assert in_another_session(lambda: try_lock("feed", 7)) is True  # another job
    assert in_another_session(lambda: try_lock("netsuite-push", 7)) is True


@pytest.mark.django_db(transaction=True)
def test_refusing_says_why():
    def second() -> str:
        try:
            with job_lock_or_refuse("feed", 3, busy_message="Another run of the feed is still going."):
                return "ran"
        except JobRefused as exc:
            return str(exc)

    with job_lock_or_refuse("feed", 3, busy_message="unused"):
        assert in_another_session(second) == "Another run of the feed is still going."
