"""What the sync commands (pull_customers, reconcile_shopify) read from their arguments alike."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from types import ModuleType

from django.core.management.base import CommandError

from .services import parse_since


def since_and_connections(
    *, since: str | None, connection: str | None, selectors: ModuleType, none_active: str
) -> tuple[datetime | None, list]:
    """The command's --since, and the connection it names or every active one; CommandError saying what is wrong.

    ``selectors`` is the connector's module: ``connection_get(name=...)`` (raising its ``ConnectionNotFound``) and
    ``connections_active()``; ``none_active`` says what to do when there is none.
    """
    try:
        since_dt = parse_since(since)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if connection is not None and any(unicodedata.category(ch) == "Cc" for ch in connection):
        # No connection name holds a control character (a NUL, a newline), and PostgreSQL refuses a NUL in a query
        # outright; other unprintable characters (a no-break space) can be part of a shop's name.
        raise CommandError(f"--connection {connection!r} is not a connection name: it holds a control character.")
    try:
        connections = (
            [selectors.connection_get(name=connection)] if connection else list(selectors.connections_active())
        )
    except selectors.ConnectionNotFound as exc:
        raise CommandError(str(exc)) from None
    if not connections:
        raise CommandError(none_active)
    return since_dt, connections
