"""The orders endpoint: presence of a customer in NetSuite, and ensuring it, with bearer tokens."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from customers.models import CustomerSync, ExternalSystem
from netsuite.models import ApiToken, NetSuiteConnection, hash_token

pytestmark = pytest.mark.django_db

TOKEN = "orders-token-0123456789"


@pytest.fixture
def auth(connection) -> dict:
    ApiToken.objects.create(name="OMS", connection=connection, key_hash=hash_token(TOKEN), prefix=TOKEN[:8])
    return {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


def test_requests_without_a_valid_token_are_refused(client, auth, make_customer):
    customer = make_customer()
    url = f"/api/netsuite/customers/{customer.customer_id}/presence"
    assert client.get(url).status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    ApiToken.objects.update(is_active=False)
    response = client.get(url, **auth)
    assert response.status_code == 401
    assert response.json()["error"] == "UNAUTHORIZED"
    assert client.post(f"/api/netsuite/customers/{customer.customer_id}/ensure").status_code == 401


def test_presence_of_a_customer_not_yet_in_netsuite(client, auth, make_customer):
    customer = make_customer()
    response = client.get(f"/api/netsuite/customers/{customer.customer_id}/presence", **auth)
    assert response.status_code == 200
    assert response.json() == {
        "customerId": customer.customer_id,
        "present": False,
        "internalId": None,
        "status": "pending",
        "message": "",
    }


def test_ensure_pushes_the_customer_then_answers_present(client, auth, make_customer, netsuite_sandbox):
    customer = make_customer()
    response = client.post(f"/api/netsuite/customers/{customer.customer_id}/ensure", **auth)
    assert response.status_code == 200
    data = response.json()
    record = netsuite_sandbox.customers_by_external_id(customer.customer_id)[0]
    assert data["present"] is True
    assert data["internalId"] == record["id"]
    assert data["status"] == "synced"
    # Asked again: already there, nothing sent.
    netsuite_sandbox.reset_stats()
    assert client.post(f"/api/netsuite/customers/{record['id']}/ensure", **auth).json()["present"] is True
    assert netsuite_sandbox.stats["total_requests"] == 0
    assert ApiToken.objects.get().last_used_at is not None


def test_ensure_of_an_invalid_customer_says_why(client, auth, make_customer, netsuite_sandbox):
    customer = make_customer(address=False)
    response = client.post(f"/api/netsuite/customers/{customer.customer_id}/ensure", **auth)
    assert response.status_code == 409
    assert response.json()["present"] is False
    assert "Incomplete address" in response.json()["message"]
    assert CustomerSync.objects.get(customer=customer).status == "error"


def test_unknown_customer_is_404(client, auth):
    response = client.get("/api/netsuite/customers/NOPE/presence", **auth)
    assert response.status_code == 404
    assert response.json()["error"] == "UNKNOWN_CUSTOMER"


@pytest.fixture
def other_connection(netsuite_sandbox) -> NetSuiteConnection:
    system = ExternalSystem.objects.create(
        code="other", name="Other NetSuite", historical_import_completed_at=timezone.now()
    )
    return NetSuiteConnection.objects.create(
        external_system=system,
        account_id="7654321",
        base_url=netsuite_sandbox.base_url,
        consumer_key="k" * 10,
        consumer_secret="s" * 10,
        token_id="t" * 10,
        token_secret="u" * 10,
    )


def test_a_token_answers_for_its_own_connection_only(client, auth, connection, other_connection, make_customer):
    customer = make_customer()
    url = f"/api/netsuite/customers/{customer.customer_id}/presence"
    for own in ("", connection.external_system.code, connection.external_system.name.upper(), connection.account_id):
        assert client.get(url, {"connection": own} if own else {}, **auth).status_code == 200, own
    for other in ("other", other_connection.account_id, "nope", "x" * 10_000):
        response = client.get(url, {"connection": other}, **auth)
        assert response.status_code == 403, other
        assert response.json()["error"] == "WRONG_CONNECTION"
    response = client.post(f"/api/netsuite/customers/{customer.customer_id}/ensure?connection=other", **auth)
    assert response.status_code == 403


def test_an_inactive_connection_refuses(client, auth, connection, make_customer, netsuite_sandbox):
    customer = make_customer()
    connection.is_active = False
    connection.save()
    netsuite_sandbox.reset_stats()
    for method, path in (("get", "presence"), ("post", "ensure")):
        response = getattr(client, method)(f"/api/netsuite/customers/{customer.customer_id}/{path}", **auth)
        assert response.status_code == 403
        assert response.json()["error"] == "CONNECTION_INACTIVE"
    assert netsuite_sandbox.stats["total_requests"] == 0


def test_expired_and_unbound_tokens_are_refused(client, auth, make_customer):
    customer = make_customer()
    url = f"/api/netsuite/customers/{customer.customer_id}/presence"
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(url, **auth)
    assert (response.status_code, response.json()["error"]) == (401, "TOKEN_EXPIRED")
    ApiToken.objects.update(expires_at=timezone.now() + timedelta(days=1), connection=None)
    response = client.get(url, **auth)
    assert (response.status_code, response.json()["error"]) == (401, "TOKEN_UNBOUND")


def test_ensure_goes_through_the_guards_every_send_does(client, auth, connection, make_customer, netsuite_sandbox):
    customer = make_customer()
    system = connection.external_system
    system.historical_import_completed_at = None
    system.save()
    netsuite_sandbox.reset_stats()
    response = client.post(f"/api/netsuite/customers/{customer.customer_id}/ensure", **auth)
    assert response.status_code == 409
    assert "pulled once" in response.json()["message"]
    system.historical_import_completed_at = timezone.now()
    system.save()
    connection.token_secret = ""
    connection.save()
    response = client.post(f"/api/netsuite/customers/{customer.customer_id}/ensure", **auth)
    assert response.status_code == 409
    assert "no credentials" in response.json()["message"]
    assert netsuite_sandbox.stats["total_requests"] == 0
    assert not customer.identifications.exists()


def test_last_used_is_written_at_most_once_a_minute(client, auth, make_customer, django_assert_num_queries):
    customer = make_customer()
    url = f"/api/netsuite/customers/{customer.customer_id}/presence"
    assert client.get(url, **auth).status_code == 200
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    assert client.get(url, **auth).status_code == 200
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(seconds=61))
    assert client.get(url, **auth).status_code == 200
    assert ApiToken.objects.get().last_used_at > first


@pytest.mark.parametrize("bad", ["\x00", "C1\x00"])
def test_nul_bytes_in_api_parameters_are_a_clear_400(client, auth, make_customer, bad):
    customer = make_customer()
    for response in (
        client.get(f"/api/netsuite/customers/{customer.customer_id}/presence?connection=%00", **auth),
        client.get(f"/api/netsuite/customers/{customer.customer_id}/presence", {"connection": bad}, **auth),
        client.get(f"/api/netsuite/customers/{quote(bad)}/presence", **auth),
        client.post(f"/api/netsuite/customers/{quote(bad)}/ensure", **auth),
    ):
        assert response.status_code == 400, response.content
        assert response.json()["error"] == "BAD_REQUEST"
