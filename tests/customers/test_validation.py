import pytest

from customers import services
from customers.models import Address, Customer, CustomerSync


def codes(customer, **kwargs) -> list[str]:
    return [p.code for p in services.customer_validate_for_export(customer=customer, **kwargs)]


@pytest.mark.django_db
def test_valid_customer_has_no_problems(make_customer):
    assert codes(make_customer()) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "code", "wording"),
    [
        ({"payment_term": ""}, services.MISSING_PAYMENT_TERM, "Missing payment term"),
        ({"price_level": "  "}, services.MISSING_PRICE_LEVEL, "Missing price level"),
        ({"last_name": ""}, services.MISSING_CUSTOMER_NAME, "Missing customer name"),
        (
            {"party_type": Customer.PartyType.COMPANY, "company_name": ""},
            services.MISSING_CUSTOMER_NAME,
            "Missing customer name",
        ),
    ],
)
def test_each_missing_field_is_its_own_problem(make_customer, fields, code, wording):
    problems = services.customer_validate_for_export(customer=make_customer(**fields))
    assert [p.code for p in problems] == [code]
    assert problems[0].message.startswith(wording)


@pytest.mark.django_db
def test_missing_address_label(make_customer):
    customer = make_customer()
    customer.addresses.update(label="")
    problems = services.customer_validate_for_export(customer=customer)
    assert [p.code for p in problems] == [services.MISSING_ADDRESS_LABEL]
    assert problems[0].message.startswith("Missing address label")


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["city", "state", "zip"])
def test_incomplete_address_names_the_missing_part(make_customer, field):
    customer = make_customer()
    customer.addresses.update(**{field: ""})
    problems = services.customer_validate_for_export(customer=customer)
    assert [p.code for p in problems] == [services.INCOMPLETE_ADDRESS]
    assert problems[0].message.startswith("Incomplete address")
    assert ("ZIP" if field == "zip" else field) in problems[0].message


@pytest.mark.django_db
def test_no_address_at_all_is_an_incomplete_address(make_customer):
    assert codes(make_customer(address=False)) == [services.MISSING_ADDRESS]


@pytest.mark.django_db
def test_connector_not_selected(make_customer, netsuite_system):
    assert codes(make_customer(connector=False)) == [services.CONNECTOR_NOT_SELECTED]
    customer = make_customer()
    CustomerSync.objects.filter(customer=customer).update(enabled=False)
    assert codes(customer) == [services.CONNECTOR_NOT_SELECTED]


@pytest.mark.django_db
def test_connector_is_checked_per_system(make_customer, netsuite_system):
    from customers.models import ExternalSystem

    joor = ExternalSystem.objects.create(code="joor", name="JOOR", kind=ExternalSystem.Kind.JOOR)
    customer = make_customer()
    assert codes(customer, external_system=netsuite_system) == []
    problems = services.customer_validate_for_export(customer=customer, external_system=joor)
    assert [p.code for p in problems] == [services.CONNECTOR_NOT_SELECTED]
    assert "JOOR" in problems[0].message


@pytest.mark.django_db
def test_all_problems_together(make_customer):
    customer = make_customer(payment_term="", price_level="", first_name="", connector=False)
    Address.objects.filter(customer=customer).update(label="", zip="")
    assert sorted(codes(customer)) == sorted(
        [
            services.MISSING_CUSTOMER_NAME,
            services.MISSING_PAYMENT_TERM,
            services.MISSING_PRICE_LEVEL,
            services.MISSING_ADDRESS_LABEL,
            services.INCOMPLETE_ADDRESS,
            services.CONNECTOR_NOT_SELECTED,
        ]
    )


@pytest.mark.django_db
def test_every_address_is_checked(make_customer):
    customer = make_customer()
    Address.objects.create(customer=customer, label="", line1="2 Side St", city="", state="IL", zip="62702")
    messages = [p.message for p in services.customer_validate_for_export(customer=customer)]
    assert messages == ["Missing address label on address 2", "Incomplete address: address 2 has no city"]


@pytest.mark.django_db
def test_in_memory_addresses_and_syncs_need_no_queries(make_customer, netsuite_system, django_assert_num_queries):
    customer = Customer(customer_id="C1", first_name="A", last_name="B", payment_term="Net 30", price_level="Base")
    address = Address(label="Home", city="X", state="Y", zip="1")
    with django_assert_num_queries(0):
        problems = services.customer_validate_for_export(
            customer=customer, addresses=[address], syncs=[CustomerSync(external_system=netsuite_system)]
        )
    assert problems == []


@pytest.mark.django_db
def test_refresh_validation_stores_problems_without_touching_modified_at(make_customer):
    customer = make_customer(price_level="")
    modified = Customer.objects.get(pk=customer.pk).modified_at
    services.customer_refresh_validation(customer=customer)
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.is_valid, stored.problems) == (False, "Missing price level")
    assert stored.modified_at == modified
    Customer.objects.filter(pk=customer.pk).update(price_level="Wholesale")
    services.customer_refresh_validation(customer=Customer.objects.get(pk=customer.pk))
    assert Customer.objects.get(pk=customer.pk).is_valid is True
