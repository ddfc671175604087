"""NetSuite REST push and pull against the sandbox, as ratios (run: .venv/bin/python bench/netsuite_push_pull.py).

The sandbox runs in its own process (`python -m netsuite_sandbox serve`), as NetSuite is remote in
production: its own work (OAuth check, validation, writes, SuiteQL) does not compete with the portal for one
GIL. It is configured, seeded and read over its `/_sandbox/` controls.

Push: customers upserted with the sandbox answering after 50 ms and a concurrency share C = 5; the rate is
printed as a ratio of the limit C / latency (the most a client held to C requests in flight can do), with
the peak number of requests the sandbox saw in flight (must be <= C), and also as a ratio of a bare client
in the same run (C threads upserting the same bodies with no database and an in-process semaphore).
Pull: customers pulled (SuiteQL keyset pages written to the database) as a ratio of plain `requests` paging
of the same sandbox in the same run, once at 50 ms latency and once with none. Uses its own temporary SQLite
database file (so the database-backed concurrency limiter is the one measured).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(tmp: Path) -> None:
    os.environ["PORTAL_VAR_DIR"] = str(tmp)
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_portal.settings")
    os.environ["PORTAL_TESTING"] = "1"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class RemoteSandbox:
    """A sandbox in a child process: the attributes the bench needs, over the `/_sandbox/` controls."""

    def __init__(self, *, latency_ms: int, concurrency_limit: int) -> None:
        from netsuite_sandbox import DEMO_CREDENTIALS

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.credentials = DEMO_CREDENTIALS
        self.account_id = DEMO_CREDENTIALS.account_id
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = self.root_url + "/services/rest"
        command = [sys.executable, "-m", "netsuite_sandbox", "serve", "--port", str(port)]
        command += ["--latency-ms", str(latency_ms), "--concurrency-limit", str(concurrency_limit)]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.control("GET", "health")
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("The sandbox did not start.") from None
                time.sleep(0.1)

    def control(self, method: str, name: str, data: dict | None = None) -> dict:
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(f"{self.root_url}/_sandbox/{name}", data=body, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 (our own local sandbox)
            return json.loads(response.read())

    def oauth(self):
        from requests_oauthlib import OAuth1

        c = self.credentials
        return OAuth1(
            c.consumer_key, c.consumer_secret, c.token_id, c.token_secret, signature_method="HMAC-SHA256",
            realm=c.account_id,
        )  # fmt: skip

    def configure(self, **faults) -> dict:
        return self.control("POST", "config", faults)

    def reset_stats(self) -> None:
        self.control("POST", "stats/reset", {})

    @property
    def stats(self) -> dict:
        return self.control("GET", "stats")

    def reset(self) -> None:
        self.control("POST", "reset", {"data": True})

    def seed_customers(self, count: int, *, start: datetime, step_seconds: float) -> dict:
        return self.control(
            "POST", "seed", {"customers": count, "start": start.isoformat(), "step_seconds": step_seconds}
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def plain_paging(sandbox, columns: str) -> tuple[int, float]:
    import requests

    session = requests.Session()
    session.auth = sandbox.oauth()
    rows, last, started = 0, 0, time.perf_counter()
    while True:
        response = session.post(
            sandbox.base_url + "/query/v1/suiteql",
            params={"limit": 1000, "offset": 0},
            json={"q": f"SELECT {columns} FROM customer WHERE id > {last} ORDER BY id"},
            headers={"Prefer": "transient"},
            timeout=60,
        )
        data = response.json()
        rows += len(data["items"])
        if not data["items"] or not data["hasMore"]:
            break
        last = int(data["items"][-1]["id"])
    return rows, time.perf_counter() - started


def bare_client_rate(client_config, bodies: list[tuple[str, dict]], share: int) -> float:
    """Upsert with C threads, no database and no lease: the ceiling the sandbox allows; return per second."""
    import queue
    import threading

    from netsuite.client import NetSuiteClient, ThreadLimiter

    client = NetSuiteClient(client_config, limiter=ThreadLimiter(share))
    todo: queue.Queue = queue.Queue()
    for item in bodies:
        todo.put(item)

    def work() -> None:
        while True:
            try:
                external_id, body = todo.get_nowait()
            except queue.Empty:
                return
            client.upsert_customer(external_id, {**body, "externalId": external_id})

    threads = [threading.Thread(target=work) for _ in range(share)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(bodies) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--push", type=int, default=1000, help="customers to push")
    parser.add_argument("--pull", type=int, default=20000, help="customers to pull")
    parser.add_argument("--share", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-netsuite-") as tmp:
        setup_django(Path(tmp))
        from django.utils import timezone

        from customers.models import Address, Customer, CustomerSync, ExternalSystem, PartyIdentification
        from netsuite import services
        from netsuite.limiter import DatabaseLimiter, limiter_for
        from netsuite.models import NetSuiteConnection

        sandbox = RemoteSandbox(latency_ms=args.latency_ms, concurrency_limit=args.share)
        try:
            system = ExternalSystem.objects.create(
                code="netsuite", name="NetSuite", historical_import_completed_at=timezone.now()
            )
            services.reference_mappings_set(
                external_system=system,
                mappings={"payment_terms": {"Net 30": "2"}, "price_levels": {"Base Price": "1"}},
            )
            connection = NetSuiteConnection.objects.create(
                external_system=system,
                account_id=sandbox.account_id,
                base_url=sandbox.base_url,
                consumer_key=sandbox.credentials.consumer_key,
                consumer_secret=sandbox.credentials.consumer_secret,
                token_id=sandbox.credentials.token_id,
                token_secret=sandbox.credentials.token_secret,
                concurrency_share=args.share,
                request_timeout=30,
                defaults={"subsidiary": "1"},
                push_on_change=False,
            )
            assert isinstance(limiter_for(connection=connection), DatabaseLimiter)

            # -- push --
            customers = Customer.objects.bulk_create(
                Customer(
                    customer_id=f"B{n:06d}",
                    first_name="Ada",
                    last_name=f"Bench{n}",
                    email=f"b{n}@example.com",
                    payment_term="Net 30",
                    price_level="Base Price",
                )
                for n in range(args.push)
            )
            Address.objects.bulk_create(
                Address(customer=c, label="Home", line1="1 Main St", city="Springfield", state="IL", zip="62701")
                for c in customers
            )
            CustomerSync.objects.bulk_create(CustomerSync(customer=c, external_system=system) for c in customers)
            sandbox.configure(latency_ms=args.latency_ms, concurrency_limit=args.share)
            sandbox.reset_stats()
            started = time.perf_counter()
            report = services.customers_push(
                connection=connection, customer_pks=[c.pk for c in customers], trigger="on_demand"
            )
            elapsed = time.perf_counter() - started
            stats = sandbox.stats
            limit = args.share / (args.latency_ms / 1000)
            rate = report.succeeded / elapsed
            print(f"push: {report.succeeded}/{args.push} customers in {elapsed:.2f} s = {rate:.1f}/s")
            print(f"push: limit C/latency = {args.share}/{args.latency_ms} ms = {limit:.1f}/s")
            print(f"push: ratio of the limit = {rate / limit:.3f} (target >= 0.9)")
            print(
                f"push: peak in flight = {stats['peak_in_flight']} (must be <= {args.share}); "
                f"429 answers = {stats['responses_by_status'].get('429', 0)}"
            )
            # The same bodies again under other external IDs, from a bare client: the sandbox's ceiling.
            from netsuite.mapping import customer_to_netsuite

            mappings = services.mappings_for(external_system=system)
            sample = Customer.objects.prefetch_related("addresses")[: args.push]
            bodies = [
                (
                    f"X{c.customer_id}",
                    customer_to_netsuite(c, list(c.addresses.all()), [], mappings, connection.defaults),
                )
                for c in sample
            ]
            bare = bare_client_rate(connection.client_config(), bodies, args.share)
            print(
                f"push: bare client (no database) {bare:.1f}/s = {bare / limit:.3f} of the limit; "
                f"push = {rate / bare:.3f} of the bare client"
            )

            # -- pull --
            sandbox.reset()
            sandbox.seed_customers(args.pull, start=datetime(2024, 1, 1, tzinfo=UTC), step_seconds=0.001)
            columns = ", ".join(services.PULL_COLUMNS)
            for latency in (args.latency_ms, 0):
                PartyIdentification.objects.all().delete()
                Customer.objects.all().delete()  # cascades to addresses and syncs
                sandbox.configure(latency_ms=latency)
                rows, plain = plain_paging(sandbox, columns)
                connection.refresh_from_db()
                started = time.perf_counter()
                pulled = services.customers_pull(connection=connection, full=True)
                ours = time.perf_counter() - started
                assert pulled.created == rows == args.pull, (pulled.summary(), rows)
                print(
                    f"pull at {latency} ms: {rows} customers; plain requests paging {rows / plain:,.0f}/s, "
                    f"pull into the database {rows / ours:,.0f}/s; ratio {plain / ours:.3f}"
                )
        finally:
            sandbox.stop()


if __name__ == "__main__":
    main()
