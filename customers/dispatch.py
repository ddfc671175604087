"""Send customers to an external system now, whatever its transport (REST or SFTP file exchange).

Connector apps register one handler per transport in their AppConfig.ready(); the console's RESYNC,
selective export and the orders API call ``customers_sync_now`` and never a connector directly.

Sources that write customers in bulk (no model signals) call ``customers_changed``; connectors that send
changes on (the NetSuite REST push) register a listener for it, so a source never imports a connector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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


# listener(customer_pks=...) -> None; called inside the writer's transaction (listeners defer to its commit).
ChangeListener = Callable[..., None]
_change_listeners: dict[str, ChangeListener] = {}


def register_change_listener(name: str, listener: ChangeListener) -> None:
    """Call ``listener`` whenever a source reports customers it changed without model signals."""
    _change_listeners[name] = listener


def customers_changed(*, customer_pks: Iterable[int]) -> None:
    """Tell every connector that these customers changed (bulk writes send no signals)."""
    pks = sorted({pk for pk in customer_pks if pk})
    if not pks:
        return
    for listener in _change_listeners.values():
        listener(customer_pks=pks)
