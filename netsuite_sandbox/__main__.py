"""Command line: `python -m netsuite_sandbox serve | run-script | seed` (see --help)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .demo import DEMO_CREDENTIALS, DEMO_PORT, Credentials
from .hotwax import SCRIPTS, csvimport, install, run_script
from .server import NetSuiteSandbox
from .store import Store

DEFAULT_DATA_DIR = "var/sandbox"


def _credentials(args: argparse.Namespace) -> Credentials:
    return Credentials(args.account_id, args.consumer_key, args.consumer_secret, args.token_id, args.token_secret)


def _serve(args: argparse.Namespace) -> int:
    faults = {
        key: value
        for key, value in {
            "latency_ms": args.latency_ms,
            "concurrency_limit": args.concurrency_limit,
            "retry_after": args.retry_after,
            "error_rate": args.error_rate,
            "seed": args.seed,
        }.items()
        if value is not None
    }
    sandbox = NetSuiteSandbox(
        data_dir=args.data_dir,
        credentials=_credentials(args),
        public_root_url=args.public_url,
        file_root=args.file_root,
        verbose=args.verbose,
        time_zone=args.time_zone,
        **faults,
    )
    seeded = False
    if args.seed_historical:
        held = sandbox.store.execute(
            "SELECT COUNT(*) FROM customer WHERE custentity_hc_shopify_customer_id IS NOT NULL"
        )[0][0]
        # Seed once: a restart on the same data dir keeps what the demo has done since.
        if held == 0:
            first, last = sandbox.seed_historical(args.seed_historical)
            seeded = True
            print(f"Seeded {args.seed_historical} historical customers with Shopify IDs (internal IDs {first}-{last}).")
        else:
            print(f"Data dir already holds {held} historical customers; not seeding again.")
    if args.file_root:
        # The scripts create no folder on the server: the portal makes them (its feeds, Test connection).
        if seeded:
            print("Wrote", sandbox.run_script("HC_SC_GenerateHistoricalCustomerCSV").written, "into the File Cabinet")
        if args.script_interval:
            sandbox.start_scheduler(args.script_interval)
    sandbox.start(args.host, args.port)
    creds = sandbox.credentials
    print(
        "\n".join(
            [
                f"NetSuite sandbox serving {sandbox.base_url}",
                f"  account ID:      {creds.account_id}",
                f"  consumer key:    {creds.consumer_key}",
                f"  consumer secret: {creds.consumer_secret}",
                f"  token ID:        {creds.token_id}",
                f"  token secret:    {creds.token_secret}",
                f"  controls:        {sandbox.root_url}/_sandbox/ (config, stats, seed, reset, customers)",
                f"  data:            {args.data_dir or 'in memory'}",
                f"  file root:       {args.file_root or 'none'}"
                + (f" (scripts every {args.script_interval:g} s)" if args.file_root and args.script_interval else ""),
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


def _run_script(args: argparse.Namespace) -> int:
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    store = Store(Path(args.data_dir) / "netsuite-sandbox.sqlite3")
    install(store)
    if args.name == "csv-import-queue":
        print(json.dumps({"imported_jobs": csvimport.run_queue(store)}))
        return 0
    result = run_script(args.name, store, args.root)
    print(json.dumps(result, default=lambda o: getattr(o, "__dict__", str(o)), indent=2))
    return 0 if result.error is None else 1


def _seed(args: argparse.Namespace) -> int:
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    store = Store(Path(args.data_dir) / "netsuite-sandbox.sqlite3")
    if args.customers:
        print("customers", store.seed(args.customers, subsidiary=args.subsidiary))
    if args.historical:
        print("historical", store.seed(args.historical, subsidiary=args.subsidiary, historical=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    parser = argparse.ArgumentParser(prog="python -m netsuite_sandbox", description="A local NetSuite simulator.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the REST API (and optionally run the SuiteScripts on a schedule)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEMO_PORT)
    serve.add_argument("--data-dir", default=None, help="folder for the sqlite file (default: in memory)")
    serve.add_argument("--public-url", default=None, help="scheme://host:port clients use, if not the Host header")
    serve.add_argument(
        "--seed-historical", type=int, default=0, metavar="N", help="seed N customers with Shopify IDs once"
    )
    serve.add_argument("--file-root", default=None, help="local folder standing for the SFTP home")
    serve.add_argument(
        "--script-interval",
        type=float,
        default=0,
        metavar="SECONDS",
        help="run the scheduled scripts (historical upload, customer import, CSV import queue, created IDs) this often",
    )
    serve.add_argument("--time-zone", default="UTC", help="account time zone of SuiteQL dates, e.g. America/New_York")
    serve.add_argument("--latency-ms", type=int)
    serve.add_argument("--concurrency-limit", type=int)
    serve.add_argument("--retry-after", type=int)
    serve.add_argument("--error-rate", type=float)
    serve.add_argument("--seed", type=int, help="seed of the random 5xx share")
    serve.add_argument("--verbose", action="store_true", help="log every request")
    for name in ("account_id", "consumer_key", "consumer_secret", "token_id", "token_secret"):
        serve.add_argument("--" + name.replace("_", "-"), default=getattr(DEMO_CREDENTIALS, name))
    serve.set_defaults(func=_serve)

    script = sub.add_parser("run-script", help="run one SuiteScript now")
    script.add_argument("name", choices=[*sorted(SCRIPTS), "csv-import-queue"])
    script.add_argument("--root", default="", help="local folder standing for the SFTP home")
    script.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    script.set_defaults(func=_run_script)

    seed = sub.add_parser("seed", help="add generated customers to a data dir")
    seed.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    seed.add_argument("--customers", type=int, default=0)
    seed.add_argument("--historical", type=int, default=0)
    seed.add_argument("--subsidiary", type=int, default=1)
    seed.set_defaults(func=_seed)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
