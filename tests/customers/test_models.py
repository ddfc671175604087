import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from customers import services
from customers.models import NETSUITE_CUSTOMER_ID, Customer, CustomerSync, PartyIdentification


@pytest.mark.django_db
def test_identification_value_is_unique_per_type(make_customer):
    a, b = make_customer(), make_customer()
    PartyIdentification.objects.create(customer=a, type=NETSUITE_CUSTOMER_ID, value="8812")
    with pytest.raises(IntegrityError), transaction.atomic():
        PartyIdentification.objects.create(customer=b, type=NETSUITE_CUSTOMER_ID, value="8812")
    # The same value under another type is someone else's ID and is allowed.
    PartyIdentification.objects.create(customer=b, type="SHOPIFY_CUST_ID", value="8812")


@pytest.mark.django_db
def test_identification_add_is_idempotent_and_refuses_another_customer(make_customer):
    a, b = make_customer(), make_customer()
    first = services.identification_add(customer=a, type=NETSUITE_CUSTOMER_ID, value=" 8812 ")
    assert services.identification_add(customer=a, type=NETSUITE_CUSTOMER_ID, value="8812") == first
    with pytest.raises(services.IdentificationConflict, match=a.customer_id):
        services.identification_add(customer=b, type=NETSUITE_CUSTOMER_ID, value="8812")
    assert PartyIdentification.objects.count() == 1


@pytest.mark.django_db
def test_external_id_binding_is_unique_per_system(make_customer, netsuite_system):
    a, b = make_customer(), make_customer()
    CustomerSync.objects.filter(customer=a).update(external_id="100")
    CustomerSync.objects.filter(customer=b).update(external_id="")  # blank bindings do not collide
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerSync.objects.filter(customer=b).update(external_id="100")


@pytest.mark.django_db
def test_sub_customer_hierarchy(make_customer):
    company = make_customer(party_type=Customer.PartyType.COMPANY, company_name="Contoso", segment="b2b")
    store = make_customer(parent=company, segment="b2b")
    buyer = make_customer(parent=company, segment="b2b")
    assert set(company.sub_customers.all()) == {store, buyer}
    assert store.parent == company
    # A company with sub-customers cannot disappear from under them.
    with pytest.raises(ProtectedError):
        company.delete()


@pytest.mark.django_db
def test_customer_id_follows_netsuite_external_id_rules(make_customer):
    customer = make_customer()
    customer.customer_id = "C 10/42"
    with pytest.raises(ValidationError, match="letters, digits"):
        customer.full_clean()


@pytest.mark.django_db
def test_new_customers_get_a_portal_id():
    a = Customer.objects.create(first_name="A", last_name="B")
    b = Customer.objects.create(first_name="C", last_name="D")
    assert a.customer_id.startswith("C") and a.customer_id != b.customer_id


@pytest.mark.django_db
def test_find_by_portal_id_or_netsuite_id(make_customer):
    a, b = make_customer(), make_customer()
    PartyIdentification.objects.create(customer=b, type=NETSUITE_CUSTOMER_ID, value="8812")
    found = services.customers_find_by_ids(ids=[a.customer_id, "8812", "nope"])
    assert found == {a.customer_id: a, "8812": b}
