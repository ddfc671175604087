"""A connection as a whole: Test connection, and a failure of the connection reported once, not per customer."""

from __future__ import annotations

from dataclasses import dataclass

from customers.dispatch import MISSING_CREDENTIALS, SECRET_UNREADABLE
from customers.models import SyncFailure
from customers.services import Attempt, attempt_record
from integration_portal.secrets import secrets_unreadable_message

from ..client import NetSuiteError
from ..limiter import slots_for_run
from ..models import NetSuiteConnection
from .common import client_for

# The Failed Record Queue's record type of a connection that cannot log in (the record ID is the system's code).
CONNECTION_RECORD_TYPE = "connection"
OPERATION_CONNECT = "rest connect"
# Test connection tries a transient failure (a 503, a timeout) again this many times, with short waits.
TEST_RETRIES = 2


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
    timeout = float(min(connection.request_timeout, 20))
    with slots_for_run(connection=connection, wanted=1) as limiter:
        client = client_for(
            connection=connection, limiter=limiter, max_retries=TEST_RETRIES, timeout=timeout, backoff_max=2.0
        )
        try:
            page = client.suiteql_page("SELECT id FROM customer ORDER BY id", limit=1)
        except NetSuiteError as exc:
            return ConnectionCheck(False, f"{exc.message} [{exc.code}]", exc.code)
        finally:
            client.close()
    connection_recovered(connection=connection)
    total = f" It holds {page.total} customer(s)." if page.total is not None else ""
    return ConnectionCheck(
        True, f"Connected to NetSuite account {connection.account_id} at {connection.rest_url}.{total}"
    )


def connection_failed(*, connection: NetSuiteConnection, error: NetSuiteError, trigger: str, user=None) -> bool:
    """Put the connection (not its customers) in the Failed Record Queue: one open failure however often it fails.

    Return whether it is a new failure (none was open for the connection).
    """
    system = connection.external_system
    new = not SyncFailure.objects.filter(
        external_system=system, record_type=CONNECTION_RECORD_TYPE, record_id=system.code, resolved_at__isnull=True
    ).exists()
    attempt_record(
        Attempt(
            system,
            CONNECTION_RECORD_TYPE,
            system.code,
            ok=False,
            code=error.code,
            message=(
                f"The NetSuite connection {system.name} stopped: {error.message} Nothing was sent; the customers "
                "wait and are sent by the next run once the connection works (press Test connection to check)."
            ),
            operation=OPERATION_CONNECT,
            trigger=trigger,
            user=user,
        )
    )
    return new


def connection_recovered(*, connection: NetSuiteConnection) -> None:
    """Resolve the connection's open failure, now that NetSuite accepted it again."""
    system = connection.external_system
    attempt_record(Attempt(system, CONNECTION_RECORD_TYPE, system.code, ok=True, log=False))
