"""What the push, the pull and the orders endpoint share: operation names, the client, failure codes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from customers.errors import ErrorCode

from ..client import Limiter, NetSuiteClient
from ..models import NetSuiteConnection

OPERATION_UPSERT = "rest upsert"
OPERATION_UPDATE = "rest update"
OPERATION_PULL = "rest pull"
OPERATION_CONTACT_UPSERT = "rest contact upsert"
PARENT_NOT_IN_NETSUITE = ErrorCode.PARENT_NOT_IN_NETSUITE
# The portal itself failed (a bug, a database error): not NetSuite's UNEXPECTED_ERROR, which keeps its own code.
PORTAL_INTERNAL_ERROR = ErrorCode.PORTAL_INTERNAL_ERROR
# Another push worker is sending the customer right now (or it waits in a batch whose results are not read yet).
BEING_SENT = ErrorCode.BEING_SENT


def client_for(*, connection: NetSuiteConnection, limiter: Limiter, **config_changes: Any) -> NetSuiteClient:
    """Return a client for the connection, kept within its concurrency share by ``limiter`` (``slots_for_run``)."""
    config = connection.client_config()
    if config_changes:
        config = replace(config, **config_changes)
    return NetSuiteClient(config, limiter=limiter)
