"""Admin pages of the NetSuite app: they open, never show secrets, and Test connection says what is wrong."""

from __future__ import annotations

import pytest

from netsuite.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db


def test_pages_open_and_secrets_are_never_rendered(admin_client, connection):
    for url in (
        "/admin/netsuite/netsuiteconnection/",
        "/admin/netsuite/netsuiteconnection/add/",
        f"/admin/netsuite/netsuiteconnection/{connection.pk}/change/",
        "/admin/netsuite/apitoken/",
        "/admin/netsuite/apitoken/add/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        for secret in (connection.consumer_secret, connection.token_secret, connection.token_id):
            assert secret not in response.content.decode()


def test_test_connection_button_reports_success_and_bad_credentials(admin_client, connection):
    url = f"/admin/netsuite/netsuiteconnection/{connection.pk}/test-connection/"
    response = admin_client.post(url, follow=True)
    assert "Connected to NetSuite account" in response.content.decode()
    connection.token_secret = "wrong"
    connection.save()
    text = admin_client.post(url, follow=True).content.decode()
    assert "INVALID_LOGIN" in text
    assert "wrong" not in text.split("INVALID_LOGIN")[0][-400:]


def test_new_api_token_is_shown_once_and_stored_hashed(admin_client):
    response = admin_client.post("/admin/netsuite/apitoken/add/", {"name": "OMS", "is_active": "on"}, follow=True)
    token = ApiToken.objects.get()
    text = response.content.decode()
    raw = text.split("Token for OMS: ")[1].split(" ")[0]
    assert hash_token(raw) == token.key_hash
    assert raw not in admin_client.get(f"/admin/netsuite/apitoken/{token.pk}/change/").content.decode()
