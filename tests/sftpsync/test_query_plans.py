"""The export's hot statements look customers' identifications up through the index that starts with the customer.

A plan that walks the (type, value) index instead visits every identification of the type for each customer: a
62,579-customer export took 11 min 55 s on SQLite that way. The plans are read from the database itself
(EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL), so a slow plan fails here, not at a customer's.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from customers.models import NETSUITE_CUSTOMER_ID, SHOPIFY_CUST_ID, Customer, CustomerSync, PartyIdentification
from integration_portal.bulk import RowInserter, db_datetime
from sftpsync.models import FeedFile
from sftpsync.services import export

from ..plans import analyze, plan
from .fixtures_jobs import Feeds, file_system_fixture, local_feeds_fixture, make_feeds_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
CUSTOMER_FIRST = "party_ident_customer_type"  # (customer, type)
TYPE_FIRST = "party_ident_type_value_unique"  # (type, value)


def _seed(feeds: Feeds, count: int = 3000) -> FeedFile:
    now = db_datetime(timezone.now())
    RowInserter(Customer, ("customer_id", "first_name", "last_name", "is_valid", "created_at", "modified_at")).insert(
        [(f"Q{n}", "Ada", f"L{n}", True, now, now) for n in range(count)]
    )
    pks = list(Customer.objects.values_list("pk", flat=True))
    CustomerSync.objects.bulk_create(
        CustomerSync(customer_id=pk, external_system=feeds.system, is_ready=True) for pk in pks
    )
    # Shaped like production: most customers have a Shopify ID, some a NetSuite ID.
    idents = [(pk, SHOPIFY_CUST_ID, str(6_000_000_000 + pk), now) for pk in pks]
    idents += [(pk, NETSUITE_CUSTOMER_ID, str(pk), now) for pk in pks[::10]]
    RowInserter(PartyIdentification, ("customer_id", "type", "value", "created_at")).insert(idents)
    if connection.vendor == "postgresql":
        # Autovacuum analyses a loaded table soon; SQLite never has statistics unless asked (Django does not ask),
        # which is when its planner took the (type, value) index.
        analyze(Customer, CustomerSync, PartyIdentification)
    return FeedFile.objects.create(feed=feeds.export, direction="out", file_name="plan.csv")


def _uses_the_customer_index(plan: str) -> None:
    assert CUSTOMER_FIRST in plan, plan
    assert TYPE_FIRST not in plan, plan


def test_the_claim_looks_netsuite_ids_up_by_customer(local_feeds: Feeds) -> None:
    entry = _seed(local_feeds)
    where, params = export._Which(None).where()
    params = [local_feeds.system.pk, True, True, *params, NETSUITE_CUSTOMER_ID]
    statement = export._claim_sql(where, 2)
    _uses_the_customer_index(plan(statement, [20000, 0, entry.pk, 1, entry.pk, 20000, *params, 20000, 2]))
    _uses_the_customer_index(plan(export._count_sql(where), params))


def test_the_read_back_looks_shopify_ids_up_by_customer(local_feeds: Feeds) -> None:
    entry = _seed(local_feeds)
    _uses_the_customer_index(plan(export._claimed_sql(), [SHOPIFY_CUST_ID, entry.pk]))
