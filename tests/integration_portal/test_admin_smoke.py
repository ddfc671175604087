"""Every registered admin page loads: changelist, add and change (as django-q2's test_admin does)."""

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from customers.models import NETSUITE_CUSTOMER_ID, Contact, PartyIdentification, SyncLog
from customers.services import attempt_record, customer_attempt


@pytest.fixture
def populated(make_customer, netsuite_system, admin_user):
    """At least one row of every customer-master model, so change pages have something to show."""
    company = make_customer(party_type="company", company_name="Contoso", segment="b2b")
    make_customer(parent=company, segment="b2b")
    Contact.objects.create(customer=company, first_name="Bo", email="bo@example.com")
    PartyIdentification.objects.create(customer=company, type=NETSUITE_CUSTOMER_ID, value="8812")
    attempt_record(
        customer_attempt(
            company, netsuite_system, ok=False, trigger=SyncLog.Trigger.SCHEDULED, operation="rest upsert",
            code="USER_ERROR", message="Missing price level",
        )
    )  # fmt: skip


def admin_urls():
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        yield model, model_admin, f"admin:{opts.app_label}_{opts.model_name}"


@pytest.mark.django_db
def test_every_admin_page_loads(admin_client, populated):
    checked = 0
    for model, _model_admin, prefix in admin_urls():
        changelist = admin_client.get(reverse(f"{prefix}_changelist"))
        assert changelist.status_code == 200, f"{prefix}_changelist: {changelist.status_code}"
        try:
            add = admin_client.get(reverse(f"{prefix}_add"))
        except NoReverseMatch:
            add = None
        if add is not None:
            assert add.status_code in (200, 403), f"{prefix}_add: {add.status_code}"
        obj = model._default_manager.first()
        if obj is not None:
            change = admin_client.get(reverse(f"{prefix}_change", args=[obj.pk]))
            assert change.status_code == 200, f"{prefix}_change: {change.status_code}"
        checked += 1
    assert checked >= 8


@pytest.mark.django_db
def test_customer_page_shows_external_system_tab_and_problems(admin_client, make_customer):
    customer = make_customer(price_level="")
    page = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert "External System" in page
    assert "Missing price level" in page


@pytest.mark.django_db
def test_changelist_shows_sync_status_and_searches_other_systems_ids(admin_client, make_customer):
    a, b = make_customer(), make_customer()
    PartyIdentification.objects.create(customer=b, type="SHOPIFY_CUST_ID", value="6543210000001")
    page = admin_client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "External System Sync Status" in page
    assert "NetSuite: Pending" in page
    found = admin_client.get(reverse("admin:customers_customer_changelist"), {"q": "6543210000001"})
    text = found.content.decode()
    assert b.customer_id in text and a.customer_id not in text


@pytest.mark.django_db
def test_changelist_filters(admin_client, make_customer):
    ok, broken = make_customer(), make_customer(price_level="")
    from customers.services import customer_refresh_validation

    for c in (ok, broken):
        customer_refresh_validation(customer=c)
    page = admin_client.get(reverse("admin:customers_customer_changelist"), {"has_errors": "yes"}).content.decode()
    assert broken.customer_id in page and ok.customer_id not in page
    page = admin_client.get(reverse("admin:customers_customer_changelist"), {"sync_status": "pending"}).content.decode()
    assert ok.customer_id in page


@pytest.mark.django_db
def test_saving_in_admin_refreshes_validation(admin_client, make_customer):
    customer = make_customer()
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "parent"}
    data.update({"price_level": "", "party_type": "person", "segment": "b2c", "is_active": "on"})
    for prefix in ("syncs", "addresses", "contacts", "identifications", "sub_customers"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    customer.refresh_from_db()
    assert customer.is_valid is False and "Missing price level" in customer.problems
