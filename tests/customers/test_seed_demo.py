import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from customers.models import Customer, CustomerSync, ExternalSystem
from customers.services import customer_validate_for_export, problems_as_text


@pytest.mark.django_db
def test_seed_demo_makes_realistic_data_and_a_login(tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", customers=300, batch_size=70)
    out = capsys.readouterr().out
    assert "Created 300 demo customers" in out
    login = out.strip().splitlines()[-1]
    username, password = login.removeprefix("Admin login: ").split(" / ")
    assert get_user_model().objects.get(username=username).check_password(password)

    assert Customer.objects.count() == 300
    companies = Customer.objects.filter(party_type=Customer.PartyType.COMPANY)
    assert companies.exists()
    assert Customer.objects.filter(parent__in=companies).exists()
    assert Customer.objects.filter(is_valid=False).exists() and Customer.objects.filter(is_valid=True).exists()
    assert {s.transport for s in ExternalSystem.objects.connectors()} == {"rest", "file"}
    assert CustomerSync.objects.count() == 300


@pytest.mark.django_db
def test_stored_validity_of_bulk_rows_matches_the_validator(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", customers=200)
    for customer in Customer.objects.prefetch_related("addresses", "syncs"):
        problems = customer_validate_for_export(customer=customer)
        assert (customer.is_valid, customer.problems) == (not problems, problems_as_text(problems))


@pytest.mark.django_db
def test_seed_demo_twice_adds_new_ids_and_keeps_the_login(tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", customers=10)
    first_login = capsys.readouterr().out.strip().splitlines()[-1]
    call_command("seed_demo", customers=10)
    second = capsys.readouterr().out
    assert "C0000011 onwards" in second
    assert second.strip().splitlines()[-1] == first_login
    assert Customer.objects.count() == 20
    call_command("seed_demo", customers=10, if_empty=True)
    assert "nothing added" in capsys.readouterr().out
    assert Customer.objects.count() == 20


@pytest.mark.django_db
def test_seed_demo_refuses_nonsense():
    with pytest.raises(CommandError, match="--customers"):
        call_command("seed_demo", customers=-1)


@pytest.mark.django_db
def test_sub_customers_use_their_parent_companys_connector(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", customers=300)
    children = Customer.objects.filter(parent__isnull=False).prefetch_related("syncs", "parent__syncs")
    assert children.exists()
    for child in children:
        assert {s.external_system_id for s in child.syncs.all()} == {
            s.external_system_id for s in child.parent.syncs.all()
        }
