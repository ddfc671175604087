"""A connection that cannot log in stops at once and is reported once, for the connection, not per customer."""

from __future__ import annotations

import pytest

from customers.models import CustomerSync, SyncFailure
from jobs.models import JobRun
from netsuite import services, tasks
from netsuite.client import AuthError
from netsuite_sandbox import NetSuiteSandbox

pytestmark = pytest.mark.django_db


def open_failures() -> list[SyncFailure]:
    return list(SyncFailure.objects.filter(resolved_at__isnull=True))


def test_a_wrong_token_secret_gives_one_connection_failure_not_one_per_customer(
    connection, make_customer, netsuite_sandbox: NetSuiteSandbox
):
    connection.token_secret = "not-the-secret"
    connection.save()
    customers = [make_customer() for _ in range(30)]

    tasks.push_customers()
    tasks.push_customers()  # the next scheduled run fails the same way: still one entry

    [failure] = open_failures()
    assert (failure.record_type, failure.record_id) == ("connection", connection.external_system.code)
    assert (failure.error_code, failure.occurrences) == ("INVALID_LOGIN", 2)
    assert "NetSuite refused the login" in failure.message
    assert failure.customer is None
    # The run stopped at once: nothing like one request per customer, and the customers wait as they were.
    assert netsuite_sandbox.stats["total_requests"] <= 2 * connection.concurrency_share
    assert set(CustomerSync.objects.values_list("status", flat=True)) == {"pending"}
    run = JobRun.objects.filter(job="push_customers").first()
    assert "Stopped" in run.message and "INVALID_LOGIN" in run.message

    # Fixed credentials: the next run sends everyone and resolves the connection's failure.
    connection.token_secret = netsuite_sandbox.token_secret
    connection.save()
    tasks.push_customers()
    assert open_failures() == []
    assert netsuite_sandbox.count_customers() == len(customers)


def test_a_resync_with_a_wrong_secret_says_so_without_blaming_the_customer(connection, make_customer, netsuite_sandbox):
    connection.token_secret = "not-the-secret"
    connection.save()
    customer = make_customer()
    [result] = services.customers_push_handler(
        customers=[customer], external_system=connection.external_system, trigger="resync"
    )
    assert not result.ok
    assert result.error_code == "INVALID_LOGIN"
    assert [(f.record_type, f.customer_id) for f in open_failures()] == [("connection", None)]


def test_a_pull_with_a_wrong_secret_is_reported_for_the_connection(connection, netsuite_sandbox):
    connection.token_secret = "not-the-secret"
    connection.save()
    with pytest.raises(AuthError):
        services.customers_pull(connection=connection, full=True)
    [failure] = open_failures()
    assert failure.record_type == "connection"


def test_the_dashboard_warns_of_a_connection_that_cannot_log_in(connection, make_customer, netsuite_sandbox):
    from console.selectors import dashboard_warnings

    connection.token_secret = "not-the-secret"
    connection.save()
    make_customer()
    tasks.push_customers()
    warnings = dashboard_warnings(systems=[connection.external_system], jobs=[], counts=None)
    [warning] = [w for w in warnings if "refused the login" in w.message]
    assert warning.message.startswith("NetSuite:")
    assert "record_type__exact=connection" in warning.link


def test_the_dashboard_warns_once_of_a_refused_login_not_also_for_the_failed_run(
    connection, make_customer, netsuite_sandbox
):
    from console.selectors import dashboard_warnings, job_states

    connection.token_secret = "not-the-secret"
    connection.save()
    make_customer()
    tasks.push_customers()
    assert JobRun.objects.get(job="push_customers").status == JobRun.Status.FAILED
    warnings = dashboard_warnings(systems=[connection.external_system], jobs=job_states(), counts=None)
    # One warning, the connection's (linking to its entry in the queue), not a second one for the push run.
    [warning] = [w for w in warnings if "refused the login" in w.message]
    assert "record_type__exact=connection" in warning.link

    connection.token_secret = netsuite_sandbox.token_secret
    connection.save()
    tasks.push_customers()
    warnings = dashboard_warnings(systems=[connection.external_system], jobs=job_states(), counts=None)
    assert [w for w in warnings if "refused the login" in w.message] == []
