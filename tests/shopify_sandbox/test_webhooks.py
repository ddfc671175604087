"""The sandbox's webhook deliveries to a real HTTP receiver: signed, documented headers, retried, switches."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from shopify_app import verify_webhook_req

from shopify_sandbox import ShopifySandbox


class Receiver(ThreadingHTTPServer):
    """Records every POST; answers the statuses queued in ``answers`` (then 200)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            status = self.server.answers.pop(0) if self.server.answers else 200
            self.server.received.append({"headers": dict(self.headers.items()), "body": body, "at": time.monotonic(),
                                         "status": status})  # fmt: skip
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def shop(shopify_sandbox: ShopifySandbox, receiver: Receiver) -> ShopifySandbox:
    for topic in ("CUSTOMERS_CREATE", "CUSTOMERS_UPDATE", "COMPANIES_CREATE", "COMPANY_LOCATIONS_CREATE"):
        assert shopify_sandbox.webhooks.subscribe(topic, {"uri": receiver.url})["userErrors"] == []
    return shopify_sandbox


def wait_received(receiver: Receiver, count: int, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(receiver.received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(receiver.received) >= count, f"{len(receiver.received)} of {count} deliveries arrived"
    return receiver.received


def test_a_delivery_is_signed_and_carries_the_documented_headers(shop, receiver):
    customer = shop.create_customer(**shop.store.fake_person())
    delivery = wait_received(receiver, 1)[0]
    headers = delivery["headers"]
    for name in ("X-Shopify-Topic", "X-Shopify-Hmac-Sha256", "X-Shopify-Shop-Domain", "X-Shopify-API-Version",
                 "X-Shopify-Webhook-Id", "X-Shopify-Triggered-At", "X-Shopify-Event-Id"):  # fmt: skip
        assert headers.get(name), name
    assert headers["X-Shopify-Topic"] == "customers/create"
    verdict = verify_webhook_req(
        {"method": "POST", "headers": headers, "url": receiver.url, "body": delivery["body"].decode()},
        {"client_id": "x", "client_secret": shop.client_secret, "old_client_secret": None},
    )
    assert verdict.ok and verdict.shop == "demo-store"
    payload = json.loads(delivery["body"])
    assert payload["id"] == customer["id"] and payload["admin_graphql_api_id"].endswith(f"/Customer/{customer['id']}")
    assert payload["state"] in ("enabled", "invited", "disabled") and payload["default_address"]["default"] is True


def test_a_failed_delivery_is_retried_with_growing_waits_and_the_same_event(shop, receiver):
    shop.configure(retry_base=0.2)
    receiver.answers = [500, 503]
    shop.create_customer(**shop.store.fake_person())
    received = wait_received(receiver, 3)
    assert [r["status"] for r in received] == [500, 503, 200]
    assert len({r["headers"]["X-Shopify-Event-Id"] for r in received}) == 1
    assert len({r["body"] for r in received}) == 1  # the original payload
    first_wait, second_wait = received[1]["at"] - received[0]["at"], received[2]["at"] - received[1]["at"]
    assert first_wait >= 0.18 and second_wait >= 0.38  # 0.2 s, then 0.4 s


def test_a_subscription_failing_every_retry_is_removed(shop, receiver):
    shop.configure(retry_base=0.005)
    receiver.answers = [500] * 9
    shop.create_customer(**shop.store.fake_person())
    wait_received(receiver, 9)
    shop.wait_for_deliveries(1, outcome="subscription removed")
    assert "CUSTOMERS_CREATE" not in {s["topic"] for s in shop.webhooks.subscriptions()}


def test_duplicates_share_the_event_id(shop, receiver):
    shop.configure(duplicate_rate=1.0)
    shop.create_customer(**shop.store.fake_person())
    received = wait_received(receiver, 2)
    assert received[0]["headers"]["X-Shopify-Event-Id"] == received[1]["headers"]["X-Shopify-Event-Id"]


def test_held_deliveries_are_released_out_of_order(shop, receiver):
    shop.configure(hold=True)
    customer = shop.create_customer(**shop.store.fake_person())
    shop.update_customer(customer["id"], lastName="Later")
    assert receiver.received == [] and shop.webhooks.held() == 2
    assert shop.webhooks.release(order="reverse") == 2
    received = wait_received(receiver, 2)
    assert [r["headers"]["X-Shopify-Topic"] for r in received] == ["customers/update", "customers/create"]


def test_a_dropped_delivery_never_arrives(shop, receiver):
    shop.configure(drop_next=1)
    shop.create_customer(**shop.store.fake_person())
    shop.create_customer(**shop.store.fake_person())
    assert len(wait_received(receiver, 1)) == 1
    time.sleep(0.3)
    assert len(receiver.received) == 1
    assert [d["outcome"] for d in shop.deliveries] == ["dropped", "delivered"]


def test_after_a_rotation_deliveries_may_be_signed_with_the_previous_secret(shop, receiver):
    old = shop.client_secret
    shop.rotate_secret("the-new-secret")
    shop.configure(sign_with_previous=True)
    shop.create_customer(**shop.store.fake_person())
    delivery = wait_received(receiver, 1)[0]
    request = {"method": "POST", "headers": delivery["headers"], "url": receiver.url, "body": delivery["body"].decode()}
    assert not verify_webhook_req(request, {"client_id": "x", "client_secret": "the-new-secret"}).ok
    assert verify_webhook_req(
        request, {"client_id": "x", "client_secret": "the-new-secret", "old_client_secret": old}
    ).ok


def test_a_company_location_embeds_its_company(shop, receiver):
    store = shop.store
    company = store.create_company(**store.fake_company(locations=1, contacts=0))
    received = wait_received(receiver, 2)
    location = json.loads(
        next(r["body"] for r in received if r["headers"]["X-Shopify-Topic"] == "company_locations/create")
    )
    assert location["company"]["admin_graphql_api_id"] == f"gid://shopify/Company/{company['id']}"
    assert location["billing_address"]["zone_code"] and location["billing_address"]["country_code"] == "US"
