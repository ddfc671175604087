"""Reads the NetSuite jobs, commands, admin and API share."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from customers.errors import ErrorCode, Kind
from customers.models import Customer, CustomerSync, ExternalSystem, PartyIdentification

from .models import NetSuiteConnection, RemoteCustomer

# Failures caused by the customer's own data: sent again only once the customer changes. Any other failure
# (timeouts, limits, server errors, bad answers, credentials, mappings) is tried again by the next run.
WAIT_FOR_CHANGE_CODES = tuple(str(code) for code in ErrorCode if code.kind is Kind.DATA)


class ConnectionNotFound(Exception):
    """No NetSuite REST connection matches what was asked for."""


def connections_active() -> QuerySet[NetSuiteConnection]:
    return (
        NetSuiteConnection.objects.filter(is_active=True, external_system__is_active=True)
        .filter(external_system__transport=ExternalSystem.Transport.REST)
        .select_related("external_system")
        .order_by("pk")
    )


def connection_get(*, name: str | None = None, connection_id: int | None = None) -> NetSuiteConnection:
    """Return one connection by ID, or by its external system's code or name, or the only active one."""
    qs = NetSuiteConnection.objects.select_related("external_system")
    if connection_id is not None:
        found = qs.filter(pk=connection_id).first()
    elif name:
        found = qs.filter(
            Q(external_system__code__iexact=name) | Q(external_system__name__iexact=name) | Q(account_id__iexact=name)
        ).first()
    else:
        active = list(connections_active()[:2])
        if len(active) > 1:
            raise ConnectionNotFound("There are several NetSuite connections: name one with --connection.")
        found = active[0] if active else None
    if found is None:
        what = f"named {name!r}" if name else (f"#{connection_id}" if connection_id else "that is active")
        raise ConnectionNotFound(
            f"No NetSuite REST connection {what}. Add one under NetSuite REST → NetSuite connections."
        )
    return found


def connection_for_system(*, external_system: ExternalSystem) -> NetSuiteConnection | None:
    return NetSuiteConnection.objects.select_related("external_system").filter(external_system=external_system).first()


def pushes_due(*, connection: NetSuiteConnection) -> QuerySet[CustomerSync]:
    """The syncs the scheduled push sends: pending, changed since their last sync, failed for a reason other than
    their own data, or bound with contacts still to send (``contacts_due``). A synced customer whose last change is
    the one a pull wrote from NetSuite is not due: it has nothing of its own to send back (no echo)."""
    changed = (
        Q(status__in=[CustomerSync.Status.PENDING, CustomerSync.Status.NOT_SYNCED])
        | Q(status=CustomerSync.Status.SYNCED, customer__modified_at__gt=F("last_synced_at"))
        | Q(status=CustomerSync.Status.ERROR, customer__modified_at__gt=F("last_attempt_at"))
        | (Q(status=CustomerSync.Status.ERROR) & ~Q(last_error_code__in=WAIT_FOR_CHANGE_CODES))
        | Q(status=CustomerSync.Status.SYNCED, contacts_due=True)
    )
    pulled = RemoteCustomer.objects.filter(
        connection=connection, customer_id=OuterRef("customer_id"), pulled_at__gte=OuterRef("customer__modified_at")
    )
    return (
        CustomerSync.objects.filter(external_system_id=connection.external_system_id, enabled=True)
        .filter(changed)
        .exclude(Q(status=CustomerSync.Status.SYNCED) & Exists(pulled))
    )


def customer_pks_due_for_push(*, connection: NetSuiteConnection) -> list[int]:
    """Return the customers the scheduled push sends (``pushes_due``), oldest change first."""
    return list(
        pushes_due(connection=connection)
        .order_by("customer__modified_at", "customer_id")
        .values_list("customer_id", flat=True)
    )


def remote_customers(*, connection: NetSuiteConnection, customer_pks: list[int]) -> dict[int, RemoteCustomer]:
    """Map customers to what the portal knows of their NetSuite records on this connection."""
    rows = RemoteCustomer.objects.filter(connection=connection, customer_id__in=customer_pks)
    return {row.customer_id: row for row in rows}


def bound_internal_ids(*, external_system: ExternalSystem, customer_pks: list[int]) -> dict[int, str]:
    """Map customers to their NetSuite internal ID: the sync's external ID, else their identification."""
    bound: dict[int, str] = {}
    for pk, value in PartyIdentification.objects.filter(
        customer_id__in=customer_pks, type=external_system.identification_type
    ).values_list("customer_id", "value"):
        bound[pk] = value
    for pk, value in (
        CustomerSync.objects.filter(external_system=external_system, customer_id__in=customer_pks)
        .exclude(external_id="")
        .values_list("customer_id", "external_id")
    ):
        bound[pk] = value
    return bound


def customer_by_any_id(*, value: str) -> Customer | None:
    """Find a customer by portal customer ID, else by NetSuite internal ID."""
    customer = Customer.objects.filter(customer_id=value).first()
    if customer is None:
        ident = PartyIdentification.objects.filter(type="NETSUITE_CUSTOMER_ID", value=value).first()
        customer = ident.customer if ident else None
    return customer
