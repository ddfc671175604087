"""Reads the Shopify jobs, commands and admin share."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import ShopifyConnection


class ConnectionNotFound(Exception):
    """No Shopify connection matches what was asked for."""


def connections_active() -> QuerySet[ShopifyConnection]:
    return ShopifyConnection.objects.filter(is_active=True).order_by("pk")


def connection_get(*, name: str | None = None, connection_id: int | None = None) -> ShopifyConnection:
    """Return one connection by ID or by shop domain (or name), or the only active one."""
    if connection_id is not None:
        found = ShopifyConnection.objects.filter(pk=connection_id).first()
    elif name:
        wanted = name.strip().lower()
        found = ShopifyConnection.objects.filter(
            Q(shop_domain=wanted) | Q(shop_domain=f"{wanted}.myshopify.com") | Q(shop_name__iexact=name.strip())
        ).first()
    else:
        active = list(connections_active()[:2])
        if len(active) > 1:
            raise ConnectionNotFound("There are several Shopify connections: name one with --connection DOMAIN.")
        found = active[0] if active else None
    if found is None:
        what = f"for {name!r}" if name else (f"#{connection_id}" if connection_id else "that is active")
        raise ConnectionNotFound(
            f"No Shopify connection {what}. Add one under Shopify → Shopify connections, or with "
            "manage.py shopify_connection --shop DOMAIN."
        )
    return found
