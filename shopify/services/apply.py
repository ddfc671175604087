"""Apply Shopify objects to the customer master: the one code path of the webhooks and of reconciliation.

Per object: lock its link (``ShopifyRecord``) → skip it unless it is newer than the change the portal holds
(Shopify's ``updated_at``; a deletion is final) → write the customer, company, location or contact → remember
the ``updated_at`` applied → tell the connectors which customers changed (``customers.dispatch``), so the
NetSuite push sends them once the caller's transaction commits.

Mapping (SPEC section 6): a customer is a person (B2C, B2B once it is a company contact) identified by
SHOPIFY_CUST_ID; a company is a company customer (B2B, SHOPIFY_COMPANY_ID); a location is a sub-customer of its
company (SHOPIFY_COMPANY_LOCATION_ID) with its billing and shipping addresses; a contact is a Contact row of the
company (a buyer) linked to its Shopify customer. A company has no address in Shopify: it carries its oldest
location's billing address, which NetSuite needs to take it as a customer.

A deletion in Shopify deactivates the customer, company or location (links kept, nothing cascades, never a hard
delete); a deleted company contact's Contact row is removed from the company, its person stays.

Writes are set-at-a-time (a batch of reconciliation costs a few queries per kind, not per object) and send no
model signals, hence the explicit ``customers_changed``. Call inside a transaction: the inbox marks its entry
processed in the same one, which makes a webhook's effect happen exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Length
from django.utils import timezone

from customers.dispatch import customers_changed
from customers.errors import ErrorCode
from customers.models import (
    SHOPIFY_CUST_ID,
    Address,
    Contact,
    Customer,
    PartyIdentification,
    new_contact_id,
    new_customer_id,
)
from customers.services import customer_syncs_enable, customers_refresh_validation
from integration_portal.bulk import update_objects

from ..mapping import (
    ACCOUNT_STATES,
    DISABLED,
    SHOPIFY_COMPANY_ID,
    AddressData,
    ContactData,
    CustomerData,
    LocationData,
    ShopifyObject,
)
from ..models import ShopifyConnection, ShopifyRecord

# Error codes of objects the portal could not apply (console/guidance.py says what to do).
COMPANY_UNKNOWN = ErrorCode.SHOPIFY_COMPANY_UNKNOWN
APPLY_FAILED = ErrorCode.SHOPIFY_APPLY_FAILED
UNREADABLE = ErrorCode.SHOPIFY_PAYLOAD_UNREADABLE

BUYER = "Buyer"
CUSTOMER_FIELDS = ("party_type", "segment", "first_name", "last_name", "company_name", "email", "phone",
                   "parent", "is_active", "modified_at")  # fmt: skip
ORDER = {"customer": 0, "company": 1, "location": 2, "contact": 3}


@dataclass
class Failure:
    """An object the portal could not apply, and why."""

    obj: ShopifyObject
    code: str
    message: str


@dataclass
class ApplyResult:
    """What applying a list of objects came to, per object given (objects embedded in them aside)."""

    applied: list[ShopifyObject] = field(default_factory=list)
    stale: list[ShopifyObject] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    changed: set[int] = field(default_factory=set)


def _key(obj: ShopifyObject) -> tuple[str, str]:
    return obj.kind, obj.shopify_id


def _expand(objects: Iterable[ShopifyObject]) -> tuple[list[ShopifyObject], set[tuple[str, str]]]:
    """Return the objects to apply in order (companies a location or contact embeds first), newest per key."""
    given: set[tuple[str, str]] = set()
    newest: dict[tuple[str, str], ShopifyObject] = {}

    def keep(obj: ShopifyObject) -> None:
        held = newest.get(_key(obj))
        if held is None or (obj.updated_at, obj.deleted) >= (held.updated_at, held.deleted):
            newest[_key(obj)] = obj

    for obj in objects:
        given.add(_key(obj))
        embedded = getattr(obj, "company", None)
        if embedded is not None:
            keep(embedded)
        keep(obj)
    return sorted(newest.values(), key=lambda o: (ORDER[o.kind], o.shopify_id)), given


def _is_newer(obj: ShopifyObject, record: ShopifyRecord) -> bool:
    if record.updated_at is None:
        return True
    if record.deleted_at is not None:
        return False  # Shopify never reuses an ID: nothing comes after a deletion
    if obj.deleted:
        return obj.updated_at >= record.updated_at
    return obj.updated_at > record.updated_at


def customer_is_active(*, obj: CustomerData, customer: Customer | None, previous_state: str) -> bool:
    """Whether the portal's customer is active after this change.

    Deleted: inactive. customers/enable and customers/disable say it outright. Otherwise an account that was in
    use (enabled, invited, declined) and becomes disabled deactivates the customer, and one that becomes enabled
    activates it; a customer that never had an account is DISABLED in Shopify yet buys as a guest, so it stays
    active.
    """
    if obj.deleted:
        return False
    if obj.active is not None:
        return obj.active
    if customer is None or customer.pk is None:
        return True
    if obj.state and obj.state != previous_state:
        if obj.state == DISABLED and previous_state in ACCOUNT_STATES:
            return False
        if obj.state == "enabled":
            return True
    return customer.is_active


class _Apply:
    def __init__(self, connection: ShopifyConnection):
        self.connection = connection
        self.now = timezone.now()
        self.result = ApplyResult()
        self.given: set[tuple[str, str]] = set()
        self.records: dict[tuple[str, str], ShopifyRecord] = {}
        self.dirty_records: dict[int, ShopifyRecord] = {}
        self._targets = None

    # -- bookkeeping ------------------------------------------------------------------------------

    def applied(self, obj: ShopifyObject) -> None:
        if _key(obj) in self.given:
            self.result.applied.append(obj)

    def stale(self, obj: ShopifyObject) -> None:
        if _key(obj) in self.given:
            self.result.stale.append(obj)

    def failed(self, obj: ShopifyObject, code: str, message: str) -> None:
        if _key(obj) in self.given:
            self.result.failures.append(Failure(obj, code, message))

    def newer(self, objs: list) -> list:
        """The objects newer than what the portal holds; the others are counted stale."""
        fresh = []
        for obj in objs:
            if _is_newer(obj, self.record(obj)):
                fresh.append(obj)
            else:
                self.stale(obj)
        return fresh

    def company_unknown(self, obj: LocationData | ContactData) -> None:
        what = "Company location" if obj.kind == "location" else "Company contact"
        self.failed(
            obj,
            COMPANY_UNKNOWN,
            f"{what} {obj.shopify_id} belongs to Shopify company {obj.company_id}, which the portal does not hold "
            "yet. Reconcile Shopify (Jobs → Reconcile Shopify), then process this entry again.",
        )

    def record(self, obj: ShopifyObject) -> ShopifyRecord:
        return self.records[_key(obj)]

    def remember(self, obj: ShopifyObject, **values) -> None:
        record = self.record(obj)
        record.updated_at = obj.updated_at
        record.deleted_at = self.now if obj.deleted else None
        for name, value in values.items():
            setattr(record, name, value)
        self.dirty_records[record.pk] = record

    def flush_records(self) -> None:
        """Write the links changed so far (the company-address refresh reads them back)."""
        if self.dirty_records:
            update_objects(
                list(self.dirty_records.values()),
                ["updated_at", "deleted_at", "state", "customer", "contact", "company_shopify_id", "person_shopify_id"],
            )
            self.dirty_records = {}

    @property
    def targets(self):
        if self._targets is None:
            self._targets = list(self.connection.target_systems.all())
        return self._targets

    # -- locking ----------------------------------------------------------------------------------

    def lock(self, keys: Sequence[tuple[str, str]], *, extra: Q | None = None) -> None:
        """Create missing links, then lock every link of the batch (in primary-key order: no deadlock)."""
        ShopifyRecord.objects.bulk_create(
            [ShopifyRecord(connection=self.connection, kind=k, shopify_id=i) for k, i in sorted(keys)],
            ignore_conflicts=True,
            batch_size=500,
        )
        by_kind: dict[str, list[str]] = {}
        for kind, shopify_id in keys:
            by_kind.setdefault(kind, []).append(shopify_id)
        wanted = reduce(or_, (Q(kind=k, shopify_id__in=ids) for k, ids in by_kind.items()))
        if extra is not None:
            wanted |= extra
        for record in ShopifyRecord.objects.select_for_update().filter(wanted).order_by("pk"):
            self.records[(record.kind, record.shopify_id)] = record

    # -- run --------------------------------------------------------------------------------------

    def run(self, objects: Iterable[ShopifyObject]) -> ApplyResult:
        ordered, self.given = _expand(objects)
        if not ordered:
            return self.result
        persons = [o.shopify_id for o in ordered if o.kind == "customer"]
        keys = {_key(o) for o in ordered}
        # A company contact shows its person's name: take the person's link too (creating it waits for a worker
        # that is applying that person right now to commit), so the contact reads the person as committed, and a
        # person applied after it finds the contact's link below.
        keys |= {("customer", o.customer_id) for o in ordered if o.kind == "contact" and o.customer_id}
        # A person's change rewrites the Contact rows that show it: lock those links too.
        self.lock(list(keys), extra=Q(kind="contact", person_shopify_id__in=persons) if persons else None)
        for kind in ("customer", "company", "location"):
            objs = [o for o in ordered if o.kind == kind]
            if objs:
                self.apply_parties(objs)
        contacts = [o for o in ordered if o.kind == "contact"]
        if contacts:
            self.apply_contacts(contacts)
        self.flush_records()
        self.refresh_validation()
        customers_changed(customer_pks=self.result.changed)
        return self.result

    # -- customers, companies and locations: each a Customer row ----------------------------------

    def apply_parties(self, objs: list[ShopifyObject]) -> None:
        fresh = self.newer(objs)
        if not fresh:
            return
        kind = fresh[0].kind
        ident_type = type(fresh[0]).identification
        owners = dict(
            PartyIdentification.objects.filter(type=ident_type, value__in=[o.shopify_id for o in fresh]).values_list(
                "value", "customer_id"
            )
        )
        parents: dict[str, int] = {}
        if kind == "location":
            parents = self.company_pks({o.company_id for o in fresh})
        pks = {o.shopify_id: owners.get(o.shopify_id) or self.record(o).customer_id for o in fresh}
        existing = Customer.objects.in_bulk([pk for pk in pks.values() if pk])
        contact_persons: set[str] = set()
        if kind == "customer":
            contact_persons = set(
                ShopifyRecord.objects.filter(
                    kind="contact", person_shopify_id__in=list(pks), deleted_at__isnull=True
                ).values_list("person_shopify_id", flat=True)
            )
        created: list[tuple[ShopifyObject, Customer]] = []
        updated: list[tuple[ShopifyObject, Customer]] = []
        for obj in fresh:
            customer = existing.get(pks[obj.shopify_id])
            if kind == "location" and obj.company_id not in parents:
                self.company_unknown(obj)
                continue
            if customer is None and obj.deleted:
                # Deleted before the portal ever saw it: remember the deletion so that no late event revives it.
                self.remember(obj, state=getattr(obj, "state", ""))
                self.applied(obj)
                continue
            if customer is None:
                customer = Customer(
                    customer_id=new_customer_id(),
                    payment_term=self.connection.payment_term,
                    price_level=self.connection.price_level,
                    subsidiary=self.connection.subsidiary,
                )
            self.set_fields(obj, customer, parents, obj.shopify_id in contact_persons)
            (updated if customer.pk else created).append((obj, customer))
        if created:
            Customer.objects.bulk_create([c for _, c in created], batch_size=500)
            customer_syncs_enable(customer_pks=[c.pk for _, c in created], external_systems=self.targets)
        if updated:
            update_objects([c for _, c in updated], CUSTOMER_FIELDS)
        done = created + updated
        missing_idents = [(o, c) for o, c in done if o.shopify_id not in owners]
        PartyIdentification.objects.bulk_create(
            [PartyIdentification(customer=c, type=ident_type, value=o.shopify_id) for o, c in missing_idents],
            batch_size=500,
        )
        if kind != "company":
            self.replace_addresses({c.pk: o.addresses for o, c in done if not o.deleted})
        for obj, customer in done:
            self.remember(
                obj,
                customer=customer,
                state=getattr(obj, "state", ""),
                company_shopify_id=getattr(obj, "company_id", ""),
            )
            self.result.changed.add(customer.pk)
            self.applied(obj)
        if kind == "customer":
            self.refresh_contacts({o.shopify_id: c for o, c in done})
        if kind == "location":
            self.refresh_company_addresses({o.company_id for o, _ in done})

    def set_fields(self, obj: ShopifyObject, customer: Customer, parents: dict[str, int], is_contact: bool) -> None:
        customer.modified_at = self.now
        if isinstance(obj, CustomerData):
            customer.is_active = customer_is_active(obj=obj, customer=customer, previous_state=self.record(obj).state)
            if customer.pk is None:
                customer.party_type = Customer.PartyType.PERSON
            if is_contact:
                customer.segment = Customer.Segment.B2B
            elif customer.pk is None:
                customer.segment = Customer.Segment.B2C
            customer.first_name, customer.last_name = obj.first_name, obj.last_name
            customer.email, customer.phone = obj.email, obj.phone
            return
        customer.party_type = Customer.PartyType.COMPANY
        customer.segment = Customer.Segment.B2B
        customer.is_active = not obj.deleted
        if obj.name:
            customer.company_name = obj.name
        if isinstance(obj, LocationData):
            customer.parent_id = parents[obj.company_id]
            customer.phone = obj.phone

    def company_pks(self, company_ids: set[str]) -> dict[str, int]:
        return dict(
            PartyIdentification.objects.filter(type=SHOPIFY_COMPANY_ID, value__in=list(company_ids)).values_list(
                "value", "customer_id"
            )
        )

    def replace_addresses(self, wanted: dict[int, Sequence[AddressData]]) -> None:
        """Make each customer's addresses the ones given (left alone when they are already)."""
        if not wanted:
            return
        held: dict[int, list[tuple]] = {pk: [] for pk in wanted}
        for address in Address.objects.filter(customer_id__in=list(wanted)).order_by("id"):
            held[address.customer_id].append(_address_key(address))
        changed = [pk for pk, addresses in wanted.items() if [a.key() for a in addresses] != held[pk]]
        if not changed:
            return
        Address.objects.filter(customer_id__in=changed).delete()
        Address.objects.bulk_create(
            [
                Address(
                    customer_id=pk,
                    label=a.label,
                    line1=a.line1,
                    line2=a.line2,
                    city=a.city,
                    state=a.state,
                    zip=a.zip,
                    country=a.country,
                    is_default_billing=a.default_billing,
                    is_default_shipping=a.default_shipping,
                )
                for pk in changed
                for a in wanted[pk]
            ],
            batch_size=500,
        )
        self.result.changed.update(changed)

    def refresh_company_addresses(self, company_ids: set[str]) -> None:
        """Give each company its first location's billing address (NetSuite needs one on the parent): the oldest
        location it has, the one with the lowest Shopify ID (Shopify's IDs grow), whatever order the webhooks or a
        reconciliation brought them in."""
        self.flush_records()
        companies = self.company_pks(company_ids)
        first_location: dict[str, int] = {}
        for company_id, location_pk in (
            ShopifyRecord.objects.filter(
                kind="location", company_shopify_id__in=list(companies), deleted_at__isnull=True, customer__isnull=False
            )
            .order_by(Length("shopify_id"), "shopify_id")  # numeric order of digit strings
            .values_list("company_shopify_id", "customer_id")
        ):
            first_location.setdefault(company_id, location_pk)
        billing: dict[int, AddressData] = {}
        for address in Address.objects.filter(customer_id__in=list(first_location.values())).order_by("id"):
            if address.customer_id not in billing or address.is_default_billing:
                if address.customer_id in billing and billing[address.customer_id].default_billing:
                    continue
                billing[address.customer_id] = AddressData(
                    label="Billing",
                    line1=address.line1,
                    line2=address.line2,
                    city=address.city,
                    state=address.state,
                    zip=address.zip,
                    country=address.country,
                    default_billing=True,
                    default_shipping=True,
                )
        self.replace_addresses(
            {
                companies[company_id]: [billing[location_pk]]
                for company_id, location_pk in first_location.items()
                if location_pk in billing
            }
        )

    # -- contacts ---------------------------------------------------------------------------------

    def refresh_contacts(self, persons: dict[str, Customer]) -> None:
        """Show a person's new name, email and phone on the Contact rows of the companies it buys for."""
        records = [
            r for r in self.records.values() if r.kind == "contact" and r.person_shopify_id in persons and r.contact_id
        ]
        contacts = Contact.objects.in_bulk([r.contact_id for r in records])
        changed = []
        for record in records:
            contact = contacts.get(record.contact_id)
            if contact is not None and _copy_person(contact, persons[record.person_shopify_id]):
                changed.append(contact)
        if changed:
            update_objects(changed, ["first_name", "last_name", "email", "phone"])
            self.companies_changed({c.customer_id for c in changed})

    def companies_changed(self, company_pks: set[int]) -> None:
        """A company's contacts changed: the company counts as changed (``modified_at``), so the push sends it
        again, and with it its contacts, as NetSuite contact records attached to it."""
        if company_pks:
            Customer.objects.filter(pk__in=company_pks).update(modified_at=self.now)
            self.result.changed.update(company_pks)

    def apply_contacts(self, objs: list[ContactData]) -> None:
        fresh = self.newer(objs)
        if not fresh:
            return
        companies = self.company_pks({o.company_id for o in fresh})
        persons = {
            p.value: p.customer
            for p in PartyIdentification.objects.filter(
                type=SHOPIFY_CUST_ID, value__in=[o.customer_id for o in fresh if o.customer_id]
            ).select_related("customer")
        }
        held = Contact.objects.in_bulk([self.record(o).contact_id for o in fresh if self.record(o).contact_id])
        new, changed, gone = [], [], []
        make_b2b = set()
        touched: set[int] = set()
        for obj in fresh:
            record = self.record(obj)
            contact = held.get(record.contact_id)
            if obj.deleted:
                if contact is not None:
                    gone.append(contact)
                    touched.add(contact.customer_id)
                self.remember(obj, contact=None, company_shopify_id=obj.company_id, person_shopify_id=obj.customer_id)
                self.applied(obj)
                continue
            company_pk = companies.get(obj.company_id)
            if company_pk is None:
                self.company_unknown(obj)
                continue
            if contact is None:
                contact = Contact(customer_id=company_pk, contact_id=new_contact_id(), role=BUYER)
                new.append(contact)
            else:
                changed.append(contact)
                if contact.customer_id != company_pk:
                    touched.add(contact.customer_id)
                    contact.customer_id = company_pk
            person = persons.get(obj.customer_id)
            if person is not None:
                _copy_person(contact, person)
                if person.segment != Customer.Segment.B2B:
                    make_b2b.add(person.pk)
            self.remember(obj, contact=contact, company_shopify_id=obj.company_id, person_shopify_id=obj.customer_id)
            touched.add(company_pk)
            self.applied(obj)
        self.companies_changed(touched)
        if new:
            Contact.objects.bulk_create(new, batch_size=500)
            for record in self.dirty_records.values():
                if record.kind == "contact" and record.contact_id is None and record.contact is not None:
                    record.contact_id = record.contact.pk
        if changed:
            update_objects(changed, ["customer", "first_name", "last_name", "email", "phone"])
        for contact in gone:
            contact.delete()
        if make_b2b:
            # A person who buys for a company is a B2B customer (SPEC section 6).
            Customer.objects.filter(pk__in=make_b2b).update(segment=Customer.Segment.B2B, modified_at=self.now)
            self.result.changed.update(make_b2b)

    # -- validity ---------------------------------------------------------------------------------

    def refresh_validation(self) -> None:
        """Store the changed customers' readiness for each of their connectors."""
        if self.result.changed:
            customers_refresh_validation(customer_pks=self.result.changed)


def _address_key(address: Address) -> tuple:
    return (address.label, address.line1, address.line2, address.city, address.state, address.zip, address.country,
            address.is_default_billing, address.is_default_shipping)  # fmt: skip


def _copy_person(contact: Contact, person: Customer) -> bool:
    values = (person.first_name, person.last_name, person.email, person.phone)
    if (contact.first_name, contact.last_name, contact.email, contact.phone) == values:
        return False
    contact.first_name, contact.last_name, contact.email, contact.phone = values
    return True


def shopify_objects_apply(*, connection: ShopifyConnection, objects: Iterable[ShopifyObject]) -> ApplyResult:
    """Apply Shopify objects (newer than the portal's data only); call inside a transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("shopify_objects_apply must run inside a transaction (it locks the objects' links).")
    return _Apply(connection).run(objects)


__all__ = [
    "APPLY_FAILED",
    "COMPANY_UNKNOWN",
    "UNREADABLE",
    "ApplyResult",
    "Failure",
    "customer_is_active",
    "shopify_objects_apply",
]
