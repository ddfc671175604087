"""Links between the portal's customers and other systems: identifications, delete protection, lookups."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from ..models import NETSUITE_CUSTOMER_ID, Customer, CustomerSync, PartyIdentification


class CustomerLinkedError(Exception):
    """Raised when a customer still linked to an external system is about to be deleted."""

    def __init__(self, customer: Customer, links: list[str]):
        self.customer = customer
        self.links = links
        super().__init__(
            f"Customer {customer.customer_id} cannot be deleted while it is linked ({'; '.join(links)}). "
            "Remove the link first (delete the party identification, clear the external ID on the "
            "External System tab, and delete the customer code in the other system), so that no duplicate "
            "customer code appears later."
        )


def customer_links(*, customer: Customer) -> list[str]:
    """Describe each link that protects the customer from deletion."""
    links = [f"identification {i.type} {i.value}" for i in customer.identifications.all()]
    links += [
        f"{s.external_system.name} external ID {s.external_id}"
        for s in customer.syncs.select_related("external_system")
        if s.external_id
    ]
    return links


def customer_delete(*, customer: Customer) -> None:
    """Delete a customer that has no link to an external system."""
    with transaction.atomic():
        links = customer_links(customer=customer)
        if links:
            raise CustomerLinkedError(customer, links)
        customer.delete()


def identification_add(*, customer: Customer, type: str, value: str) -> PartyIdentification:
    """Attach an identification; the same one twice is a no-op, one held by another customer an error."""
    value = value.strip()
    existing = PartyIdentification.objects.filter(type=type, value=value).select_related("customer").first()
    if existing:
        if existing.customer_id != customer.pk:
            raise IdentificationConflict(
                f"{type} {value} already belongs to customer {existing.customer.customer_id}; "
                f"it cannot also be given to {customer.customer_id}."
            )
        return existing
    return PartyIdentification.objects.create(customer=customer, type=type, value=value)


class IdentificationConflict(Exception):
    """Raised when an identification value already belongs to another customer."""


def customers_find_by_ids(*, ids: Iterable[str]) -> dict[str, Customer]:
    """Map each given portal customer ID or NetSuite internal ID to its customer; unknown IDs are absent."""
    wanted = [i.strip() for i in ids if i.strip()]
    found: dict[str, Customer] = {}
    for customer in Customer.objects.filter(customer_id__in=wanted):
        found[customer.customer_id] = customer
    rest = [i for i in wanted if i not in found]
    if rest:
        idents = PartyIdentification.objects.filter(type=NETSUITE_CUSTOMER_ID, value__in=rest).select_related(
            "customer"
        )
        for ident in idents:
            found[ident.value] = ident.customer
        synced = CustomerSync.objects.filter(external_id__in=[i for i in rest if i not in found]).select_related(
            "customer"
        )
        for sync in synced:
            found.setdefault(sync.external_id, sync.customer)
    return found
