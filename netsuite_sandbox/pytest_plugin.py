"""Pytest plugin: the `netsuite_sandbox` fixture, one server per session, reset before every test."""

from __future__ import annotations

import time
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
    """Return the running sandbox, emptied, with faults off and stats and nonces reset.

    Requests an earlier test gave up on may still be running (NetSuite finishes them); they are waited for, so
    that they count in no later test's requests in flight.
    """
    deadline = time.monotonic() + 10
    while netsuite_sandbox_server.stats["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.02)
    netsuite_sandbox_server.reset()
    return netsuite_sandbox_server
