"""NetSuite REST push and pull against the sandbox, as ratios (run: .venv/bin/python bench/netsuite_push_pull.py).

The sandbox runs in its own process (`python -m netsuite_sandbox serve`), as NetSuite is remote in production: its
own work (OAuth check, validation, writes, SuiteQL, asynchronous jobs) does not compete with the portal for one
GIL. It is configured, seeded and read over its `/_sandbox/` controls. The customers are shaped like production:
`customers.demo.seed_customers` (`seed_demo`'s mix: persons, B2B companies with sub-customers, about 12% invalid),
mapped with the demo connection's mappings.

Push figures, all with the sandbox answering after 50 ms and a concurrency share C = 5 (the sandbox refuses a
6th request in flight with 429), each followed by the sandbox's peak in flight (must be <= C):
- per record: the scheduled push of the N new customers with batches off; rate as a ratio of C / latency, of
  customers and of records (the customers and the contacts of the companies among them, one request each);
- batched: the same customers again (local state and sandbox reset), as a bulk load in asynchronous batches of
  100; time as a share of the per-record time (target <= 1/10) and requests (target <= 300 for 20,000);
- client timeout shorter than the latency: a few customers with the sandbox answering after 300 ms and the
  client giving up after 200 ms (every attempt times out; the slot stays taken until the sandbox is done);
- three workers: three `manage.py push_customers` processes at once on one pending set (per record), rate from
  the first job run's start to the last one's end, as a ratio of C / latency, and requests per customer sent.
Pull: customers pulled (SuiteQL keyset pages written to the database) as a ratio of plain `requests` paging of the
same sandbox in the same run, once at 50 ms latency and once with none. Uses its own temporary SQLite database
file unless --database-url is given (so the database-backed concurrency limiter is the one measured, or Redis's
with --redis-url).
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

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(tmp: Path, database_url: str = "", redis_url: str = "") -> None:
    os.environ["PORTAL_VAR_DIR"] = str(tmp)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.pop("REDIS_URL", None)
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_portal.settings")
    os.environ["PORTAL_TESTING"] = "1"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("flush" if database_url else "migrate", interactive=False, verbosity=0)
    if database_url:
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

    def count(self) -> int:
        answer = self.control("GET", "count")
        assert not answer["duplicates"]["email"], answer["duplicates"]  # every customer once
        return int(answer["total"])

    def count_contacts(self) -> int:
        return int(self.control("GET", "count")["contacts"])

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


def bare_client_rate(sandbox, connection, *, count: int, share: int) -> float:
    """Upsert the push's own bodies (the first `count` valid customers, under other external IDs) with C threads,
    no database and no lease: the ceiling the sandbox allows here now; return per second."""
    import queue
    import threading

    from customers.models import Customer
    from netsuite import services
    from netsuite.client import NetSuiteClient, ThreadLimiter
    from netsuite.mapping import customer_to_netsuite

    mappings = services.mappings_for(external_system=connection.external_system)
    sample = Customer.objects.filter(is_valid=True, parent__isnull=True).prefetch_related("addresses", "contacts")
    todo: queue.Queue = queue.Queue()
    for c in sample[:count]:
        body = customer_to_netsuite(c, list(c.addresses.all()), list(c.contacts.all()), mappings, connection.defaults)
        todo.put((f"X{c.customer_id}", {**body, "externalId": f"X{c.customer_id}"}))
    sandbox.reset()
    sandbox.configure(latency_ms=sandbox.latency_ms, concurrency_limit=sandbox.share)
    client = NetSuiteClient(connection.client_config(), limiter=ThreadLimiter(share))
    total = todo.qsize()

    def work() -> None:
        while True:
            try:
                external_id, body = todo.get_nowait()
            except queue.Empty:
                return
            client.upsert_customer(external_id, body, replace=("addressBook",))

    threads = [threading.Thread(target=work) for _ in range(share)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total / (time.perf_counter() - started)


def reset_push_state() -> None:
    """Make every customer new again (bench only: it writes sync state directly)."""
    from customers.models import CustomerSync, PartyIdentification, SyncLog
    from jobs.models import JobRun
    from netsuite.models import BatchJob, PushClaim, RemoteCustomer

    PartyIdentification.objects.filter(type="NETSUITE_CUSTOMER_ID").delete()
    for model in (RemoteCustomer, BatchJob, PushClaim, SyncLog, JobRun):
        model.objects.all().delete()
    CustomerSync.objects.update(
        status="pending", external_id="", last_attempt_at=None, last_synced_at=None, last_error_code="",
        last_error_message="",
    )  # fmt: skip


def push_figure(sandbox, connection, *, threshold: int, label: str, limit: float) -> tuple[float, dict, int]:
    from customers.models import CustomerSync
    from netsuite import services

    reset_push_state()
    sandbox.reset()
    sandbox.configure(latency_ms=sandbox.latency_ms, concurrency_limit=sandbox.share)
    connection.batch_threshold = threshold
    connection.save()
    started = time.perf_counter()
    report = services.customers_push_scheduled(connection=connection, trigger="on_demand")
    elapsed = time.perf_counter() - started
    stats = sandbox.stats
    sent = CustomerSync.objects.filter(status="synced").count()
    assert sent == report.succeeded == sandbox.count(), (sent, report.summary())
    contacts = sandbox.count_contacts()
    assert contacts == report.contacts_sent, (contacts, report.summary())
    records = sent + contacts
    print(
        f"{label}: {sent} customers sent ({report.failed} not sent, as seeded) and {contacts} contacts of companies "
        f"in {elapsed:.2f} s = {sent / elapsed:.1f} customers/s = {sent / elapsed / limit:.3f} of C/latency; "
        f"records (customers + contacts) {records / elapsed:.1f}/s = {records / elapsed / limit:.3f} of C/latency; "
        f"{stats['total_requests']} requests ({stats['async_jobs_created']} batch jobs); peak in flight "
        f"{stats['peak_in_flight']}, 429 answers {stats['responses_by_status'].get('429', 0)}"
    )
    return elapsed, stats, records


def timeout_figure(sandbox, connection, *, count: int, share: int) -> None:
    from customers.models import Customer
    from netsuite import services
    from netsuite.limiter import slots_for_run

    reset_push_state()
    sandbox.reset()
    sandbox.configure(latency_ms=300, concurrency_limit=share)
    pks = list(Customer.objects.filter(is_valid=True, parent__isnull=True).values_list("pk", flat=True)[:count])
    started = time.perf_counter()
    with slots_for_run(connection=connection) as limiter:
        client = services.client_for(connection=connection, limiter=limiter, timeout=0.2)
        report = services.customers_push(connection=connection, customer_pks=pks, trigger="on_demand", client=client)
    elapsed = time.perf_counter() - started
    stats = sandbox.stats
    codes = sorted({r.error_code for r in report.results.values()})
    print(
        f"client timeout 200 ms < latency 300 ms: {len(pks)} customers, {stats['total_requests']} requests in "
        f"{elapsed:.1f} s, outcomes {codes}; peak in flight {stats['peak_in_flight']} (must be <= {share}), "
        f"429 answers {stats['responses_by_status'].get('429', 0)}; records in NetSuite {sandbox.count()} "
        f"(each written once however often retried)"
    )


def workers_figure(sandbox, connection, *, count: int, limit: float) -> None:
    from django.db.models import Max, Min

    from customers.models import CustomerSync
    from jobs.models import JobRun

    reset_push_state()
    sandbox.reset()
    sandbox.configure(latency_ms=sandbox.latency_ms, concurrency_limit=sandbox.share)
    connection.batch_threshold = 0
    connection.save()
    # Only the first `count` customers are pending: the others count as sent already.
    keep = list(CustomerSync.objects.order_by("customer_id").values_list("pk", flat=True)[:count])
    CustomerSync.objects.exclude(pk__in=keep).update(status="synced", external_id="", last_synced_at=None)
    env = {**os.environ, "NETSUITE_RETRY_BACKOFF_SECONDS": "0.5"}
    cmd = [sys.executable, "manage.py", "push_customers", "--connection", "netsuite"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outputs = [p.communicate(timeout=3600) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode in (0, 1), err.decode()[-2000:]
    span = JobRun.objects.aggregate(start=Min("started_at"), end=Max("finished_at"))
    elapsed = (span["end"] - span["start"]).total_seconds()
    sent = CustomerSync.objects.filter(pk__in=keep, status="synced").count()
    contacts = sandbox.count_contacts()
    stats = sandbox.stats
    split = [out.decode().split(" customer(s)")[0].split(": ")[-1] for out, _err in outputs]
    print(
        f"three workers: {sent} customers sent (by the workers: {', '.join(split)}) in {elapsed:.2f} s "
        f"= {sent / elapsed:.1f}/s = {sent / elapsed / limit:.3f} of C/latency, and {contacts} contacts; "
        f"{stats['total_requests']} requests = {stats['total_requests'] / max(sent + contacts, 1):.3f} per record "
        f"sent; peak in flight {stats['peak_in_flight']}, 429 answers {stats['responses_by_status'].get('429', 0)}"
    )


def pull_figures(sandbox, connection, count: int, latency_ms: int) -> None:
    from customers.models import Customer, PartyIdentification
    from netsuite import services
    from netsuite.models import RemoteCustomer

    sandbox.reset()
    sandbox.seed_customers(count, start=datetime(2024, 1, 1, tzinfo=UTC), step_seconds=0.001)
    columns = ", ".join(services.PULL_COLUMNS)
    for latency in (latency_ms, 0):
        reset_push_state()
        RemoteCustomer.objects.all().delete()
        PartyIdentification.objects.all().delete()
        Customer.objects.filter(parent__isnull=False).delete()  # sub-customers first: a parent is protected
        Customer.objects.all().delete()  # cascades to addresses and syncs
        sandbox.configure(latency_ms=latency)
        rows, plain = plain_paging(sandbox, columns)
        connection.refresh_from_db()
        started = time.perf_counter()
        pulled = services.customers_pull(connection=connection, full=True)
        ours = time.perf_counter() - started
        assert pulled.created == rows == count, (pulled.summary(), rows)
        print(
            f"pull at {latency} ms: {rows} customers; plain requests paging {rows / plain:,.0f}/s, "
            f"pull into the database {rows / ours:,.0f}/s; ratio {plain / ours:.3f}"
        )


def main() -> None:
    os.environ.setdefault("PORTAL_ENCRYPTION_KEY", Fernet.generate_key().decode())  # throwaway, as the bench data
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--push", type=int, default=20000, help="new customers pushed per record, then batched")
    parser.add_argument("--workers-push", type=int, default=5000, help="customers pushed by three workers at once")
    parser.add_argument("--timeout-push", type=int, default=40, help="customers pushed with a client timeout < latency")
    parser.add_argument("--pull", type=int, default=20000, help="customers to pull")
    parser.add_argument("--share", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--database-url", default="", help="an empty database to use instead of a temp SQLite file")
    parser.add_argument("--redis-url", default="", help="count the concurrency share in Redis")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-netsuite-") as tmp:
        setup_django(Path(tmp), args.database_url, args.redis_url)
        from django.utils import timezone

        from customers.demo import seed_customers
        from customers.models import ExternalSystem
        from netsuite import services
        from netsuite.apps import DEMO_DEFAULTS, DEMO_MAPPINGS
        from netsuite.models import NetSuiteConnection

        print(f"load average at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        sandbox = RemoteSandbox(latency_ms=args.latency_ms, concurrency_limit=args.share)
        sandbox.latency_ms, sandbox.share = args.latency_ms, args.share
        try:
            system = ExternalSystem.objects.create(
                code="netsuite", name="NetSuite", historical_import_completed_at=timezone.now()
            )
            services.reference_mappings_set(external_system=system, mappings=DEMO_MAPPINGS)
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
                defaults=DEMO_DEFAULTS,
                push_on_change=False,
            )
            seed_customers(total=args.push, systems=[system])
            limit = args.share / (args.latency_ms / 1000)
            print(f"limit C/latency = {args.share}/{args.latency_ms} ms = {limit:.1f}/s")

            bare = bare_client_rate(sandbox, connection, count=1000, share=args.share)
            print(
                f"bare client (the push's bodies from C threads, no database), now: {bare:.1f}/s = "
                f"{bare / limit:.3f} of C/latency"
            )
            per_record, per_stats, sent = push_figure(
                sandbox, connection, threshold=0, label="push per record", limit=limit
            )
            batched, batch_stats, _ = push_figure(sandbox, connection, threshold=500, label="push batched", limit=limit)
            print(
                f"batched / per record: time {batched / per_record:.3f} (target <= 0.1), requests "
                f"{batch_stats['total_requests']} for {sent} records (target <= 300), "
                f"{per_stats['total_requests'] / batch_stats['total_requests']:.0f}x fewer; per record = "
                f"{sent / per_record / bare:.3f} of the bare client (records, customers + contacts)"
            )
            timeout_figure(sandbox, connection, count=args.timeout_push, share=args.share)
            workers_figure(sandbox, connection, count=args.workers_push, limit=limit)
            pull_figures(sandbox, connection, args.pull, args.latency_ms)
            print(f"load average at the end: {os.getloadavg()[0]:.2f}")
        finally:
            sandbox.stop()


if __name__ == "__main__":
    main()
