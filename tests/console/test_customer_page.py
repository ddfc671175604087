"""The customer page and list: "Save and resync" that never loses an edit, RESYNC on the customer admin itself."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from customers.models import Customer, CustomerSync, SyncLog


def change_form_data(client: Client, customer: Customer) -> dict[str, str]:
    """The customer page's form as a browser would post it untouched: every field and inline with its value."""
    response = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert response.status_code == 200
    data: dict[str, str] = {}

    def add(form) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None:
                continue
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            data[form.add_prefix(name)] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = str(value)
        for form in formset.initial_forms:
            add(form)
    return data


def resync_logs(customer: Customer) -> list[SyncLog]:
    return list(SyncLog.objects.filter(customer=customer, trigger=SyncLog.Trigger.RESYNC))


@pytest.mark.django_db
def test_save_and_resync_saves_the_unsaved_edit_first_then_sends(
    operator_client, operator, failed_customer, fake_system
):
    customer, entry = failed_customer()
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    page = operator_client.get(url).content.decode()
    assert f'name="_saveandresync" value="{fake_system.pk}"' in page  # on the External System tab
    assert 'name="_saveandresync" value="all"' in page  # in the submit row
    # Enter in a field submits with the form's first submit button: Save, placed before any "Save and resync".
    assert page.index('class="console-default-submit"') < page.index('name="_saveandresync"')
    assert "Missing price level" in page  # the last error on the External System tab

    data = change_form_data(operator_client, customer)
    data["price_level"] = "Wholesale"  # the fix, typed and not saved yet
    response = operator_client.post(url, {**data, "_saveandresync": str(fake_system.pk)}, follow=True)

    assert response.redirect_chain[-1][0] == url
    text = response.content.decode()
    assert "Your changes to" in text and f"RESYNC of {customer.customer_id} to NetSuite succeeded." in text
    customer.refresh_from_db()
    assert customer.price_level == "Wholesale" and customer.is_valid
    assert CustomerSync.objects.get(customer=customer).status == CustomerSync.Status.SYNCED
    [log] = resync_logs(customer)
    assert (log.outcome, log.created_by) == (SyncLog.Outcome.SUCCESS, operator)
    entry.refresh_from_db()
    assert entry.resolved_at is not None and entry.resolved_by == operator


@pytest.mark.django_db(transaction=True)
def test_save_and_resync_sends_only_after_the_save_is_committed(
    operator_client, failed_customer, fake_system, monkeypatch
):
    """The push's own database connections (request slots, worker threads) must see the edit and be able to
    write: sent from inside the admin's save transaction, on SQLite they waited for its lock until the request
    failed with "database is locked" and the edit was rolled back."""
    import console.services

    customer, _entry = failed_customer()
    seen = []
    resync = console.services.customer_resync

    def committed_first(*, customer, **kwargs):
        seen.append((transaction.get_connection().in_atomic_block, Customer.objects.get(pk=customer.pk).price_level))
        return resync(customer=customer, **kwargs)

    monkeypatch.setattr(console.services, "customer_resync", committed_first)
    data = change_form_data(operator_client, customer)
    data["price_level"] = "Wholesale"
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    text = operator_client.post(url, {**data, "_saveandresync": "all"}, follow=True).content.decode()
    assert seen == [(False, "Wholesale")]
    assert f"RESYNC of {customer.customer_id} to NetSuite succeeded." in text


@pytest.mark.django_db
def test_save_and_resync_with_a_form_error_saves_nothing_sends_nothing_and_shows_the_error(
    operator_client, failed_customer, fake_system
):
    customer, _entry = failed_customer()
    data = change_form_data(operator_client, customer)
    data["price_level"] = "Wholesale"
    data["email"] = "not an email address"
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    response = operator_client.post(url, {**data, "_saveandresync": "all"})
    assert response.status_code == 200  # the form again, with its errors
    text = response.content.decode()
    assert "Enter a valid email address." in text and 'value="Wholesale"' in text  # the edit is still there
    customer.refresh_from_db()
    assert customer.price_level == ""
    assert resync_logs(customer) == []
    assert CustomerSync.objects.get(customer=customer).status == CustomerSync.Status.ERROR


@pytest.mark.django_db
def test_save_and_resync_all_sends_to_each_selected_connector(operator_client, make_customer, fake_system):
    customer = make_customer()
    data = change_form_data(operator_client, customer)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    text = operator_client.post(url, {**data, "_saveandresync": "all"}, follow=True).content.decode()
    assert f"RESYNC of {customer.customer_id} to NetSuite succeeded." in text
    assert len(resync_logs(customer)) == 1


@pytest.mark.django_db
def test_customer_list_resync_goes_through_the_customer_admin(operator_client, failed_customer, fake_system):
    customer, _entry = failed_customer()
    changelist = reverse("admin:customers_customer_changelist")
    page = operator_client.get(changelist).content.decode()
    resync_url = reverse("admin:customers_customer_resync", args=[customer.pk])
    assert resync_url == f"/admin/customers/customer/{customer.pk}/resync/"
    assert f'formaction="{resync_url}" name="resync_system" value="{fake_system.pk}"' in page
    assert "External System Sync Status" in page

    assert operator_client.get(resync_url).status_code == 405  # a resync changes state: POST only
    response = operator_client.post(
        resync_url, {"resync_system": fake_system.pk, "next": changelist + "?q=x"}, follow=True
    )
    assert response.redirect_chain[-1][0] == changelist + "?q=x"
    assert f"RESYNC of {customer.customer_id} to NetSuite failed: Missing price level" in response.content.decode()
    Customer.objects.filter(pk=customer.pk).update(price_level="Wholesale")
    response = operator_client.post(resync_url, {"resync_system": fake_system.pk}, follow=True)
    assert f"RESYNC of {customer.customer_id} to NetSuite succeeded." in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("admin:customers_customer_change", args=[customer.pk])


@pytest.mark.django_db
def test_viewer_sees_no_resync_anywhere_and_cannot_forge_one(viewer_client, failed_customer, fake_system):
    customer, _entry = failed_customer()
    page = viewer_client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert "_saveandresync" not in page and "Save and resync" not in page and "Sync log" in page
    listing = viewer_client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "resync_system" not in listing and customer.customer_id in listing
    resync_url = reverse("admin:customers_customer_resync", args=[customer.pk])
    assert viewer_client.post(resync_url, {"resync_system": fake_system.pk}).status_code == 403
    assert resync_logs(customer) == []


@pytest.mark.django_db
def test_an_editor_without_the_resync_permission_cannot_save_and_resync(client, failed_customer, fake_system):
    from django.contrib.auth.models import Permission, User

    editor = User.objects.create_user("edith", password="pw-for-tests-only", is_staff=True)
    editor.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "change_customer"]))
    client.force_login(editor)
    customer, _entry = failed_customer()
    data = change_form_data(client, customer)
    data["price_level"] = "Wholesale"
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    assert client.post(url, {**data, "_saveandresync": "all"}).status_code == 403
    customer.refresh_from_db()
    assert customer.price_level == "" and resync_logs(customer) == []


@pytest.mark.django_db
def test_a_sub_customers_parent_shows_by_name(operator_client, make_customer):
    parent = make_customer(party_type=Customer.PartyType.COMPANY, company_name="Contoso Apparel", first_name="")
    child = make_customer(parent=parent)
    page = operator_client.get(reverse("admin:customers_customer_change", args=[child.pk])).content.decode()
    assert f'<option value="{parent.pk}" selected>Contoso Apparel ({parent.customer_id})</option>' in page
    found = operator_client.get(
        reverse("admin:autocomplete"),
        {"term": "Contoso", "app_label": "customers", "model_name": "customer", "field_name": "parent"},
    ).json()
    assert found["results"] == [{"id": str(parent.pk), "text": f"Contoso Apparel ({parent.customer_id})"}]
