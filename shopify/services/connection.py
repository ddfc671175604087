"""Test connection, and the webhook subscriptions the portal creates in the shop."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from customers.errors import ErrorCode

from ..client import ShopifyClient, ShopifyError
from ..mapping import SUBSCRIBED_TOPICS, topic_enum, topic_from_enum
from ..models import ShopifyConnection, WebhookSubscription

NO_TOKEN = ErrorCode.SHOPIFY_NO_TOKEN
NO_WEBHOOK_URL = ErrorCode.SHOPIFY_NO_WEBHOOK_URL


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    code: str = ""


def connection_test(*, connection: ShopifyConnection) -> ConnectionCheck:
    """Ask the shop for its name; say plainly what is wrong when that fails."""
    if not connection.has_credentials:
        return ConnectionCheck(False, "Enter the Admin API access token first.", NO_TOKEN)
    try:
        with ShopifyClient(connection.client_config()) as client:
            name = client.shop_name()
    except ShopifyError as exc:
        return ConnectionCheck(False, f"{exc.message} [{exc.code}]", exc.code)
    ShopifyConnection.objects.filter(pk=connection.pk).update(shop_name=name[:255])
    connection.shop_name = name
    secret = "" if connection.client_secret else " Enter the client secret too, or webhooks are refused."
    return ConnectionCheck(True, f"Connected to the shop {name} ({connection.shop_domain}).{secret}")


@dataclass
class SubscribeReport:
    created: list[str]
    kept: list[str]

    def summary(self) -> str:
        parts = []
        if self.created:
            parts.append(f"Subscribed to {len(self.created)} topic(s): {', '.join(self.created)}.")
        if self.kept:
            parts.append(f"{len(self.kept)} topic(s) were subscribed already.")
        return " ".join(parts) or "Nothing to subscribe."


def subscriptions_refresh(*, connection: ShopifyConnection, client: ShopifyClient) -> list[WebhookSubscription]:
    """Read the shop's subscriptions to this portal's address and keep them here as the console shows them."""
    found = {}
    for sub in client.webhook_subscriptions():
        if sub.get("uri") == connection.webhook_url:
            found[topic_from_enum(sub["topic"])] = sub
    with transaction.atomic():
        WebhookSubscription.objects.filter(connection=connection).exclude(topic__in=list(found)).delete()
        for topic, sub in found.items():
            WebhookSubscription.objects.update_or_create(
                connection=connection, topic=topic, defaults={"shopify_id": sub["id"], "uri": sub["uri"]}
            )
    return list(connection.subscriptions.all())


def subscriptions_create(*, connection: ShopifyConnection) -> SubscribeReport:
    """Subscribe the portal's webhook address to every topic it applies (webhookSubscriptionCreate)."""
    if not connection.has_credentials:
        raise ShopifyError(NO_TOKEN, "Enter the Admin API access token first.")
    if not connection.webhook_url:
        raise ShopifyError(
            NO_WEBHOOK_URL,
            "Enter the webhook address (this portal's https://…/api/shopify/webhooks as Shopify reaches it) first.",
        )
    report = SubscribeReport([], [])
    with ShopifyClient(connection.client_config()) as client:
        held = {s.topic for s in subscriptions_refresh(connection=connection, client=client)}
        for topic in SUBSCRIBED_TOPICS:
            if topic in held:
                report.kept.append(topic)
                continue
            sub = client.webhook_subscribe(topic=topic_enum(topic), uri=connection.webhook_url)
            WebhookSubscription.objects.update_or_create(
                connection=connection,
                topic=topic,
                defaults={"shopify_id": sub.get("id", ""), "uri": sub.get("uri", "")},
            )
            report.created.append(topic)
    return report
