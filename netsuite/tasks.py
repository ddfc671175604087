"""Thin django-q2 tasks: they take IDs, run a service inside a recorded job run, and return a summary."""

from __future__ import annotations

from customers.models import SyncLog
from integration_portal.secrets import secrets_unreadable_message
from jobs.services import JobRefused, job_run, user_by_id

from . import selectors, services


def _connections(connection_id: int | None):
    if connection_id is not None:
        return [selectors.connection_get(connection_id=connection_id)]
    return list(selectors.connections_active())


def push_customers(*, connection_id: int | None = None, trigger: str = "scheduled", user_id: int | None = None) -> str:
    """Push pending and changed customers of every active connection (or the one given)."""
    user = user_by_id(user_id)
    lines = []
    for connection in _connections(connection_id):
        try:
            with job_run(
                job="push_customers", external_system=connection.external_system, trigger=trigger, user=user
            ) as progress:
                report = services.customers_push_scheduled(
                    connection=connection, trigger=trigger, user=user, progress=progress
                )
            lines.append(f"{connection.external_system.name}: {report.summary()}")
        except JobRefused as exc:
            lines.append(f"{connection.external_system.name}: refused: {exc}")
    return " ".join(lines) or "No active NetSuite REST connection."


def pull_customers(*, connection_id: int | None = None, trigger: str = "scheduled", user_id: int | None = None) -> str:
    """Pull customers changed in NetSuite for every active connection (or the one given)."""
    user = user_by_id(user_id)
    lines = []
    for connection in _connections(connection_id):
        unreadable = secrets_unreadable_message(connection)
        if unreadable or not connection.has_credentials:
            lines.append(f"{connection.external_system.name}: skipped, {unreadable or 'no credentials.'}")
            continue
        with job_run(
            job="pull_customers", external_system=connection.external_system, trigger=trigger, user=user
        ) as progress:
            report = services.customers_pull(connection=connection, trigger=trigger, user=user, progress=progress)
        lines.append(f"{connection.external_system.name}: {report.summary()}")
    return " ".join(lines) or "No active NetSuite REST connection."


def push_changed_customers(*, customer_pks: list[int]) -> str:
    """Push customers whose saved change queued this task (event-driven)."""
    return services.customers_push_changed(customer_pks=customer_pks, trigger=SyncLog.Trigger.EVENT)
