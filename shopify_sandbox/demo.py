"""The demo shop's credentials, shared by the sandbox's command line and the portal's demo setup.

Local demo values only: a real shop's secrets are entered in the console or with manage.py shopify_connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ShopCredentials:
    shop_domain: str
    access_token: str = field(repr=False)
    client_secret: str = field(repr=False)
    port: int = 8766


DEMO_SHOP = ShopCredentials(
    shop_domain="demo-store.myshopify.com",
    access_token="shpat_sandbox_demo_token",  # noqa: S106 (the local sandbox's demo value)
    client_secret="sandbox-demo-client-secret",  # noqa: S106
)
