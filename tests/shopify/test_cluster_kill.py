"""kill -9 of the django-q2 cluster while it applies webhooks, then a restart: every event applied exactly once.

A real cluster (its own process group, killed whole with SIGKILL) on a SQLite file, on the ORM broker and, where
there is one, on Redis. Deliveries go through the real endpoint (signed, kept, queued after commit).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration_portal.test_qcluster import brokers, manage

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 400

DELIVER = f"""
import base64, hashlib, hmac, json, uuid
from django.test import Client
from shopify.models import ShopifyConnection
ShopifyConnection.objects.create(shop_domain="kill-store.myshopify.com", client_secret="kill-secret",
                                 payment_term="Net 30", price_level="Base Price")
client = Client()
for n in range({EVENTS}):
    body = json.dumps({{"id": 900000 + n, "first_name": "Ada", "last_name": f"Kill{{n}}", "state": "enabled",
                       "email": f"ada{{n}}@example.com", "updated_at": "2025-05-01T10:00:00Z",
                       "addresses": []}}).encode()
    sig = base64.b64encode(hmac.new(b"kill-secret", body, hashlib.sha256).digest()).decode()
    response = client.post("/api/shopify/webhooks", data=body, content_type="application/json",
                           HTTP_X_SHOPIFY_TOPIC="customers/create", HTTP_X_SHOPIFY_HMAC_SHA256=sig,
                           HTTP_X_SHOPIFY_SHOP_DOMAIN="kill-store.myshopify.com",
                           HTTP_X_SHOPIFY_EVENT_ID=str(uuid.uuid4()))
    assert response.status_code == 200, response.content
"""


def cluster(env, log: Path) -> subprocess.Popen:
    # A session of its own: the cluster, its workers, pusher and monitor are one process group, killed together.
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def counts(db_path: Path) -> dict[str, int]:
    db = sqlite3.connect(db_path, timeout=30)
    try:
        return dict(db.execute("SELECT status, COUNT(*) FROM shopify_inboxevent GROUP BY status").fetchall())
    finally:
        db.close()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s")


@pytest.mark.slow
@pytest.mark.parametrize("broker_env", list(brokers()))
def test_kill_9_while_processing_then_restart_applies_each_event_exactly_once(tmp_path, broker_env):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "PORTAL_VAR_DIR": str(tmp_path),
            "Q_CLUSTER_NAME": f"kill-{tmp_path.name}"[:60],
            "Q_WORKERS": "2",
            # A task taken by a killed worker is handed out again after Q_RETRY on the ORM broker; on Redis it is
            # lost and the sweep (every scheduler tick, ~30 s) takes what waited SHOPIFY_SWEEP_AFTER_SECONDS.
            "Q_TIMEOUT": "10",
            "Q_RETRY": "12",
            "SHOPIFY_SWEEP_AFTER_SECONDS": "1",
            **broker_env,
        }
    )
    manage(env, "migrate", "-v0")
    manage(env, "shell", "-c", DELIVER)
    db_path = tmp_path / "portal.sqlite3"
    assert counts(db_path) == {"received": EVENTS}

    log = tmp_path / "qcluster.log"
    first = cluster(env, log)
    try:
        wait_for(lambda: counts(db_path).get("applied", 0) >= 20, 90, "the cluster applying 20 events")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    at_kill = counts(db_path)
    assert at_kill.get("received", 0) > 0, f"every event was applied before the kill: {at_kill}"

    def all_applied() -> dict | None:
        now = counts(db_path)
        return now if now.get("applied", 0) == EVENTS else None

    second = cluster(env, log)
    try:
        final = wait_for(all_applied, 180, "every event applied")
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(second.pid, signal.SIGKILL)
    assert final == {"applied": EVENTS}
    db = sqlite3.connect(db_path)
    # Applied once each: one committed attempt per event, one customer per Shopify ID, nothing twice.
    assert db.execute("SELECT MIN(attempts), MAX(attempts) FROM shopify_inboxevent").fetchone() == (1, 1)
    assert db.execute("SELECT COUNT(*) FROM customers_customer").fetchone()[0] == EVENTS
    assert db.execute(
        "SELECT COUNT(DISTINCT value), COUNT(*) FROM customers_partyidentification WHERE type = 'SHOPIFY_CUST_ID'"
    ).fetchone() == (EVENTS, EVENTS)
