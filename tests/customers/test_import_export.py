"""Operators' spreadsheets: export customers, edit, import with preview, and nothing is duplicated."""

import csv
import io

import pytest
import tablib
from django.urls import reverse

from customers.models import Customer
from customers.resources import CustomerResource


@pytest.mark.django_db
def test_round_trip_updates_the_same_customers(make_customer):
    company = make_customer(party_type="company", company_name="Contoso", segment="b2b")
    make_customer(parent=company, segment="b2b", first_name="Store")
    exported = CustomerResource().export()
    assert exported.headers[0] == "customer_id"
    rows = exported.dict
    for row in rows:
        row["price_level"] = "Wholesale"
    sheet = tablib.Dataset(headers=exported.headers)
    for row in rows:
        sheet.append([row[h] for h in exported.headers])
    result = CustomerResource().import_data(sheet, dry_run=False, raise_errors=True)
    assert not result.has_errors()
    assert Customer.objects.count() == 2
    assert set(Customer.objects.values_list("price_level", flat=True)) == {"Wholesale"}
    child = Customer.objects.get(first_name="Store")
    assert child.parent == company


@pytest.mark.django_db
def test_import_new_customer_is_validated(make_customer):
    sheet = tablib.Dataset(headers=["customer_id", "first_name", "last_name", "payment_term", "price_level"])
    sheet.append(["C-NEW-1", "Grace", "Hopper", "Net 30", ""])
    result = CustomerResource().import_data(sheet, dry_run=False, raise_errors=True)
    assert result.totals["new"] == 1
    customer = Customer.objects.get(customer_id="C-NEW-1")
    assert customer.is_valid is False
    assert "Missing price level" in customer.problems


@pytest.mark.django_db
def test_bad_row_is_reported_and_others_go_in():
    sheet = tablib.Dataset(headers=["customer_id", "first_name", "last_name"])
    sheet.append(["C-OK", "Grace", "Hopper"])
    sheet.append(["C BAD/ID", "Alan", "Turing"])
    result = CustomerResource().import_data(sheet, dry_run=True)
    assert result.has_validation_errors()
    assert [row.number for row in result.invalid_rows] == [2]
    assert "letters, digits" in str(result.invalid_rows[0].error_dict)


@pytest.mark.django_db
def test_admin_import_shows_preview_before_confirming(admin_client):
    csv_text = "customer_id,first_name,last_name\r\nC-PREV-1,Ada,Lovelace\r\n"
    upload = io.BytesIO(csv_text.encode())
    upload.name = "customers.csv"
    response = admin_client.post(
        reverse("admin:customers_customer_import"),
        {"resource": "0", "format": "0", "import_file": upload},
    )
    assert response.status_code == 200
    assert "C-PREV-1" in response.content.decode()
    assert not Customer.objects.filter(customer_id="C-PREV-1").exists()  # preview only
    confirm = response.context["confirm_form"]
    data = {name: confirm[name].value() for name in confirm.fields}
    admin_client.post(reverse("admin:customers_customer_process_import"), data)
    assert Customer.objects.filter(customer_id="C-PREV-1").exists()


FORMULAE = ["=1+1", "==cmd", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "\tx", "\r=x"]


@pytest.mark.django_db
def test_every_exported_column_goes_through_the_spreadsheet_rule(admin_client, make_customer):
    for value in FORMULAE:
        make_customer(first_name=value, last_name=value, company_name=value, sales_rep=value, subsidiary=value)
    make_customer(first_name="Phone", phone="+1-555-0100", sales_rep="-12.5")
    response = admin_client.post(
        reverse("admin:customers_customer_export"),
        {"format": "0", "resource": "0", **{f"customerresource_{f}": "on" for f in CustomerResource._meta.fields}},
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    exported = {row["first_name"]: row for row in rows}
    for value in FORMULAE:
        row = exported["'" + value]
        for column in ("last_name", "company_name", "sales_rep", "subsidiary"):
            assert row[column] == "'" + value, (column, value)
    # Phone numbers and negative numbers are data, written as they are.
    assert (exported["Phone"]["phone"], exported["Phone"]["sales_rep"]) == ("+1-555-0100", "-12.5")


@pytest.fixture
def operator_without_add(db):
    from django.contrib.auth.models import Group, User

    from console.roles import OPERATOR, roles_ensure

    roles_ensure()
    user = User.objects.create_user("olivia", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATOR))
    assert user.has_perm("customers.change_customer") and not user.has_perm("customers.add_customer")
    return user


def _import(client, csv_text: str):
    upload = io.BytesIO(csv_text.encode())
    upload.name = "customers.csv"
    return client.post(
        reverse("admin:customers_customer_import"), {"resource": "0", "format": "0", "import_file": upload}
    )


@pytest.mark.django_db
def test_an_operator_without_the_add_permission_cannot_create_customers_by_import(
    client, operator_without_add, make_customer
):
    existing = make_customer()
    client.force_login(operator_without_add)
    response = _import(client, f"customer_id,first_name,last_name\r\n{existing.customer_id},Changed,Name\r\n")
    assert response.status_code == 200 and "confirm_form" in response.context
    confirm = response.context["confirm_form"]
    client.post(
        reverse("admin:customers_customer_process_import"), {name: confirm[name].value() for name in confirm.fields}
    )
    assert Customer.objects.get(pk=existing.pk).first_name == "Changed"  # changing existing customers is allowed

    response = _import(client, "customer_id,first_name,last_name\r\nC-NOT-ALLOWED,Eve,Intruder\r\n")
    assert response.status_code == 200
    assert "You may not create new customers" in response.content.decode()
    assert response.context.get("confirm_form") is None  # nothing to confirm
    assert not Customer.objects.filter(customer_id="C-NOT-ALLOWED").exists()
