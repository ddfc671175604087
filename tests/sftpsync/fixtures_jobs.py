"""Fixtures for the file-job tests: a file-exchange NetSuite system with its three feeds."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from customers.models import ExternalSystem
from netsuite.services import reference_mappings_set
from sftpsync.models import Feed, SftpConnection
from sftpsync.transport import LocalFolderTransport, Transport, transport_for

FIXTURES = Path(__file__).parent / "fixtures"
# The sandbox account's internal IDs (netsuite_sandbox.store), as an operator maps them.
REFERENCES = {
    "subsidiaries": {"Parent Company": "1", "Honeycomb Mfg.": "2", "Honeycomb Holdings UK": "3"},
    "lead_sources": {"Shopify": "7"},
}


class Feeds:
    """The three feeds of one system, and a way to drop files into their folders."""

    def __init__(self, system: ExternalSystem, connection: SftpConnection) -> None:
        self.system = system
        self.connection = connection
        self.feeds = {
            kind: Feed.objects.create(
                kind=kind,
                external_system=system,
                sftp_connection=connection,
                remote_folder=Feed.DEFAULT_FOLDERS[kind],
                default_subsidiary="Parent Company",
                default_account_source="Shopify",
            )
            for kind in Feed.Kind
        }
        reference_mappings_set(external_system=system, mappings=REFERENCES)
        with self.transport() as t:
            for feed in self.feeds.values():
                t.makedirs(feed.folder)

    @property
    def historical(self) -> Feed:
        return self.feeds[Feed.Kind.HISTORICAL]

    @property
    def export(self) -> Feed:
        return self.feeds[Feed.Kind.EXPORT]

    @property
    def party_ident(self) -> Feed:
        return self.feeds[Feed.Kind.PARTY_IDENT]

    def transport(self) -> Transport:
        return transport_for(self.connection)

    def put(self, feed: Feed, name: str, data: bytes | None = None, fixture: str | None = None) -> str:
        """Place a file in the feed's folder on the server; return its remote path."""
        if fixture is not None:
            data = (FIXTURES / fixture).read_bytes()
        with self.transport() as t, t.open_write_atomic(feed.folder, name) as out:
            out.write(data or b"")
        return f"{feed.folder}/{name}"

    def names(self, feed: Feed, sub: str = "") -> list[str]:
        folder = f"{feed.folder}/{sub}" if sub else feed.folder
        with self.transport() as t:
            return [f.name for f in t.list_files(folder)] if t.exists(folder) else []

    def read(self, path: str) -> bytes:
        with self.transport() as t, t.open_read(path) as f:
            return f.read()


@pytest.fixture(name="file_system")
def file_system_fixture(netsuite_system: ExternalSystem) -> ExternalSystem:
    netsuite_system.transport = ExternalSystem.Transport.FILE
    netsuite_system.save()
    return netsuite_system


@pytest.fixture(name="make_feeds")
def make_feeds_fixture(file_system: ExternalSystem) -> Callable[[SftpConnection], Feeds]:
    def make(connection: SftpConnection) -> Feeds:
        return Feeds(file_system, connection)

    return make


@pytest.fixture(name="local_feeds")
def local_feeds_fixture(make_feeds, local_connection: SftpConnection) -> Feeds:
    return make_feeds(local_connection)


def copy_fixture(name: str, to: Path) -> Path:
    target = to / name
    shutil.copy(FIXTURES / name, target)
    return target


# Test modules import the fixtures by these names; pytest knows them by the names given above.
__all__ = [
    "FIXTURES",
    "REFERENCES",
    "Feeds",
    "LocalFolderTransport",
    "copy_fixture",
    "file_system_fixture",
    "local_feeds_fixture",
    "make_feeds_fixture",
]
