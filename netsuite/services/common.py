"""What the push, the pull and the orders endpoint share: operation names, the client, failure logs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..client import Limiter, NetSuiteClient
from ..limiter import limiter_for
from ..models import NetSuiteConnection

OPERATION_UPSERT = "rest upsert"
OPERATION_UPDATE = "rest update"
OPERATION_PULL = "rest pull"
PARENT_NOT_IN_NETSUITE = "PARENT_NOT_IN_NETSUITE"


def client_for(
    *, connection: NetSuiteConnection, limiter: Limiter | None = None, **config_changes: Any
) -> NetSuiteClient:
    """Return a client for the connection, limited to its concurrency share across all processes.

    Pass the ``limiter`` of ``slots_for_run`` when a run sends many requests; without it each request
    claims and frees a slot on its own.
    """
    config = connection.client_config()
    if config_changes:
        config = replace(config, **config_changes)
    return NetSuiteClient(config, limiter=limiter or limiter_for(connection=connection))
