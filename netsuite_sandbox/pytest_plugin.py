"""Pytest plugin: the `netsuite_sandbox` fixture, one server per session, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import NetSuiteSandbox


@pytest.fixture(scope="session")
def netsuite_sandbox_server() -> Iterator[NetSuiteSandbox]:
    """Start one in-memory sandbox on a free 127.0.0.1 port for the whole session."""
    sandbox = NetSuiteSandbox().start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def netsuite_sandbox(netsuite_sandbox_server: NetSuiteSandbox) -> NetSuiteSandbox:
    """Return the running sandbox, emptied, with faults off and stats and nonces reset."""
    netsuite_sandbox_server.reset()
    return netsuite_sandbox_server
