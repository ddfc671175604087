"""A connection as a whole: Test connection, and a failure of the connection reported once, not per customer."""

from __future__ import annotations

from dataclasses import dataclass

from customers.models import SyncLog
from customers.services import synclog_record, synclog_resolve_open

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
    if not connection.has_credentials:
        return ConnectionCheck(
            False,
            "Enter the consumer key and secret and the token ID and secret first.",
            "MISSING_CREDENTIALS",
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
    """Put the connection (not its customers) in the Failed Record Queue, once while the failure stays open.

    Return whether a new entry was logged.
    """
    system = connection.external_system
    already = SyncLog.objects.filter(
        record_type=CONNECTION_RECORD_TYPE,
        record_id=system.code,
        external_system=system,
        error_code=error.code[:60],
        outcome=SyncLog.Outcome.FAILED,
        resolved_at__isnull=True,
    ).exists()
    if already:
        return False
    synclog_record(
        record_type=CONNECTION_RECORD_TYPE,
        record_id=system.code,
        external_system=system,
        operation=OPERATION_CONNECT,
        trigger=trigger,
        outcome=SyncLog.Outcome.FAILED,
        error_code=error.code[:60],
        message=(
            f"The NetSuite connection {system.name} stopped: {error.message} Nothing was sent; the customers wait "
            "and are sent by the next run once the connection works (press Test connection to check)."
        ),
        user=user,
    )
    return True


def connection_recovered(*, connection: NetSuiteConnection) -> None:
    """Resolve the connection's open failure, now that NetSuite accepted it again."""
    system = connection.external_system
    synclog_resolve_open(record_type=CONNECTION_RECORD_TYPE, record_id=system.code, external_system=system)
