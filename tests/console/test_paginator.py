"""The capped changelist count: exact below the cap, "more than" above it."""

import pytest
from django.urls import reverse

from customers.models import Customer
from integration_portal.paginator import CappedCountPaginator


@pytest.mark.django_db
def test_count_stops_at_the_cap(make_customer, monkeypatch):
    for _ in range(5):
        make_customer()
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    capped = CappedCountPaginator(Customer.objects.order_by("pk"), 2)
    assert capped.count == 4 and capped.is_capped and capped.num_pages == 2
    monkeypatch.setattr(CappedCountPaginator, "cap", 10)
    exact = CappedCountPaginator(Customer.objects.order_by("pk"), 2)
    assert exact.count == 5 and not exact.is_capped


@pytest.mark.django_db
def test_changelist_says_more_than_the_cap(admin_client, make_customer, monkeypatch):
    for _ in range(3):
        make_customer()
    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    page = admin_client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "More than 2 customers: use the filters or search to narrow them down." in page


@pytest.mark.django_db
def test_distinct_indexed_values_walks_each_value_once(make_customer):
    from integration_portal.loose_scan import distinct_indexed_values

    for subsidiary in ("US Retail", "", "EU Wholesale", "US Retail", "Parent Company"):
        make_customer(subsidiary=subsidiary)
    assert distinct_indexed_values(Customer, "subsidiary") == ["EU Wholesale", "Parent Company", "US Retail"]
    assert distinct_indexed_values(Customer, "subsidiary", limit=2) == ["EU Wholesale", "Parent Company"]
