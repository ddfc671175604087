"""Admin pages of the NetSuite app: they open, never show secrets, and Test connection says what is wrong."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

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


def _new_token_form(connection, **changes) -> dict:
    expires = timezone.localtime(timezone.now() + timedelta(days=30))
    data = {
        "name": "OMS",
        "connection": connection.pk,
        "expires_at_0": f"{expires:%Y-%m-%d}",
        "expires_at_1": f"{expires:%H:%M:%S}",
        "is_active": "on",
    }
    return {**data, **changes}


def test_new_api_token_is_shown_once_on_its_own_page_never_in_a_cookie_or_log(admin_client, connection, caplog):
    caplog.set_level(logging.DEBUG)
    response = admin_client.post("/admin/netsuite/apitoken/add/", _new_token_form(connection))
    # The answer to the POST itself: no redirect that would carry the token in the messages cookie.
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    raw = response.context["token"]
    assert hash_token(raw) == token.key_hash and token.prefix == raw[:8]
    assert f'value="{raw}"' in response.content.decode()
    assert token.connection == connection
    for morsel in response.cookies.values():
        assert raw not in morsel.value
    assert raw not in caplog.text
    later = admin_client.get(f"/admin/netsuite/apitoken/{token.pk}/change/")
    assert raw not in later.content.decode()
    for morsel in later.cookies.values():
        assert raw not in morsel.value


def test_token_expiry_has_a_default_and_a_maximum(admin_client, connection, settings):
    settings.PORTAL_API_TOKEN_DAYS, settings.PORTAL_API_TOKEN_MAX_DAYS = 30, 60
    page = admin_client.get("/admin/netsuite/apitoken/add/")
    default = page.context["adminform"].form["expires_at"].initial
    default = default() if callable(default) else default
    assert timedelta(days=29) < default - timezone.now() <= timedelta(days=30)
    too_late = timezone.localtime(timezone.now() + timedelta(days=61))
    form = _new_token_form(connection, expires_at_0=f"{too_late:%Y-%m-%d}")
    response = admin_client.post("/admin/netsuite/apitoken/add/", form)
    assert response.status_code == 200 and "60 days at most" in response.content.decode()
    assert not ApiToken.objects.exists()
    form = _new_token_form(connection)
    form.pop("connection")
    assert admin_client.post("/admin/netsuite/apitoken/add/", form).status_code == 200
    assert not ApiToken.objects.exists()


def test_only_who_may_manage_tokens_sees_or_makes_them(operator_client, viewer_client, connection):
    assert viewer_client.get("/admin/netsuite/apitoken/add/").status_code == 403
    assert viewer_client.post("/admin/netsuite/apitoken/add/", _new_token_form(connection)).status_code == 403
    assert not ApiToken.objects.exists()
    assert operator_client.post("/admin/netsuite/apitoken/add/", _new_token_form(connection)).status_code == 200
    assert ApiToken.objects.count() == 1
