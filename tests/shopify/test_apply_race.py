"""Two workers applying a person and its company contact at the same moment (PostgreSQL: real concurrent writers)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from customers.models import Contact
from shopify.mapping import objects_from_webhook
from shopify.services import shopify_objects_apply

from .conftest import payload


def objects(name: str, topic: str) -> list:
    return objects_from_webhook(topic, payload(name).decode())


def apply(shopify_connection, objs: list) -> None:
    with transaction.atomic():  # as the cluster's task applies an inbox entry
        shopify_objects_apply(connection=shopify_connection, objects=objs)


@pytest.mark.django_db(transaction=True)
def test_a_contact_applied_while_its_person_is_being_applied_shows_the_person(shopify_connection):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer: the two workers cannot overlap")
    apply(shopify_connection, objects("companies-create.json", "companies/create"))
    person = objects("customers-create-buyer-claire.json", "customers/create")
    contact = objects("company-contacts-create-claire.json", "company_contacts/create")
    person_applied, release, contact_applied = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def worker(body) -> None:
        try:
            body()
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            connection.close()

    def apply_person() -> None:
        with transaction.atomic():
            shopify_objects_apply(connection=shopify_connection, objects=person)
            person_applied.set()
            release.wait(10)  # not committed yet while the contact is applied

    def apply_contact() -> None:
        apply(shopify_connection, contact)
        contact_applied.set()

    first = threading.Thread(target=worker, args=(apply_person,))
    first.start()
    assert person_applied.wait(10)
    second = threading.Thread(target=worker, args=(apply_contact,))
    second.start()
    # The contact waits for the person's worker to commit, rather than reading the person as absent.
    assert not contact_applied.wait(1.0)
    release.set()
    first.join(10)
    second.join(10)
    assert not errors, errors
    claire = Contact.objects.get()
    assert (claire.first_name, claire.email) == ("Claire", "claire@mapleleaf.example")
