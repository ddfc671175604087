import pytest
from django.db.models import ProtectedError

from customers import services
from customers.models import NETSUITE_CUSTOMER_ID, Customer, CustomerSync, PartyIdentification


@pytest.mark.django_db
def test_unlinked_customer_can_be_deleted(make_customer):
    customer = make_customer()
    services.customer_delete(customer=customer)
    assert not Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db
def test_identification_blocks_delete_and_names_the_link(make_customer):
    customer = make_customer()
    PartyIdentification.objects.create(customer=customer, type=NETSUITE_CUSTOMER_ID, value="8812")
    with pytest.raises(services.CustomerLinkedError) as excinfo:
        services.customer_delete(customer=customer)
    assert "NETSUITE_CUSTOMER_ID 8812" in str(excinfo.value)
    assert "Remove the link first" in str(excinfo.value)
    assert Customer.objects.filter(pk=customer.pk).exists()
    # Even a bare ORM delete cannot drop the identification with the customer.
    with pytest.raises(ProtectedError):
        customer.delete()


@pytest.mark.django_db
def test_external_id_blocks_delete_until_cleared(make_customer, netsuite_system):
    customer = make_customer()
    CustomerSync.objects.filter(customer=customer).update(external_id="8812")
    with pytest.raises(services.CustomerLinkedError, match="NetSuite external ID 8812"):
        services.customer_delete(customer=customer)
    CustomerSync.objects.filter(customer=customer).update(external_id="")
    services.customer_delete(customer=customer)
    assert not Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db
def test_admin_refuses_delete_of_linked_customer(admin_client, make_customer):
    customer = make_customer()
    PartyIdentification.objects.create(customer=customer, type="SHOPIFY_CUST_ID", value="654321")
    url = f"/admin/customers/customer/{customer.pk}/delete/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "cannot be deleted while it is linked" in page.content.decode()
    admin_client.post(url, {"post": "yes"})
    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db
def test_admin_bulk_delete_refuses_while_a_selected_customer_is_linked(admin_client, make_customer):
    linked, free = make_customer(), make_customer()
    PartyIdentification.objects.create(customer=linked, type=NETSUITE_CUSTOMER_ID, value="1")
    page = admin_client.post(
        "/admin/customers/customer/",
        {"action": "delete_selected", "_selected_action": [linked.pk, free.pk], "post": "yes"},
    )
    assert f"Customer {linked.customer_id} cannot be deleted while it is linked" in page.content.decode()
    assert Customer.objects.filter(pk__in=[linked.pk, free.pk]).count() == 2
    admin_client.post(
        "/admin/customers/customer/", {"action": "delete_selected", "_selected_action": [free.pk], "post": "yes"}
    )
    assert not Customer.objects.filter(pk=free.pk).exists()
