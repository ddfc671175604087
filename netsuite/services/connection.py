"""Checking a connection: sign in and run a one-row query."""

from __future__ import annotations

from dataclasses import dataclass

from customers.dispatch import MISSING_CREDENTIALS, SECRET_UNREADABLE
from integration_portal.secrets import secrets_unreadable_message

from ..client import NetSuiteError
from ..models import NetSuiteConnection
from .common import client_for


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    code: str = ""


def connection_test(*, connection: NetSuiteConnection) -> ConnectionCheck:
    """Sign in to NetSuite and run a one-row query; say plainly what is wrong when it fails."""
    unreadable = secrets_unreadable_message(connection)
    if unreadable:
        return ConnectionCheck(False, unreadable, SECRET_UNREADABLE)
    if not connection.has_credentials:
        return ConnectionCheck(
            False,
            "Enter the consumer key and secret and the token ID and secret first.",
            MISSING_CREDENTIALS,
        )
    client = client_for(connection=connection, max_retries=0, timeout=float(min(connection.request_timeout, 20)))
    try:
        page = client.suiteql_page("SELECT id FROM customer ORDER BY id", limit=1)
    except NetSuiteError as exc:
        return ConnectionCheck(False, f"{exc.message} [{exc.code}]", exc.code)
    finally:
        client.close()
    total = f" It holds {page.total} customer(s)." if page.total is not None else ""
    return ConnectionCheck(
        True, f"Connected to NetSuite account {connection.account_id} at {connection.rest_url}.{total}"
    )
