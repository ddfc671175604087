"""Secrets at rest: ciphertext in the database, plain value in Python, rotation, and a clear error."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from integration_portal import secrets
from sftpsync.models import SftpConnection


def stored_column(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM sftpsync_sftpconnection WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_secret_is_ciphertext_at_rest_and_plain_in_python():
    conn = SftpConnection.objects.create(name="s", host="h", username="u", password="hunter2-secret")
    raw = stored_column(conn.pk)
    assert "hunter2" not in raw
    assert raw.startswith("gAAAA")  # a Fernet token: base64 that starts with the version byte
    assert SftpConnection.objects.get(pk=conn.pk).password == "hunter2-secret"


@pytest.mark.django_db
def test_blank_secret_stays_blank():
    conn = SftpConnection.objects.create(name="s", host="h", username="u")
    assert stored_column(conn.pk) == ""
    assert SftpConnection.objects.get(pk=conn.pk).password == ""


@pytest.mark.django_db
def test_key_rotation_reads_old_tokens(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PORTAL_ENCRYPTION_KEY = old
    conn = SftpConnection.objects.create(name="s", host="h", username="u", password="rotate-me")
    settings.PORTAL_ENCRYPTION_KEY = f"{new},{old}"
    assert SftpConnection.objects.get(pk=conn.pk).password == "rotate-me"
    settings.PORTAL_ENCRYPTION_KEY = new
    with pytest.raises(ImproperlyConfigured, match="PORTAL_ENCRYPTION_KEY"):
        SftpConnection.objects.get(pk=conn.pk)


def test_invalid_key_is_explained(settings):
    settings.PORTAL_ENCRYPTION_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured, match=r"Fernet\.generate_key"):
        secrets.encrypt("x")
