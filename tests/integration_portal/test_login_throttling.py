"""Login throttling (django-axes): wrong passwords lock the sign-in; the login page says how long and whom to ask."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password-123"
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user("olivia", password=PASSWORD, is_staff=True, is_superuser=True)


def _login(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def test_the_login_page_states_the_rule(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    page = client.get(LOGIN).content.decode()
    assert "After 5 wrong passwords" in page and "locked for 15 minutes" in page


def test_wrong_passwords_lock_the_sign_in_even_for_the_right_one(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.PORTAL_SUPPORT_CONTACT = "the IT desk (it@example.com)"
    for _ in range(4):
        response = _login(client, "olivia", "wrong")
        assert response.status_code == 200 and "login-lockout" not in response.content.decode()
    locked = _login(client, "olivia", "wrong")
    assert locked.status_code == 429
    response = _login(client, "olivia", PASSWORD)
    assert response.status_code == 429
    text = response.content.decode()
    assert "signing in as olivia from this computer is locked for 15 minutes" in text
    assert "the IT desk (it@example.com)" in text
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still not logged in

    # Someone else at the same computer may still sign in.
    User.objects.create_user("victor", password=PASSWORD, is_staff=True)
    other = Client()
    assert _login(other, "victor", PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(client, staff, settings):
    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        _login(client, "olivia", "wrong")
    assert _login(client, "olivia", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(hours=1))
    assert _login(client, "olivia", PASSWORD).status_code == 302
