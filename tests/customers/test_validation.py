import pytest

from customers import services
from customers.errors import ErrorCode
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
        ({"payment_term": ""}, ErrorCode.MISSING_PAYMENT_TERM, "Missing payment term"),
        ({"price_level": "  "}, ErrorCode.MISSING_PRICE_LEVEL, "Missing price level"),
        ({"last_name": ""}, ErrorCode.MISSING_CUSTOMER_NAME, "Missing customer name"),
        (
            {"party_type": Customer.PartyType.COMPANY, "company_name": ""},
            ErrorCode.MISSING_CUSTOMER_NAME,
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
    assert [p.code for p in problems] == [ErrorCode.MISSING_ADDRESS_LABEL]
    assert problems[0].message.startswith("Missing address label")


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["city", "state", "zip"])
def test_incomplete_address_names_the_missing_part(make_customer, field):
    customer = make_customer()
    customer.addresses.update(**{field: ""})
    problems = services.customer_validate_for_export(customer=customer)
    assert [p.code for p in problems] == [ErrorCode.INCOMPLETE_ADDRESS]
    assert problems[0].message.startswith("Incomplete address")
    assert ("ZIP" if field == "zip" else field) in problems[0].message


@pytest.mark.django_db
def test_no_address_at_all_is_an_incomplete_address(make_customer):
    assert codes(make_customer(address=False)) == [ErrorCode.MISSING_ADDRESS]


@pytest.mark.django_db
def test_connector_not_selected(make_customer, netsuite_system):
    assert codes(make_customer(connector=False)) == [ErrorCode.CONNECTOR_NOT_SELECTED]
    customer = make_customer()
    CustomerSync.objects.filter(customer=customer).update(enabled=False)
    assert codes(customer) == [ErrorCode.CONNECTOR_NOT_SELECTED]


@pytest.mark.django_db
def test_connector_is_checked_per_system(make_customer, netsuite_system):
    from customers.models import ExternalSystem

    joor = ExternalSystem.objects.create(code="joor", name="JOOR", kind=ExternalSystem.Kind.JOOR)
    customer = make_customer()
    assert codes(customer, external_system=netsuite_system) == []
    problems = services.customer_validate_for_export(customer=customer, external_system=joor)
    assert [p.code for p in problems] == [ErrorCode.CONNECTOR_NOT_SELECTED]
    assert "JOOR" in problems[0].message


@pytest.mark.django_db
def test_all_problems_together(make_customer):
    customer = make_customer(payment_term="", price_level="", first_name="", connector=False)
    Address.objects.filter(customer=customer).update(label="", zip="")
    assert sorted(codes(customer)) == sorted(
        [
            ErrorCode.MISSING_CUSTOMER_NAME,
            ErrorCode.MISSING_PAYMENT_TERM,
            ErrorCode.MISSING_PRICE_LEVEL,
            ErrorCode.MISSING_ADDRESS_LABEL,
            ErrorCode.INCOMPLETE_ADDRESS,
            ErrorCode.CONNECTOR_NOT_SELECTED,
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


@pytest.fixture
def file_system(db):
    from customers.models import ExternalSystem

    return ExternalSystem.objects.create(
        code="netsuite-files", name="NetSuite (files)", transport=ExternalSystem.Transport.FILE
    )


def with_shopify_id(customer):
    from customers.models import SHOPIFY_CUST_ID, PartyIdentification

    PartyIdentification.objects.create(customer=customer, type=SHOPIFY_CUST_ID, value=f"6{customer.pk:012d}")
    return customer


@pytest.mark.django_db
def test_the_file_connector_needs_a_person_with_email_and_shopify_id_not_terms_or_addresses(make_customer, file_system):
    # HotWax's file carries none of payment term, price level or addresses, so it does not need them.
    person = with_shopify_id(make_customer(payment_term="", price_level="", address=False))
    assert codes(person, external_system=file_system)[1:] == []  # only: not selected for it
    assert codes(make_customer(email=""), external_system=file_system)[1:] == [
        ErrorCode.MISSING_EMAIL,
        ErrorCode.MISSING_SHOPIFY_ID,
    ]
    company = make_customer(party_type=Customer.PartyType.COMPANY, company_name="Acme")
    assert codes(company, external_system=file_system)[1:] == [ErrorCode.COMPANY_NOT_SUPPORTED]


@pytest.mark.django_db
def test_readiness_is_stored_per_connector_and_named_when_there_are_several(
    make_customer, netsuite_system, file_system
):
    customer = make_customer(price_level="")
    CustomerSync.objects.create(customer=customer, external_system=file_system)
    services.customer_refresh_validation(customer=customer)

    rest = CustomerSync.objects.get(customer=customer, external_system=netsuite_system)
    files = CustomerSync.objects.get(customer=customer, external_system=file_system)
    assert (rest.is_ready, rest.problem_code, rest.problems) == (False, "MISSING_PRICE_LEVEL", "Missing price level")
    assert (files.is_ready, files.problem_code) == (False, "MISSING_SHOPIFY_ID")
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.is_valid is False
    assert stored.problems.splitlines()[0] == "NetSuite: Missing price level"
    assert stored.problems.splitlines()[1].startswith("NetSuite (files): Missing Shopify customer ID")

    with_shopify_id(customer)
    Customer.objects.filter(pk=customer.pk).update(price_level="Wholesale")
    services.customer_refresh_validation(customer=Customer.objects.get(pk=customer.pk))
    assert set(CustomerSync.objects.values_list("is_ready", "problems")) == {(True, "")}
    assert Customer.objects.get(pk=customer.pk).is_valid is True


@pytest.mark.django_db
def test_the_file_connector_refuses_names_netsuite_would_cut(make_customer, file_system):
    customer = with_shopify_id(make_customer(first_name="A" * 33))
    problems = services.customer_validate_for_export(customer=customer, external_system=file_system)
    assert [p.code for p in problems][1:] == [ErrorCode.NAME_TOO_LONG]
    assert "first name is longer than NetSuite's 32 characters" in problems[1].message
    customer.first_name = "A" * 32
    assert codes(customer, external_system=file_system)[1:] == []
