"""Secrets at rest: ciphertext in the database, plain value in Python, rotation, and a clear page on a wrong key."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from customers.dispatch import SECRET_UNREADABLE, customers_sync_now, sync_refusal
from integration_portal import secrets
from netsuite.models import NetSuiteConnection
from sftpsync.models import SftpConnection
from tests.conftest import sandbox_connection


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
    unreadable = SftpConnection.objects.get(pk=conn.pk)
    assert isinstance(unreadable.password, secrets.UnreadableSecret)
    assert secrets.unreadable_secrets(unreadable) == ["password"]
    with pytest.raises(ImproperlyConfigured, match="PORTAL_ENCRYPTION_KEY"):
        secrets.secrets_require_readable(unreadable)
    # Saved again untouched, the stored token is kept as it is (nothing lost), not encrypted twice.
    unreadable.save()
    assert stored_column(conn.pk) == str(unreadable.password)
    settings.PORTAL_ENCRYPTION_KEY = old
    assert SftpConnection.objects.get(pk=conn.pk).password == "rotate-me"


@pytest.mark.django_db
def test_the_key_is_never_derived_from_secret_key(settings):
    settings.PORTAL_ENCRYPTION_KEY = Fernet.generate_key().decode()
    conn = SftpConnection.objects.create(name="s", host="h", username="u", password="keep-me-readable")
    settings.SECRET_KEY = "another-secret-key-altogether-0123456789"
    assert SftpConnection.objects.get(pk=conn.pk).password == "keep-me-readable"
    settings.PORTAL_ENCRYPTION_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="make run"):
        secrets.encrypt("x")


def test_invalid_key_is_explained(settings):
    settings.PORTAL_ENCRYPTION_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured, match=r"Fernet\.generate_key"):
        secrets.encrypt("x")


@pytest.fixture
def rest_connection(netsuite_system, netsuite_sandbox, settings):
    settings.PORTAL_ENCRYPTION_KEY = Fernet.generate_key().decode()
    return sandbox_connection(netsuite_system, netsuite_sandbox)


def _connection_form(page) -> dict:
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or name in form.secret_field_names():
            continue
        if isinstance(value, dict):
            import json

            value = json.dumps(value)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = value
    return data


@pytest.mark.django_db
def test_a_wrong_key_gives_a_clear_page_and_the_secret_can_be_entered_again(
    admin_client, rest_connection, settings, make_customer, netsuite_sandbox
):
    settings.PORTAL_ENCRYPTION_KEY = Fernet.generate_key().decode()  # the key the secrets were saved with is gone
    page = admin_client.get(reverse("admin:netsuite_netsuiteconnection_changelist"))
    assert page.status_code == 200
    assert "cannot be decrypted" in page.content.decode() and str(rest_connection) in page.content.decode()
    url = reverse("admin:netsuite_netsuiteconnection_change", args=[rest_connection.pk])
    page = admin_client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    assert "consumer key, consumer secret, token ID and token secret" in text and "Enter them again" in text

    # Nothing is sent with it meanwhile, and the refusal says why.
    customer = make_customer()
    refusal = sync_refusal(external_system=rest_connection.external_system)
    assert refusal is not None and refusal.code == SECRET_UNREADABLE
    (result,) = customers_sync_now(customers=[customer], external_system=rest_connection.external_system, trigger="x")
    assert not result.ok and result.error_code == SECRET_UNREADABLE
    assert netsuite_sandbox.stats["total_requests"] == 0

    # Entering the consumer key only: the others stay as stored (still unreadable), the new one is readable.
    data = {**_connection_form(page), "consumer_key": netsuite_sandbox.consumer_key}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    saved = NetSuiteConnection.objects.get(pk=rest_connection.pk)
    assert saved.consumer_key == netsuite_sandbox.consumer_key
    assert secrets.unreadable_secrets(saved) == ["consumer secret", "token ID", "token secret"]
    data.update(
        consumer_secret=netsuite_sandbox.consumer_secret,
        token_id=netsuite_sandbox.token_id,
        token_secret=netsuite_sandbox.token_secret,
    )
    admin_client.post(url, data)
    saved = NetSuiteConnection.objects.get(pk=rest_connection.pk)
    assert secrets.unreadable_secrets(saved) == [] and saved.token_secret == netsuite_sandbox.token_secret
    assert sync_refusal(external_system=saved.external_system) is None
    assert "cannot be decrypted" not in admin_client.get(url).content.decode()


@pytest.mark.django_db
def test_sftp_connection_pages_and_test_say_which_secret_to_enter_again(admin_client, settings, tmp_path):
    settings.PORTAL_ENCRYPTION_KEY = Fernet.generate_key().decode()
    conn = SftpConnection.objects.create(name="files", host="127.0.0.1", username="u", password="sftp-password-1")
    settings.PORTAL_ENCRYPTION_KEY = Fernet.generate_key().decode()
    for url in (
        reverse("admin:sftpsync_sftpconnection_changelist"),
        reverse("admin:sftpsync_sftpconnection_change", args=[conn.pk]),
    ):
        page = admin_client.get(url)
        assert (
            page.status_code == 200
            and "The stored password of files (u@127.0.0.1:22) cannot be decrypted" in page.content.decode()
        )
    response = admin_client.post(reverse("admin:sftpsync_sftpconnection_test", args=[conn.pk]), follow=True)
    assert "The stored password of files (u@127.0.0.1:22) cannot be decrypted" in response.content.decode()


@pytest.mark.django_db
def test_rotate_secrets_reencrypts_with_the_newest_key_idempotently(settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PORTAL_ENCRYPTION_KEY = old
    a = SftpConnection.objects.create(name="a", host="h", username="u", password="pass-a-123", private_key="key-a-123")
    b = SftpConnection.objects.create(name="b", host="h", username="u", password="pass-b-123")
    settings.PORTAL_ENCRYPTION_KEY = f"{new},{old}"
    call_command("rotate_secrets")
    assert "3 secret(s) re-encrypted with the newest key, 0 already were, 0 unreadable." in capsys.readouterr().out
    settings.PORTAL_ENCRYPTION_KEY = new  # the old key can go now
    assert SftpConnection.objects.get(pk=a.pk).private_key == "key-a-123"
    assert SftpConnection.objects.get(pk=b.pk).password == "pass-b-123"
    before = stored_column(a.pk)
    call_command("rotate_secrets")
    assert "0 secret(s) re-encrypted with the newest key, 3 already were" in capsys.readouterr().out
    assert stored_column(a.pk) == before


@pytest.mark.django_db
def test_rotate_secrets_fails_clearly_on_a_secret_no_key_reads(settings, capsys):
    lost, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PORTAL_ENCRYPTION_KEY = lost
    conn = SftpConnection.objects.create(name="lost", host="h", username="u", password="pass-lost-1")
    settings.PORTAL_ENCRYPTION_KEY = new
    SftpConnection.objects.create(name="fine", host="h", username="u", password="pass-fine-1")
    with pytest.raises(CommandError, match=rf"SFTP connection #{conn.pk} \(password\)"):
        call_command("rotate_secrets")
    assert "1 already were, 1 unreadable" in capsys.readouterr().out
