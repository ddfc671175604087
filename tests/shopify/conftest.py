"""Shopify fixtures: a connection, payload files as Shopify sends them, signed deliveries, and running the tasks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import pydoc
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from customers.models import ExternalSystem
from shopify.models import ShopifyConnection

# The NetSuite REST connection to the NetSuite sandbox that tests/netsuite use (pushes allowed, mapped references).
from tests.netsuite.conftest import _fast_retries, connection  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures"
SHOP = "fixture-store.myshopify.com"
SECRET = "fixture-client-secret"


def payload(name: str) -> bytes:
    """The bytes of a payload fixture, exactly as stored (the HMAC covers the raw body)."""
    return (FIXTURES / name).read_bytes()


def signature(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def shopify_connection(db, netsuite_system: ExternalSystem) -> ShopifyConnection:
    shop = ShopifyConnection.objects.create(
        shop_domain=SHOP,
        client_secret=SECRET,
        access_token="shpat_fixture",
        payment_term="Net 30",
        price_level="Base Price",
        subsidiary="Parent Company",
    )
    shop.target_systems.add(netsuite_system)
    return shop


Deliver = Callable[..., object]


@pytest.fixture
def deliver(client: Client, task_queue, django_capture_on_commit_callbacks) -> Deliver:
    """POST a webhook to the endpoint as Shopify does: raw body, signed, with the documented headers.

    What the endpoint queues after its commit goes to the test's own queue (``run_queued`` runs it).
    """

    def post(
        body: bytes | str,
        topic: str,
        *,
        event_id: str | None = None,
        secret: str = SECRET,
        shop: str = SHOP,
        hmac_header: str | None = None,
    ):
        if isinstance(body, str):
            body = payload(body)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/api/shopify/webhooks",
                data=body,
                content_type="application/json",
                HTTP_X_SHOPIFY_TOPIC=topic,
                HTTP_X_SHOPIFY_HMAC_SHA256=hmac_header if hmac_header is not None else signature(body, secret),
                HTTP_X_SHOPIFY_SHOP_DOMAIN=shop,
                HTTP_X_SHOPIFY_API_VERSION="2025-10",
                HTTP_X_SHOPIFY_WEBHOOK_ID=str(uuid.uuid4()),
                HTTP_X_SHOPIFY_TRIGGERED_AT="2025-03-03T13:00:00.123456Z",
                HTTP_X_SHOPIFY_EVENT_ID=event_id or str(uuid.uuid4()),
            )

    return post


def run_task(task: dict):
    """Run a queued django-q2 task here, as a cluster worker does."""
    func = task["func"] if callable(task["func"]) else pydoc.locate(task["func"])
    assert func is not None, f"{task['func']} is not a function the cluster could run"
    return func(*task["args"], **task["kwargs"])


@pytest.fixture
def run_queued(task_queue, django_capture_on_commit_callbacks) -> Callable[[], list[str]]:
    """Run every queued task (and what they queue in turn) until the queue is empty; return their funcs."""

    def run() -> list[str]:
        ran = []
        for _ in range(20):
            tasks = task_queue.drain()
            if not tasks:
                return ran
            for task in tasks:
                with django_capture_on_commit_callbacks(execute=True):
                    run_task(task)
                ran.append(task["func"])
        return ran

    return run
