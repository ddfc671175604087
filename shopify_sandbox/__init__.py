"""A stand-alone Shopify shop simulator for tests and the demo; product code never imports it.

Start one in-process with ``ShopifySandbox().start()`` (or the ``shopify_sandbox`` pytest fixture), or as a
process with ``python -m shopify_sandbox serve``. ``schema.py`` holds the Admin GraphQL subset (with cost-based
throttling), ``bulk.py`` bulk operations, ``webhooks.py`` signed deliveries with retries and switches,
``store.py`` the shop's data and ``demo.py`` the demo credentials.
"""

from .demo import DEMO_SHOP, ShopCredentials
from .server import ShopifySandbox

__all__ = ["DEMO_SHOP", "ShopCredentials", "ShopifySandbox"]
