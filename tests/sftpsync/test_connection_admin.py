"""The SFTP connection admin: Test connection button, host key viewer, write-only secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection as db_connection
from django.test import Client
from django.urls import reverse

from customers.models import ExternalSystem
from sftpsync.models import Feed, SftpConnection
from sftpsync.services_connection import connection_test
from tests.sftpsync.conftest import SftpServerInfo

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    user = User.objects.create_superuser("operator", "operator@example.com", "pw")
    client.force_login(user)
    return client


def _feed(connection: SftpConnection, system: ExternalSystem, kind: str = Feed.Kind.PARTY_IDENT) -> Feed:
    return Feed.objects.create(
        kind=kind, external_system=system, sftp_connection=connection, remote_folder=Feed.DEFAULT_FOLDERS[kind]
    )


def _make_remote_folder(home: Path, relative: str) -> None:
    folder = home / relative
    folder.mkdir(parents=True, exist_ok=True)
    owner = home.stat()
    os.chown(folder, owner.st_uid, owner.st_gid)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_admin_pages_render(admin_client: Client, sftp_connection: SftpConnection) -> None:
    for url in (
        reverse("admin:sftpsync_sftpconnection_changelist"),
        reverse("admin:sftpsync_sftpconnection_add"),
        reverse("admin:sftpsync_sftpconnection_change", args=[sftp_connection.pk]),
    ):
        assert admin_client.get(url).status_code == 200, url


def test_test_button_reports_success_and_feed_folders(
    admin_client: Client, sftp_connection: SftpConnection, sftp_home: Path, netsuite_system: ExternalSystem
) -> None:
    _feed(sftp_connection, netsuite_system)
    _make_remote_folder(sftp_home, "netsuite/customer/import")
    (sftp_home / "netsuite/customer/import/2024-01-01-CustomerExport.csv").write_text("partyId\n")
    response = admin_client.post(reverse("admin:sftpsync_sftpconnection_test", args=[sftp_connection.pk]), follow=True)
    [message] = _messages(response)
    assert message.startswith(f"Connected to 127.0.0.1 as {sftp_connection.username}.")
    assert f"/home/{sftp_connection.username}/netsuite/customer/import (1 waiting)" in message
    sftp_connection.refresh_from_db()
    assert sftp_connection.last_test_ok is True
    assert sftp_connection.last_tested_at is not None
    assert sftp_connection.last_test_message == message


def test_test_button_creates_every_folder_of_both_sides(
    admin_client: Client, sftp_connection: SftpConnection, sftp_home: Path, netsuite_system: ExternalSystem
) -> None:
    for kind in Feed.Kind:
        _feed(sftp_connection, netsuite_system, kind)
    response = admin_client.post(reverse("admin:sftpsync_sftpconnection_test", args=[sftp_connection.pk]), follow=True)
    [message] = _messages(response)
    assert "Created the missing folders" in message
    # HotWax's scripts create none: the archive/, error/ and failed/ their moves and uploads need are made here.
    for folder in (
        "netsuite/customer/export/archive",
        "netsuite/customer/export/error",
        "netsuite/customer/export/failed",
        "netsuite/customer/export/staging",
        "netsuite/customer/import/archive",
        "netsuite/historicalshopifycustomer/csv/failed",
    ):
        assert (sftp_home / folder).is_dir(), folder
    assert SftpConnection.objects.get(pk=sftp_connection.pk).last_test_ok is True


def test_test_button_names_a_folder_it_cannot_create(
    admin_client: Client, sftp_connection: SftpConnection, sftp_home: Path, netsuite_system: ExternalSystem
) -> None:
    _feed(sftp_connection, netsuite_system, Feed.Kind.HISTORICAL)
    (sftp_home / "netsuite").write_text("a file where the folder should be")
    response = admin_client.post(reverse("admin:sftpsync_sftpconnection_test", args=[sftp_connection.pk]), follow=True)
    [message] = _messages(response)
    assert "could not be created" in message
    assert "netsuite/historicalshopifycustomer/csv" in message
    assert SftpConnection.objects.get(pk=sftp_connection.pk).last_test_ok is False


def test_test_button_explains_a_changed_host_key(
    admin_client: Client, sftp_connection: SftpConnection, sftp_server: SftpServerInfo
) -> None:
    SftpConnection.objects.filter(pk=sftp_connection.pk).update(
        host_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    )
    response = admin_client.post(reverse("admin:sftpsync_sftpconnection_test", args=[sftp_connection.pk]), follow=True)
    [message] = _messages(response)
    assert message.startswith("Connection Test SFTP failed.")
    assert "not the configured one" in message
    assert "error" in response.content.decode()  # shown as an error message
    sftp_connection.refresh_from_db()
    assert sftp_connection.last_test_ok is False
    assert sftp_connection.host_key.endswith("GKJl")  # nothing was trusted automatically


def test_test_button_explains_an_auth_failure(admin_client: Client, sftp_connection: SftpConnection) -> None:
    SftpConnection.objects.filter(pk=sftp_connection.pk).update(username="nobody")
    response = admin_client.post(reverse("admin:sftpsync_sftpconnection_test", args=[sftp_connection.pk]), follow=True)
    [message] = _messages(response)
    assert "refused the private key for 'nobody'" in message


def test_test_button_works_for_a_local_folder(admin_client: Client, local_connection: SftpConnection) -> None:
    response = admin_client.post(reverse("admin:sftpsync_sftpconnection_test", args=[local_connection.pk]), follow=True)
    assert _messages(response) == ["Connected to the local folder as demo. No feed uses this connection yet."]


def test_get_on_the_test_url_tests_nothing(admin_client: Client, sftp_connection: SftpConnection) -> None:
    response = admin_client.get(reverse("admin:sftpsync_sftpconnection_test", args=[sftp_connection.pk]))
    assert response.status_code == 302
    assert SftpConnection.objects.get(pk=sftp_connection.pk).last_tested_at is None


def test_host_key_page_shows_the_key_but_saves_nothing(
    admin_client: Client, sftp_connection: SftpConnection, sftp_server: SftpServerInfo
) -> None:
    SftpConnection.objects.filter(pk=sftp_connection.pk).update(host_key="")
    response = admin_client.get(reverse("admin:sftpsync_sftpconnection_host_key", args=[sftp_connection.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert sftp_server.host_key_line in html
    assert "Nothing has been saved" in html
    assert SftpConnection.objects.get(pk=sftp_connection.pk).host_key == ""


def _form_data(connection: SftpConnection, **changes: object) -> dict[str, object]:
    data = {
        "name": connection.name,
        "transport": connection.transport,
        "username": connection.username,
        "host": connection.host,
        "port": connection.port,
        "host_key": connection.host_key,
        "private_key": "",
        "private_key_passphrase": "",
        "password": "",
        "local_root": connection.local_root,
        "connect_timeout": connection.connect_timeout,
        "keepalive": connection.keepalive,
    }
    data.update(changes)
    return data


def test_secrets_are_write_only(
    admin_client: Client, sftp_connection: SftpConnection, sftp_server: SftpServerInfo
) -> None:
    url = reverse("admin:sftpsync_sftpconnection_change", args=[sftp_connection.pk])
    response = admin_client.post(url, _form_data(sftp_connection, password="s3cret-Pw!"))
    assert response.status_code == 302, response.content.decode()[:2000]

    html = admin_client.get(url).content.decode()
    key_body = sftp_server.private_key.splitlines()[1]
    assert "s3cret-Pw!" not in html
    assert key_body not in html

    # Blank keeps what is stored.
    response = admin_client.post(url, _form_data(sftp_connection, name="Renamed"))
    assert response.status_code == 302
    stored = SftpConnection.objects.get(pk=sftp_connection.pk)
    assert stored.name == "Renamed"
    assert stored.password == "s3cret-Pw!"
    assert stored.private_key == sftp_server.private_key

    # At rest, the columns hold ciphertext only.
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT password, private_key FROM sftpsync_sftpconnection WHERE id = %s", [sftp_connection.pk])
        raw_password, raw_key = cursor.fetchone()
    assert "s3cret-Pw!" not in raw_password
    assert key_body not in raw_key
    assert raw_password.startswith("gAAAA")  # a Fernet token


def test_change_form_rejects_a_malformed_host_key(admin_client: Client, sftp_connection: SftpConnection) -> None:
    url = reverse("admin:sftpsync_sftpconnection_change", args=[sftp_connection.pk])
    response = admin_client.post(url, _form_data(sftp_connection, host_key="ssh-ed25519 not!base64"))
    assert response.status_code == 200
    assert "not a valid public key" in response.content.decode()


def test_connection_test_service_records_the_outcome(local_connection: SftpConnection) -> None:
    ok, message = connection_test(connection=local_connection)
    assert ok
    local_connection.refresh_from_db()
    assert local_connection.last_test_ok is True
    assert local_connection.last_test_message == message
