"""Bulk inserts: plain rows go in with the models' defaults, and nothing is silently shared between rows."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from customers.models import Contact, Customer, CustomerSync, PartyIdentification
from integration_portal.bulk import (
    db_datetime,
    insert_rows,
    select_in,
    update_objects,
    update_rows,
    upsert_rows,
)
from netsuite.models import NetSuiteConnection, RemoteCustomer


@pytest.mark.django_db
def test_rows_get_the_models_defaults_for_columns_not_given():
    now = db_datetime(timezone.now())
    insert_rows(Customer, ("customer_id", "first_name", "created_at", "modified_at"), [("C1", "Ada", now, now)])
    customer = Customer.objects.get(customer_id="C1")
    assert (customer.first_name, customer.party_type, customer.is_active, customer.is_valid) == (
        "Ada",
        "person",
        True,
        False,
    )


@pytest.mark.django_db
def test_a_per_row_default_must_be_given():
    with pytest.raises(ValueError, match="customer_id"):
        insert_rows(Customer, ("first_name",), [("Ada",)])


@pytest.mark.django_db
def test_on_conflict_ignore_skips_duplicates(make_customer):
    customer = make_customer()
    now = db_datetime(timezone.now())
    row = (customer.pk, "NETSUITE_CUSTOMER_ID", "8812", now)
    columns = ("customer_id", "type", "value", "created_at")
    insert_rows(PartyIdentification, columns, [row])
    insert_rows(PartyIdentification, columns, [row, row], on_conflict_ignore=True)
    assert PartyIdentification.objects.count() == 1


@pytest.mark.django_db
def test_select_in_chunks_long_lists(make_customer):
    ids = [make_customer().customer_id for _ in range(3)]
    wanted = ids + [f"missing-{n}" for n in range(2000)]
    found = select_in("SELECT customer_id FROM customers_customer WHERE customer_id IN ({into})", wanted)
    assert sorted(r[0] for r in found) == sorted(ids)


@pytest.mark.django_db
def test_select_in_takes_numbers_and_extra_parameters(make_customer):
    a, b = make_customer(), make_customer()
    found = select_in(
        "SELECT id FROM customers_customer WHERE first_name = %s AND id IN ({into})",
        [a.pk, b.pk, 10**9],
        ["Ada"],
    )
    assert sorted(r[0] for r in found) == sorted([a.pk, b.pk])


@pytest.mark.django_db
def test_a_unique_violation_in_a_bulk_insert_is_djangos_integrity_error(make_customer):
    customer = make_customer()
    PartyIdentification.objects.create(customer=customer, type="NETSUITE_CUSTOMER_ID", value="77")
    row = (customer.pk, "NETSUITE_CUSTOMER_ID", "77", timezone.now())
    # PostgreSQL copies through the raw psycopg cursor: its UniqueViolation must still reach callers as Django's.
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(PartyIdentification, ("customer_id", "type", "value", "created_at"), [row])


@pytest.mark.django_db
def test_update_and_upsert_rows_write_many_rows_in_few_statements(make_customer):
    customers = [make_customer() for _ in range(3)]
    update_rows(Customer, ["email"], [(c.pk, f"u{c.pk}@example.com") for c in customers])
    assert sorted(Customer.objects.values_list("email", flat=True)) == sorted(f"u{c.pk}@example.com" for c in customers)

    system = customers[0].syncs.get().external_system
    conn = NetSuiteConnection.objects.create(external_system=system, account_id="1")
    columns = ("connection_id", "customer_id", "internal_id", "external_id")
    upsert_rows(RemoteCustomer, columns, [(conn.pk, c.pk, "1", "A") for c in customers],
                unique=("connection_id", "customer_id"), update=("internal_id",))  # fmt: skip
    upsert_rows(RemoteCustomer, columns, [(conn.pk, customers[0].pk, "2", "B")],
                unique=("connection_id", "customer_id"), update=("internal_id",))  # fmt: skip
    first = RemoteCustomer.objects.get(customer=customers[0])
    assert (first.internal_id, first.external_id) == ("2", "A")
    assert RemoteCustomer.objects.count() == 3


@pytest.mark.django_db
def test_update_objects_saves_the_fields_given_as_bulk_update_would(make_customer):
    """Only the fields named change; booleans, dates and nulls round-trip; a related object saved after it was
    assigned is written by its new primary key; the first instance of a record given wins (as in bulk_update);
    what bulk_update refuses or resolves (unsaved objects, primary keys, expressions) is refused."""
    first, second = make_customer(), make_customer()
    syncs = list(CustomerSync.objects.filter(customer__in=[first, second]).order_by("pk"))
    when = timezone.now().replace(microsecond=0)
    for n, sync in enumerate(syncs):
        sync.is_ready, sync.problems, sync.last_synced_at, sync.external_id = bool(n), f"problem {n}", when, "not me"
    syncs[1].last_synced_at = None
    update_objects(syncs, ["is_ready", "problems", "last_synced_at"])
    stored = list(CustomerSync.objects.filter(pk__in=[s.pk for s in syncs]).order_by("pk"))
    assert [(s.is_ready, s.problems, s.last_synced_at, s.external_id) for s in stored] == [
        (False, "problem 0", when, ""),
        (True, "problem 1", None, ""),
    ]

    contact = Contact.objects.create(customer=first, contact_id="C-1", first_name="Ada")
    company = Customer(customer_id="NEW-CO", party_type=Customer.PartyType.COMPANY, company_name="New Co")
    contact.customer, contact.first_name = company, "Grace"
    company.save()  # after it was assigned, as the Shopify apply does with customers it creates
    again = Contact.objects.get(pk=contact.pk)
    again.first_name = "Earlier"
    update_objects([contact, again], ["customer", "first_name"])
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.customer_id, stored.first_name) == (company.pk, "Grace")

    contact.last_name = F("first_name")
    for objs, fields in (([contact], ["last_name"]), ([Contact(customer=first)], ["first_name"]), ([contact], ["id"])):
        with pytest.raises(ValueError):
            update_objects(objs, fields)
    assert Contact.objects.get(pk=contact.pk).last_name == ""
