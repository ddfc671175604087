"""The orders endpoint: presence of a customer in NetSuite, and ensuring it, with bearer tokens."""

from __future__ import annotations

import pytest

from customers.models import CustomerSync
from netsuite.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db

TOKEN = "orders-token-0123456789"


@pytest.fixture
def auth(connection) -> dict:
    ApiToken.objects.create(name="OMS", key_hash=hash_token(TOKEN), prefix=TOKEN[:8])
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
