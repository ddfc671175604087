"""Realistic demo customers, generated in bulk: persons, B2B companies with sub-customers, some invalid."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from integration_portal.bulk import db_value, insert_rows

from .models import (
    SHOPIFY_CUST_ID,
    Address,
    Contact,
    Customer,
    CustomerSync,
    ExternalSystem,
    PartyIdentification,
    new_contact_id,
)
from .services import NOT_SELECTED, customer_readiness

FIRST_NAMES = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "Guido",
    "Hedy",
    "Tim",
    "Katherine",
]
LAST_NAMES = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Rossum",
]
COMPANY_WORDS = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Wingtip",
    "Adventure",
    "Alpine",
    "Summit",
    "Harbor",
    "Evergreen",
]
COMPANY_KINDS = ["Outfitters", "Supply", "Trading", "Boutique", "Goods", "Wholesale", "Market", "Apparel"]
CITIES = [
    ("Springfield", "IL", "62701"),
    ("Austin", "TX", "73301"),
    ("Portland", "OR", "97201"),
    ("Brooklyn", "NY", "11201"),
    ("Denver", "CO", "80202"),
    ("Madison", "WI", "53703"),
    ("Savannah", "GA", "31401"),
    ("Boise", "ID", "83702"),
]
STREETS = ["Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Lake", "Hill", "Park", "Market"]
TERMS = ["Net 30", "Net 60", "Due on receipt"]
PRICE_LEVELS = ["Base Price", "Wholesale", "Retail", "Distributor"]
# NetSuite subsidiary names as the sandbox account has them: the export file sends names, not IDs.
SUBSIDIARIES = ["Parent Company", "Honeycomb Mfg.", "Honeycomb Holdings UK"]
SALES_REPS = ["Morgan Lee", "Sam Rivera", "Alex Chen", ""]


@dataclass
class DemoBatch:
    customers: list[Customer] = field(default_factory=list)
    addresses: dict[int, list[Address]] = field(default_factory=dict)
    contacts: dict[int, list[Contact]] = field(default_factory=dict)
    syncs: dict[int, list[CustomerSync]] = field(default_factory=dict)
    idents: dict[int, list[PartyIdentification]] = field(default_factory=dict)


def _address(rng: random.Random, label: str) -> Address:
    city, state, zip_code = rng.choice(CITIES)
    return Address(
        label=label,
        line1=f"{rng.randint(1, 9999)} {rng.choice(STREETS)} St",
        city=city,
        state=state,
        zip=zip_code,
        country="US",
    )


def _flaw(rng: random.Random, customer: Customer, addresses: list[Address]) -> None:
    """Break one required field, as operators meet it in real data."""
    flaw = rng.choice(["price_level", "payment_term", "label", "city", "name"])
    if flaw in ("price_level", "payment_term"):
        setattr(customer, flaw, "")
    elif flaw == "label" and addresses:
        addresses[0].label = ""
    elif flaw == "city" and addresses:
        addresses[-1].city = ""
    elif customer.is_person:
        customer.last_name = ""
    else:
        customer.company_name = ""


def build_batch(
    *, start: int, count: int, systems: list[ExternalSystem], rng: random.Random, invalid_share: float
) -> DemoBatch:
    """Build ``count`` customers numbered from ``start``; companies get sub-customers inside the batch."""
    batch = DemoBatch()
    n = start
    while len(batch.customers) < count:
        is_company = rng.random() < 0.2 and count - len(batch.customers) >= 3
        children = rng.randint(1, 2) if is_company else 0
        parent = _customer(rng, n, is_company=is_company)
        parent_index = len(batch.customers)
        system = rng.choice(systems) if systems else None
        _fill(batch, rng, parent, system, invalid_share, index=parent_index)
        n += 1
        for child_no in range(children):
            child = _customer(rng, n, is_company=False)
            child.segment = Customer.Segment.B2B
            child.company_name = ""
            child.parent = parent  # bound to the parent's pk once the parent is inserted
            # A sub-customer goes to NetSuite through its parent company's connector.
            _fill(batch, rng, child, system, invalid_share, index=len(batch.customers), label=f"Store {child_no + 1}")
            n += 1
    return batch


def _customer(rng: random.Random, n: int, *, is_company: bool) -> Customer:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    customer = Customer(
        customer_id=f"C{n:07d}",
        party_type=Customer.PartyType.COMPANY if is_company else Customer.PartyType.PERSON,
        segment=Customer.Segment.B2B if is_company else Customer.Segment.B2C,
        first_name="" if is_company else first,
        last_name="" if is_company else last,
        company_name=f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}" if is_company else "",
        email=f"{first.lower()}.{last.lower()}{n}@example.com",
        phone=f"+1-555-{n % 10000:04d}",
        payment_term=rng.choice(TERMS),
        price_level=rng.choice(PRICE_LEVELS),
        sales_rep=rng.choice(SALES_REPS),
        subsidiary=rng.choice(SUBSIDIARIES),
    )
    return customer


def _fill(
    batch: DemoBatch,
    rng: random.Random,
    customer: Customer,
    system: ExternalSystem | None,
    invalid_share: float,
    *,
    index: int,
    label: str = "",
) -> None:
    addresses = [_address(rng, label or "Home" if customer.is_person else "Head office")]
    if not customer.is_person or rng.random() < 0.3:
        addresses.append(_address(rng, "Warehouse" if not customer.is_person else "Work"))
    addresses[0].is_default_billing = addresses[-1].is_default_shipping = True
    if rng.random() < invalid_share:
        _flaw(rng, customer, addresses)
    # One connector per customer: the demo's NetSuite account is reached either by REST or by files.
    syncs = [CustomerSync(external_system=system, status=CustomerSync.Status.PENDING)] if system else []
    if rng.random() < 0.05 and syncs:
        syncs[0].enabled = False  # connector not selected: invalid for export
    if customer.segment == Customer.Segment.B2C:
        shopify_id = str(6_000_000_000_000 + int(customer.customer_id[1:]))
        batch.idents[index] = [PartyIdentification(type=SHOPIFY_CUST_ID, value=shopify_id)]
    readiness = customer_readiness(
        customer=customer,
        addresses=addresses,
        syncs=syncs,
        identification_types={i.type for i in batch.idents.get(index, ())},
    )
    customer.is_valid, customer.problems = readiness.is_valid, readiness.problems
    for sync in syncs:
        sync.is_ready, sync.problems, sync.problem_code = readiness.syncs.get(sync.external_system_id, NOT_SELECTED)
    batch.customers.append(customer)
    batch.addresses[index] = addresses
    batch.syncs[index] = syncs
    if not customer.is_person or rng.random() < 0.2:
        batch.contacts[index] = [
            Contact(first_name=rng.choice(FIRST_NAMES), last_name=rng.choice(LAST_NAMES), email=customer.email)
        ]


CUSTOMER_COLUMNS = (
    "customer_id", "party_type", "segment", "first_name", "last_name", "company_name", "email", "phone",
    "payment_term", "price_level", "sales_rep", "subsidiary", "parent_id", "is_active", "export_status",
    "account_source", "is_valid", "problems", "created_at", "modified_at",
)  # fmt: skip


def save_batch(batch: DemoBatch) -> int:
    """Insert a batch with prepared INSERTs; parents go in before their sub-customers."""
    now = db_value(Customer, "created_at", timezone.now())
    by_id: dict[str, int] = {}

    def customer_rows(customers: list[Customer]):
        for c in customers:
            parent_id = by_id[c.parent.customer_id] if c.parent is not None else None
            yield (
                c.customer_id, c.party_type, c.segment, c.first_name, c.last_name, c.company_name, c.email,
                c.phone, c.payment_term, c.price_level, c.sales_rep, c.subsidiary, parent_id, True, "", "",
                c.is_valid, c.problems, now, now,
            )  # fmt: skip

    with transaction.atomic():
        for generation in ([c for c in batch.customers if c.parent is None], [c for c in batch.customers if c.parent]):
            insert_rows(Customer, CUSTOMER_COLUMNS, customer_rows(generation))
            ids = [c.customer_id for c in generation]
            by_id.update(Customer.objects.filter(customer_id__in=ids).values_list("customer_id", "id"))
        pk = [by_id[c.customer_id] for c in batch.customers]
        insert_rows(
            Address,
            ("customer_id", "label", "line1", "line2", "city", "state", "zip", "country",
             "is_default_billing", "is_default_shipping"),
            ((pk[i], a.label, a.line1, "", a.city, a.state, a.zip, a.country, a.is_default_billing,
              a.is_default_shipping) for i, items in batch.addresses.items() for a in items),
        )  # fmt: skip
        insert_rows(
            Contact,
            ("customer_id", "contact_id", "first_name", "last_name", "email", "phone", "role"),
            (
                (pk[i], new_contact_id(), c.first_name, c.last_name, c.email, "", "Buyer")
                for i, items in batch.contacts.items()
                for c in items
            ),
        )
        insert_rows(
            CustomerSync,
            ("customer_id", "external_system_id", "enabled", "status", "external_id", "last_error_code",
             "last_error_message", "is_ready", "problems", "problem_code"),
            ((pk[i], s.external_system_id, s.enabled, s.status, "", "", "", s.is_ready, s.problems, s.problem_code)
             for i, items in batch.syncs.items() for s in items),
        )  # fmt: skip
        insert_rows(
            PartyIdentification,
            ("customer_id", "type", "value", "created_at"),
            ((pk[i], p.type, p.value, now) for i, items in batch.idents.items() for p in items),
        )
    return len(batch.customers)


def seed_customers(
    *,
    total: int,
    systems: list[ExternalSystem],
    start: int = 1,
    batch_size: int = 5000,
    invalid_share: float = 0.12,
    seed: int = 42,
    on_progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Create ``total`` demo customers in batches; return how many were created."""
    rng = random.Random(seed + start)
    created = 0
    for begin, size in _chunks(start, total, batch_size):
        done = save_batch(build_batch(start=begin, count=size, systems=systems, rng=rng, invalid_share=invalid_share))
        created += done
        on_progress(done)
    return created


def _chunks(start: int, total: int, size: int) -> Iterator[tuple[int, int]]:
    n = 0
    while n < total:
        count = min(size, total - n)
        yield start + n, count
        n += count
