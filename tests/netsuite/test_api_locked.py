"""A presence GET answers while the database is locked for writing: the last-used time never blocks a read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection as db
from django.db import transaction
from django.test import Client
from django.utils import timezone

from netsuite.models import ApiToken, hash_token

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "orders-token-locked-0123456789"
# Far below SQLite's 20 s busy timeout and any PostgreSQL lock wait: a request that waited for the lock would
# still be running when this is up.
ANSWER_WITHIN = 10

# Run against a SQLite file (the test database is in memory, where locks do not work as in the portal's file).
SQLITE_PROBE = r"""
import json, os, sqlite3, threading, django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from customers.models import Customer, ExternalSystem
from netsuite.models import ApiToken, NetSuiteConnection, hash_token

call_command("migrate", verbosity=0)
system = ExternalSystem.objects.create(code="netsuite", name="NetSuite", historical_import_completed_at=timezone.now())
connection = NetSuiteConnection.objects.create(external_system=system, account_id="1234567")
customer = Customer.objects.create(customer_id="C1", first_name="Ada", last_name="Lovelace")
token = os.environ["PROBE_TOKEN"]
ApiToken.objects.create(name="OMS", connection=connection, key_hash=hash_token(token), prefix=token[:8])
from django.db import connection as django_connection
django_connection.close()

holder = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]), timeout=0, isolation_level=None)
holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long import holds it
result = {}

def ask():
    response = Client().get("/api/netsuite/customers/C1/presence", HTTP_AUTHORIZATION=f"Bearer {token}")
    result["status"] = response.status_code
    result["body"] = response.json()

thread = threading.Thread(target=ask)
thread.start()
thread.join(float(os.environ["ANSWER_WITHIN"]))
result["answered_while_locked"] = not thread.is_alive()
holder.execute("ROLLBACK")
thread.join(60)
result["last_used_at"] = str(ApiToken.objects.get().last_used_at)
print(json.dumps(result))
"""


def test_presence_answers_while_sqlite_is_locked_for_writing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "integration_portal.settings",
            "PORTAL_VAR_DIR": str(tmp_path),
            "PROBE_TOKEN": TOKEN,
            "ANSWER_WITHIN": str(ANSWER_WITHIN),
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", SQLITE_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["answered_while_locked"], "the presence GET waited for the write lock"
    assert result["status"] == 200 and result["body"]["customerId"] == "C1"
    assert result["last_used_at"] == "None"  # skipped while locked, written on a later request


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_presence_answers_while_postgresql_is_locked_for_writing(connection, make_customer):
    if db.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    customer = make_customer()
    ApiToken.objects.create(name="OMS", connection=connection, key_hash=hash_token(TOKEN), prefix=TOKEN[:8])
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        # Blocks every write to the table, not reads: what a long migration or bulk job can do.
        with transaction.atomic():
            with db.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {ApiToken._meta.db_table} IN EXCLUSIVE MODE")
            locked.set()
            release.wait(60)
        db.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(10)
    result = {}

    def ask():
        response = Client().get(
            f"/api/netsuite/customers/{customer.customer_id}/presence", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
        )
        result["status"] = response.status_code
        db.close()

    asker = threading.Thread(target=ask)
    try:
        asker.start()
        asker.join(ANSWER_WITHIN)
        assert not asker.is_alive(), "the presence GET waited for the table lock"
        assert result["status"] == 200
    finally:
        release.set()
        holder.join(60)
        asker.join(60)
    assert ApiToken.objects.get().last_used_at is None
    # Once the lock is gone the next request records the use.
    Client().get(f"/api/netsuite/customers/{customer.customer_id}/presence", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert ApiToken.objects.get().last_used_at <= timezone.now()
