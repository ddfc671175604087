"""Orders wait for customers: is a customer in NetSuite, and if not, push it first."""

from __future__ import annotations

from dataclasses import dataclass, replace

from customers.dispatch import customers_sync_now
from customers.models import (
    Customer,
    CustomerSync,
    SyncLog,
)

from .. import selectors
from ..models import NetSuiteConnection


@dataclass(frozen=True)
class Presence:
    """Whether a customer is in NetSuite, as the orders endpoint answers it."""

    customer_id: str
    present: bool
    internal_id: str
    status: str
    message: str = ""

    def as_json(self) -> dict:
        return {
            "customerId": self.customer_id,
            "present": self.present,
            "internalId": self.internal_id or None,
            "status": self.status,
            "message": self.message,
        }


def customer_presence(*, customer: Customer, connection: NetSuiteConnection) -> Presence:
    """Answer whether the customer is linked to a NetSuite internal ID on this connection."""
    system = connection.external_system
    internal_id = selectors.bound_internal_ids(external_system=system, customer_pks=[customer.pk]).get(customer.pk, "")
    sync = CustomerSync.objects.filter(customer=customer, external_system=system).first()
    status = sync.status if sync else CustomerSync.Status.NOT_SYNCED
    message = sync.last_error_message if sync and status == CustomerSync.Status.ERROR else ""
    return Presence(customer.customer_id, bool(internal_id), internal_id, status, message)


def customer_ensure_in_netsuite(*, customer: Customer, connection: NetSuiteConnection, user=None) -> Presence:
    """Make sure the customer (and its parent company) is in NetSuite before an order goes there.

    The push goes through ``customers_sync_now``, so it is refused exactly when a RESYNC would be (connection
    switched off, NetSuite's customers not yet pulled, credentials missing or unreadable); the answer says why.
    """
    presence = customer_presence(customer=customer, connection=connection)
    if presence.present and presence.status == CustomerSync.Status.SYNCED:
        return presence
    (result,) = customers_sync_now(
        customers=[customer], external_system=connection.external_system, trigger=SyncLog.Trigger.ON_DEMAND, user=user
    )
    after = customer_presence(customer=customer, connection=connection)
    if not result.ok and not after.message:
        return replace(after, message=result.message)
    return after
