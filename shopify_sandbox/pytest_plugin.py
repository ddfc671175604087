"""Pytest plugin: the ``shopify_sandbox`` fixture, one server per session, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import ShopifySandbox


@pytest.fixture(scope="session")
def shopify_sandbox_server() -> Iterator[ShopifySandbox]:
    """Start one sandbox on a free 127.0.0.1 port for the whole session; webhook retries after 0.2 s, 0.4 s…"""
    sandbox = ShopifySandbox(retry_base=0.2).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def shopify_sandbox(shopify_sandbox_server: ShopifySandbox) -> ShopifySandbox:
    """Return the running sandbox, emptied, with every switch off and no subscription."""
    shopify_sandbox_server.reset()
    return shopify_sandbox_server
