"""Webhook subscriptions and deliveries, as Shopify documents them.

- Payloads are the REST shapes of the webhooks reference's samples (shopify.dev/docs/api/webhooks): a customer
  with numeric ``id`` and ``admin_graphql_api_id``; ``customers/delete`` only ``id``, ``tax_exemptions`` and
  ``admin_graphql_api_id``; B2B objects with ``admin_graphql_api_id`` and, for locations and contacts, the
  embedded ``company``.
- Headers (shopify.dev/docs/apps/build/webhooks/delivery-structure): X-Shopify-Topic, X-Shopify-Hmac-Sha256
  (base64 HMAC-SHA256 of the raw body keyed with the app's client secret), X-Shopify-Shop-Domain,
  X-Shopify-API-Version, X-Shopify-Webhook-Id (one per delivery), X-Shopify-Triggered-At, X-Shopify-Event-Id (the
  same for every delivery of one event).
- A delivery succeeds on a 2xx within 5 seconds, 1 second to connect; otherwise it is retried 8 times over 4
  hours with exponential backoff, with the original payload (changelog "Updates to webhook retry mechanism",
  2024-09-10). The exact schedule is not published: the sandbox waits ``retry_base * 2**n`` (n = 0…7); the default
  base of 56.5 s spreads the 8 retries over 4 hours. A subscription whose delivery failed every retry is removed
  (Shopify removes one that keeps failing, after warning e-mails; the sandbox assumes one exhausted delivery
  suffices).
- After a client-secret rotation Shopify may sign with the old secret for up to an hour
  (shopify.dev/docs/apps/build/webhooks/verify-deliveries): ``sign_with_previous`` switches to it.

Switches for tests and the demo: ``hold`` (keep deliveries until ``release``, in any order), ``duplicate_rate``
(send a delivered webhook again), ``reorder_rate`` (delay a delivery by up to ``reorder_delay``), ``drop_next`` (the
next N deliveries are lost for good).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from .schema import TOPICS, gid, iso_z

MAX_RETRIES = 8
DEFAULT_RETRY_BASE = 14400 / (2**MAX_RETRIES - 1)  # 56.5 s: the 8 waits add up to 4 hours
CONNECT_TIMEOUT = 1.0
TOTAL_TIMEOUT = 5.0


def _iso(value: Any) -> str | None:
    """REST timestamps carry an offset (the webhooks reference: "2021-12-31T19:00:00-05:00"); the sandbox's is UTC."""
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def customer_address(address: dict, customer: dict) -> dict:
    name = " ".join(p for p in (address.get("firstName"), address.get("lastName")) if p) or None
    return {
        "id": address["id"],
        "customer_id": customer["id"],
        "first_name": address.get("firstName"),
        "last_name": address.get("lastName"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "province": address.get("province"),
        "country": address.get("country"),
        "zip": address.get("zip"),
        "phone": address.get("phone"),
        "name": name,
        "province_code": address.get("provinceCode"),
        "country_code": address.get("countryCodeV2"),
        "country_name": address.get("country"),
        "default": address["id"] == customer.get("defaultAddressId"),
    }


def customer_payload(customer: dict) -> dict:
    addresses = [customer_address(a, customer) for a in customer.get("addresses") or []]
    return {
        "id": customer["id"],
        "created_at": _iso(customer["createdAt"]),
        "updated_at": _iso(customer["updatedAt"]),
        "first_name": customer.get("firstName"),
        "last_name": customer.get("lastName"),
        "state": (customer.get("state") or "DISABLED").lower(),
        "note": customer.get("note"),
        "verified_email": True,
        "multipass_identifier": None,
        "tax_exempt": False,
        "email": customer.get("email"),
        "phone": customer.get("phone"),
        "currency": "USD",
        "addresses": addresses,
        "tax_exemptions": [],
        "admin_graphql_api_id": gid("Customer", customer["id"]),
        "default_address": next((a for a in addresses if a["default"]), None),
    }


def company_payload(company: dict) -> dict:
    main = company.get("mainContactId")
    return {
        "name": company.get("name"),
        "note": company.get("note"),
        "external_id": company.get("externalId"),
        "main_contact_admin_graphql_api_id": gid("CompanyContact", main) if main else None,
        "created_at": _iso(company["createdAt"]),
        "updated_at": _iso(company["updatedAt"]),
        "customer_since": _iso(company.get("customerSince") or company["createdAt"]),
        "admin_graphql_api_id": gid("Company", company["id"]),
    }


def company_address(address: dict | None, location: dict) -> dict | None:
    if address is None:
        return None
    return {
        "address1": address.get("address1"),
        "city": address.get("city"),
        "province": address.get("province"),
        "country": address.get("country"),
        "zip": address.get("zip"),
        "recipient": address.get("recipient"),
        "first_name": address.get("firstName"),
        "last_name": address.get("lastName"),
        "address2": address.get("address2"),
        "phone": address.get("phone"),
        "zone_code": address.get("provinceCode"),
        "country_code": address.get("countryCodeV2"),
        "created_at": _iso(location["createdAt"]),
        "updated_at": _iso(location["updatedAt"]),
        "admin_graphql_api_id": gid("CompanyAddress", address["id"]),
        "company_admin_graphql_api_id": gid("Company", location["companyId"]),
    }


def location_payload(location: dict, company: dict) -> dict:
    return {
        "name": location.get("name"),
        "external_id": location.get("externalId"),
        "phone": location.get("phone"),
        "locale": "en",
        "created_at": _iso(location["createdAt"]),
        "updated_at": _iso(location["updatedAt"]),
        "note": None,
        "buyer_experience_configuration": None,
        "admin_graphql_api_id": gid("CompanyLocation", location["id"]),
        "tax_exemptions": [],
        "tax_settings": {"tax_registration_id": None, "tax_exempt": None, "tax_exemptions": []},
        "company": company_payload(company),
        "billing_address": company_address(location.get("billingAddress"), location),
        "shipping_address": company_address(location.get("shippingAddress"), location),
        "tax_registration": None,
    }


def contact_payload(contact: dict, company: dict) -> dict:
    return {
        "customer_admin_graphql_api_id": gid("Customer", contact["customerId"]),
        "title": contact.get("title"),
        "locale": contact.get("locale", "en"),
        "created_at": _iso(contact["createdAt"]),
        "updated_at": _iso(contact["updatedAt"]),
        "admin_graphql_api_id": gid("CompanyContact", contact["id"]),
        "company": company_payload(company),
    }


def payload_for(topic: str, obj: dict, store) -> dict:
    """The webhook body of a topic for a changed object (a dict as the store holds it)."""
    if topic == "bulk_operations/finish":
        return obj  # built by the bulk runner
    if topic == "customers/delete":
        return {"id": obj["id"], "tax_exemptions": [], "admin_graphql_api_id": gid("Customer", obj["id"])}
    if topic.startswith("customers/"):
        return customer_payload(obj)
    if topic.startswith("companies/"):
        return company_payload(obj)
    company = store.companies.get(obj["companyId"]) or {
        "id": obj["companyId"],
        "createdAt": obj["createdAt"],
        "updatedAt": obj["updatedAt"],
    }
    if topic.startswith("company_locations/"):
        return location_payload(obj, company)
    return contact_payload(obj, company)


def sign(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 of the HMAC-SHA256 of the raw body, keyed with the client secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(order=True)
class Delivery:
    due: float
    seq: int
    subscription: dict = field(compare=False)
    topic: str = field(compare=False)
    body: bytes = field(compare=False)
    event_id: str = field(compare=False)
    webhook_id: str = field(compare=False)
    triggered_at: str = field(compare=False)
    attempt: int = field(default=0, compare=False)


@dataclass
class Switches:
    hold: bool = False
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    reorder_delay: float = 2.0
    drop_next: int = 0
    retry_base: float = DEFAULT_RETRY_BASE
    sign_with_previous: bool = False


class Webhooks:
    """Subscriptions and a delivery queue served by sender threads."""

    def __init__(self, sandbox, *, senders: int = 4, retry_base: float = DEFAULT_RETRY_BASE, seed: int | None = None):
        self.sandbox = sandbox
        self.switches = Switches(retry_base=retry_base)
        self.default_retry_base = retry_base
        self.random = random.Random(seed)
        self._subs: dict[str, dict] = {}
        self._queue: list[Delivery] = []
        self._held: list[Delivery] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.log: list[dict] = []
        self.senders = [threading.Thread(target=self._loop, daemon=True, name=f"webhooks-{n}") for n in range(senders)]
        self._local = threading.local()
        for thread in self.senders:
            thread.start()

    # -- subscriptions ----------------------------------------------------------------------------

    def subscriptions(self) -> list[dict]:
        with self._cond:
            return sorted(self._subs.values(), key=lambda s: s["_n"])

    def subscribe(self, topic: str, data: dict) -> dict:
        uri = (data or {}).get("uri") or ""
        if not uri.startswith(("http://", "https://")):
            return {
                "webhookSubscription": None,
                "userErrors": [{"field": ["webhookSubscription", "uri"], "message": "Address is invalid"}],
            }
        if (data or {}).get("format", "JSON") != "JSON":
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {"field": ["webhookSubscription", "format"], "message": "Only JSON is sent by the sandbox"}
                ],
            }
        with self._cond:
            if any(s["topic"] == topic and s["uri"] == uri for s in self._subs.values()):
                return {
                    "webhookSubscription": None,
                    "userErrors": [
                        {
                            "field": ["webhookSubscription", "callbackUrl"],
                            "message": "Address for this topic has already been taken",
                        }
                    ],
                }
            number = self.sandbox.store.next_id()
            now = datetime.now(UTC)
            sub = {
                "id": gid("WebhookSubscription", number),
                "_n": number,
                "topic": topic,
                "uri": uri,
                "format": "JSON",
                "createdAt": now,
                "updatedAt": now,
            }
            self._subs[sub["id"]] = sub
        return {"webhookSubscription": sub, "userErrors": []}

    def unsubscribe(self, subscription_id: str) -> dict:
        with self._cond:
            removed = self._subs.pop(subscription_id, None)
        if removed is None:
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        return {"deletedWebhookSubscriptionId": subscription_id, "userErrors": []}

    # -- events -----------------------------------------------------------------------------------

    def event(self, topic: str, obj: dict) -> list[Delivery]:
        """Queue a delivery of the event to every subscription of its topic; return them."""
        enum = topic.replace("/", "_").upper()
        assert enum in TOPICS, topic
        subs = [s for s in self.subscriptions() if s["topic"] == enum]
        if not subs:
            return []
        body = json.dumps(payload_for(topic, obj, self.sandbox.store)).encode()
        event_id = str(uuid.uuid4())
        triggered = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        deliveries = [
            Delivery(time.monotonic(), next(self._seq), sub, topic, body, event_id, str(uuid.uuid4()), triggered)
            for sub in subs
        ]
        with self._cond:
            for delivery in deliveries:
                if self.switches.drop_next > 0:
                    self.switches.drop_next -= 1
                    self.log.append(self._entry(delivery, "dropped", None))
                    continue
                if self.switches.hold:
                    self._held.append(delivery)
                    continue
                if self.switches.reorder_rate and self.random.random() < self.switches.reorder_rate:
                    delivery.due += self.random.uniform(0, self.switches.reorder_delay)
                heapq.heappush(self._queue, delivery)
            self._cond.notify_all()
        return deliveries

    def release(self, *, order: str = "reverse") -> int:
        """Send the held deliveries now, in this thread, newest first ("reverse") or in order ("fifo")."""
        with self._cond:
            held, self._held = self._held, []
            self.switches.hold = False
        if order == "reverse":
            held.reverse()
        for delivery in held:
            self._send(delivery)
        return len(held)

    def held(self) -> int:
        return len(self._held)

    def reset(self) -> None:
        with self._cond:
            self._subs.clear()
            self._queue.clear()
            self._held.clear()
            self.log.clear()
            self.switches = Switches(retry_base=self.default_retry_base)

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def idle(self) -> bool:
        """Whether no delivery is queued or being sent (held ones aside)."""
        with self._cond:
            return not self._queue and not any(getattr(t, "busy", False) for t in self.senders)

    # -- sending ----------------------------------------------------------------------------------

    def _loop(self) -> None:
        thread = threading.current_thread()
        while not self._stop.is_set():
            with self._cond:
                while not self._stop.is_set() and (not self._queue or self._queue[0].due > time.monotonic()):
                    wait = (self._queue[0].due - time.monotonic()) if self._queue else None
                    self._cond.wait(timeout=wait if wait is None else max(0.0, min(wait, 1.0)))
                if self._stop.is_set():
                    return
                delivery = heapq.heappop(self._queue)
                thread.busy = True
            try:
                self._send(delivery)
            finally:
                thread.busy = False

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _send(self, delivery: Delivery) -> None:
        shop = self.sandbox
        secret = shop.previous_client_secret if self.switches.sign_with_previous else shop.client_secret
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": sign(delivery.body, secret),
            "X-Shopify-Shop-Domain": shop.shop_domain,
            "X-Shopify-API-Version": shop.api_version,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
            "X-Shopify-Event-Id": delivery.event_id,
        }
        status = None
        try:
            response = self._session().post(
                delivery.subscription["uri"],
                data=delivery.body,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, TOTAL_TIMEOUT),
            )
            status = response.status_code
        except requests.RequestException:
            status = None
        ok = status is not None and 200 <= status < 300
        with self._cond:
            self.log.append(self._entry(delivery, "delivered" if ok else "failed", status))
            if ok:
                if self.switches.duplicate_rate and self.random.random() < self.switches.duplicate_rate:
                    again = Delivery(
                        time.monotonic(),
                        next(self._seq),
                        delivery.subscription,
                        delivery.topic,
                        delivery.body,
                        delivery.event_id,
                        delivery.webhook_id,
                        delivery.triggered_at,
                    )
                    again.attempt = -1  # marks a duplicate in the log
                    heapq.heappush(self._queue, again)
                    self._cond.notify_all()
                return
            if delivery.attempt >= MAX_RETRIES:
                self._subs.pop(delivery.subscription["id"], None)
                self.log.append(self._entry(delivery, "subscription removed", status))
                return
            delivery.due = time.monotonic() + self.switches.retry_base * 2 ** max(delivery.attempt, 0)
            delivery.attempt = max(delivery.attempt, 0) + 1
            delivery.seq = next(self._seq)
            heapq.heappush(self._queue, delivery)
            self._cond.notify_all()

    @staticmethod
    def _entry(delivery: Delivery, outcome: str, status: int | None) -> dict:
        return {
            "topic": delivery.topic,
            "event_id": delivery.event_id,
            "webhook_id": delivery.webhook_id,
            "uri": delivery.subscription["uri"],
            "attempt": delivery.attempt,
            "outcome": outcome,
            "status": status,
            "at": iso_z(datetime.now(UTC)),
        }
