"""Send customers to an external system now, whatever its transport (REST or SFTP file exchange).

Connector apps register one handler per transport in their AppConfig.ready(); the console's RESYNC,
selective export and the orders API call ``customers_sync_now`` and never a connector directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .models import Customer, ExternalSystem


@dataclass
class SyncResult:
    """What one attempt to sync one customer came to."""

    customer: Customer
    ok: bool
    status: str
    message: str = ""
    error_code: str = ""
    external_id: str = ""


# handler(customers=..., external_system=..., trigger=..., user=...) -> one SyncResult per customer
SyncHandler = Callable[..., list[SyncResult]]
_handlers: dict[str, SyncHandler] = {}


def register_sync_handler(transport: str, handler: SyncHandler) -> None:
    """Make ``handler`` the way customers are sent to systems using ``transport``."""
    _handlers[transport] = handler


def customers_sync_now(
    *, customers: Sequence[Customer], external_system: ExternalSystem, trigger: str, user=None
) -> list[SyncResult]:
    """Attempt each customer now through the system's transport; return one result per customer."""
    handler = _handlers.get(external_system.transport)
    if handler is None:
        message = (
            f"No connector is installed for {external_system.get_transport_display()} "
            f"({external_system.name}); check INSTALLED_APPS."
        )
        return [SyncResult(c, ok=False, status="error", message=message, error_code="NO_CONNECTOR") for c in customers]
    return handler(customers=list(customers), external_system=external_system, trigger=trigger, user=user)
