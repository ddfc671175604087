"""Command line: ``python -m shopify_sandbox serve`` (see --help)."""

from __future__ import annotations

import argparse
import logging
import sys

from .demo import DEMO_SHOP, ShopCredentials
from .server import ShopifySandbox
from .webhooks import DEFAULT_RETRY_BASE


def _serve(args: argparse.Namespace) -> int:
    credentials = ShopCredentials(args.shop, args.access_token, args.client_secret, args.port)
    sandbox = ShopifySandbox(
        credentials=credentials,
        retry_base=args.retry_base,
        data_dir=args.data_dir,
        public_root_url=args.public_url,
        verbose=args.verbose,
        seed=args.seed,
    )
    if args.seed_customers:
        first, last = sandbox.seed_customers(args.seed_customers)
        print(f"Seeded {args.seed_customers} customers (IDs {first}-{last}) without webhooks.")
    sandbox.start(args.host, args.port)
    if args.generate_every:
        sandbox.generator.start(args.generate_every)
    print(
        "\n".join(
            [
                f"Shopify sandbox serving {sandbox.admin_api_url}/{sandbox.api_version}/graphql.json",
                f"  shop:           {sandbox.shop_domain}",
                f"  access token:   {credentials.access_token}",
                f"  client secret:  {credentials.client_secret}",
                f"  controls:       {sandbox.root_url}/_sandbox/ (config, reset, customers, companies, deliveries)",
                f"  webhook retries: 8, {args.retry_base:g} s * 2^n apart",
                f"  changes:        {f'one every {args.generate_every:g} s' if args.generate_every else 'none'}",
            ]
        ),
        flush=True,
    )
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shopify_sandbox", description="A local Shopify shop simulator.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the Admin GraphQL API, send webhooks, run bulk operations")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEMO_SHOP.port)
    serve.add_argument("--shop", default=DEMO_SHOP.shop_domain)
    serve.add_argument("--access-token", default=DEMO_SHOP.access_token)
    serve.add_argument("--client-secret", default=DEMO_SHOP.client_secret)
    serve.add_argument("--data-dir", default=None, help="folder for bulk operation files (default: a temp folder)")
    serve.add_argument("--public-url", default=None, help="scheme://host:port clients use for bulk result URLs")
    serve.add_argument("--retry-base", type=float, default=DEFAULT_RETRY_BASE, help="first webhook retry wait (s)")
    serve.add_argument("--generate-every", type=float, default=0, metavar="SECONDS", help="make a change this often")
    serve.add_argument("--seed-customers", type=int, default=0, metavar="N", help="start with N customers")
    serve.add_argument("--seed", type=int, default=None, help="random seed of generated data")
    serve.add_argument("--verbose", action="store_true", help="log every request")
    serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
