"""Send customers to an external system now, whatever its transport (REST or SFTP file exchange).

Connector apps register one handler per transport in their AppConfig.ready(), with the check that says when
nothing may be sent (connection switched off, NetSuite's existing customers not yet imported, no credentials).
The console's RESYNC, selective export and the orders API call ``customers_sync_now``, which applies that
check before every handler; the scheduled and event-driven runs ask ``sync_refusal`` before they start. So the
guards live in one place, and no way of sending a customer can skip them.

Sources that write customers in bulk (no model signals) call ``customers_changed``; connectors that send
changes on (the NetSuite REST push) register a listener for it, so a source never imports a connector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .errors import ErrorCode
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


# Why nothing may be sent to a system now (codes of the one enumeration, each with its guidance).
SYSTEM_INACTIVE = ErrorCode.SYSTEM_INACTIVE
CONNECTION_INACTIVE = ErrorCode.CONNECTION_INACTIVE
NO_CONNECTION = ErrorCode.NO_CONNECTION
MISSING_CREDENTIALS = ErrorCode.MISSING_CREDENTIALS
SECRET_UNREADABLE = ErrorCode.SECRET_UNREADABLE
HISTORICAL_IMPORT_PENDING = ErrorCode.HISTORICAL_IMPORT_PENDING
NO_CONNECTOR = ErrorCode.NO_CONNECTOR


@dataclass(frozen=True)
class Refusal:
    """Why no customer may be sent to a system now: a code and a sentence saying what to do."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


# handler(customers=..., external_system=..., trigger=..., user=...) -> one SyncResult per customer
SyncHandler = Callable[..., list[SyncResult]]
# refusal(external_system) -> a Refusal, or None when customers may be sent
RefusalCheck = Callable[[ExternalSystem], "Refusal | None"]
_handlers: dict[str, SyncHandler] = {}
_refusals: dict[str, RefusalCheck] = {}


def register_sync_handler(transport: str, handler: SyncHandler, *, refusal: RefusalCheck | None = None) -> None:
    """Make ``handler`` the way customers are sent to systems using ``transport``, guarded by ``refusal``."""
    _handlers[transport] = handler
    if refusal is None:
        _refusals.pop(transport, None)
    else:
        _refusals[transport] = refusal


def sync_refusal(*, external_system: ExternalSystem, transport: str = "") -> Refusal | None:
    """Say why no customer may be sent to the system now, or return None: every way of sending asks this.

    ``transport`` names the connector when a job of one transport runs for the system (a file feed's export).
    """
    transport = transport or external_system.transport
    if not external_system.is_active:
        return Refusal(
            SYSTEM_INACTIVE,
            f"{external_system.name} is switched off, so nothing is sent to it. Switch it on under External systems "
            "if it should receive customers.",
        )
    if transport not in _handlers:
        return Refusal(
            NO_CONNECTOR,
            f"No connector is installed for {external_system.get_transport_display()} ({external_system.name}); "
            "check INSTALLED_APPS.",
        )
    check = _refusals.get(transport)
    return check(external_system) if check is not None else None


def customers_sync_now(
    *, customers: Sequence[Customer], external_system: ExternalSystem, trigger: str, user=None
) -> list[SyncResult]:
    """Attempt each customer now through the system's transport, unless the system refuses; one result each."""
    refusal = sync_refusal(external_system=external_system)
    if refusal is not None:
        return [
            SyncResult(c, ok=False, status="error", message=refusal.message, error_code=refusal.code) for c in customers
        ]
    handler = _handlers[external_system.transport]
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
