"""manage.py shopify_connection --shop DOMAIN [--api-url URL] [--secret-file PATH] [--token-file PATH]."""

from __future__ import annotations

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from shopify.models import ShopifyConnection, shop_domain_validator

STDIN = "-"


def _read_secret(path: str | None, what: str, stdin_lines: list[str]) -> str | None:
    if path is None:
        return None
    if path == STDIN:
        if not stdin_lines:
            raise CommandError(f"No {what} on standard input (one line each, in the order of the options).")
        return stdin_lines.pop(0)
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except OSError as exc:
        raise CommandError(f"Cannot read the {what} from {path}: {exc.strerror}.") from None
    if not value:
        raise CommandError(f"{path} is empty: it should hold the {what}.")
    return value


class Command(BaseCommand):
    help = (
        "Create or update a Shopify connection. Secrets are read from files (or '-' for standard input, one line "
        "each), never from arguments, so they stay out of shell history and process lists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, metavar="DOMAIN", help="e.g. example.myshopify.com")
        parser.add_argument("--api-url", metavar="URL", help="Admin API URL override, e.g. the sandbox's /admin/api.")
        parser.add_argument("--secret-file", metavar="PATH", help="File holding the app's client secret ('-': stdin).")
        parser.add_argument(
            "--previous-secret-file", metavar="PATH", help="File holding the secret being rotated out ('-': stdin)."
        )
        parser.add_argument(
            "--token-file", metavar="PATH", help="File holding the Admin API access token ('-': stdin)."
        )
        parser.add_argument("--webhook-url", metavar="URL", help="This portal's webhook address as Shopify reaches it.")

    def handle(self, *args, shop, api_url, secret_file, previous_secret_file, token_file, webhook_url, **options):
        shop = shop.strip().lower()
        try:
            shop_domain_validator(shop)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from None
        wants_stdin = [p for p in (secret_file, previous_secret_file, token_file) if p == STDIN]
        stdin_lines = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()] if wants_stdin else []
        secret = _read_secret(secret_file, "client secret", stdin_lines)
        previous = _read_secret(previous_secret_file, "previous client secret", stdin_lines)
        token = _read_secret(token_file, "access token", stdin_lines)
        connection, created = ShopifyConnection.objects.get_or_create(shop_domain=shop)
        if api_url is not None:
            connection.api_url = api_url.strip()
        if webhook_url is not None:
            connection.webhook_url = webhook_url.strip()
        if secret is not None:
            connection.client_secret = secret
        if previous is not None:
            connection.previous_client_secret = previous
        if token is not None:
            connection.access_token = token
        try:
            connection.full_clean(exclude=["target_systems"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        connection.save()
        set_ = [n for n, v in (("client secret", secret), ("previous secret", previous), ("access token", token)) if v]
        stored = f" Stored encrypted: {', '.join(set_)}." if set_ else ""
        self.stdout.write(f"{'Created' if created else 'Updated'} the Shopify connection {shop}.{stored}")
