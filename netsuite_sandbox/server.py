"""The sandbox as a running HTTP server: `NetSuiteSandbox` starts it in a thread and offers the Python API."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import records
from .app import REST_PREFIX, App, Response
from .auth import Authenticator
from .demo import DEMO_CREDENTIALS, Credentials
from .governance import Faults, Governor, Stats
from .store import Store

_log = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Benchmarks open many connections at once; the default backlog of 5 would refuse some.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], sandbox: NetSuiteSandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (killed, or gave up) is no error of the sandbox's.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and the client's
        # delayed ACK would add ~40 ms to every keep-alive answer and spoil the benchmarks.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sandbox.verbose:
            super().log_message(format, *args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sandbox = self.server.sandbox
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        root = sandbox.public_root_url or f"http://{host}"
        headers = dict(self.headers.items())
        resp = sandbox.app.handle(self.command, self.path, headers, body, root)
        if resp.lose:
            self._lose(resp)
            return
        self._send(resp)

    def _send(self, resp: Response) -> None:
        try:
            self.send_response(resp.status)
            for key, value in resp.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if resp.body and self.command != "HEAD":
                self.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client stopped waiting (its timeout was shorter than the work): the request was still done and
            # counted in flight until then, as NetSuite keeps working on a request its client gave up on.
            self.close_connection = True

    def _lose(self, resp: Response) -> None:
        """Never answer: hold the connection (if asked) past the client's timeout, then close it."""
        if resp.lose == "hold":
            deadline = time.monotonic() + resp.hold_seconds
            generation = self.server.sandbox.generation
            while time.monotonic() < deadline and generation == self.server.sandbox.generation:
                time.sleep(0.05)
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class NetSuiteSandbox:
    """A NetSuite account simulator: its data, its faults, and (once started) its HTTP server."""

    def __init__(
        self,
        *,
        data_dir: str | Path | None = None,
        credentials: Credentials = DEMO_CREDENTIALS,
        public_root_url: str | None = None,
        timestamp_window: int = 300,
        file_root: str | Path | None = None,
        verbose: bool = False,
        time_zone: str = "UTC",
        script_time_zone: str = "America/Los_Angeles",
        **faults: Any,
    ) -> None:
        """Create a sandbox: data in data_dir (else in memory), SuiteQL dates in time_zone, faults as `Faults`."""
        db_path = None
        if data_dir is not None:
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            db_path = Path(data_dir) / "netsuite-sandbox.sqlite3"
        self.credentials = credentials
        self.public_root_url = public_root_url.rstrip("/") if public_root_url else None
        self.file_root = Path(file_root) if file_root else None
        self.verbose = verbose
        self.store = Store(db_path)
        # The time zone of the servers the SuiteScripts run on, which their file names show (Date.toString()).
        self.script_time_zone = script_time_zone
        from .hotwax import install

        install(self.store)
        self.authenticator = Authenticator(credentials, window=timestamp_window)
        self.governor = Governor(**faults)
        self.stats_counter = Stats()
        self.app = App(
            store=self.store,
            authenticator=self.authenticator,
            governor=self.governor,
            stats=self.stats_counter,
            run_script=self._run_script_json,
            time_zone=UTC if time_zone == "UTC" else ZoneInfo(time_zone),
        )
        self.generation = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._scheduler: threading.Thread | None = None
        self._stop = threading.Event()

    # -- credentials -----------------------------------------------------------------------------

    @property
    def account_id(self) -> str:
        return self.credentials.account_id

    @property
    def consumer_key(self) -> str:
        return self.credentials.consumer_key

    @property
    def consumer_secret(self) -> str:
        return self.credentials.consumer_secret

    @property
    def token_id(self) -> str:
        return self.credentials.token_id

    @property
    def token_secret(self) -> str:
        return self.credentials.token_secret

    def oauth(self, **overrides: Any) -> Any:
        """Return a requests-oauthlib OAuth1 signer for this account (overrides replace any argument)."""
        from requests_oauthlib import OAuth1

        kwargs = {
            "client_key": self.consumer_key,
            "client_secret": self.consumer_secret,
            "resource_owner_key": self.token_id,
            "resource_owner_secret": self.token_secret,
            "signature_method": "HMAC-SHA256",
            "realm": self.account_id,
            **overrides,
        }
        return OAuth1(**kwargs)

    # -- server ----------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> NetSuiteSandbox:
        """Serve HTTP in a background thread (port 0: a free one)."""
        self._server = _Server((host, port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="netsuite-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C interrupts)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def serve_forever(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve HTTP in this thread until interrupted."""
        self._server = _Server((host, port), self)
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        """Stop the server and the script scheduler, and release held answers."""
        self._stop.set()
        self.generation += 1
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=5)
            self._server.server_close()
            self._server = None

    def __enter__(self) -> NetSuiteSandbox:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("The sandbox is not serving; call start() first.")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        """Return scheme://host:port of the server."""
        if self.public_root_url:
            return self.public_root_url
        if self._server is None:
            raise RuntimeError("The sandbox is not serving; call start() first.")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """Return the REST base URL, the one a connection's base URL override points at."""
        return self.root_url + REST_PREFIX

    # -- controls --------------------------------------------------------------------------------

    def configure(self, **faults: Any) -> Faults:
        """Switch faults on or off (keys of `Faults`); return the faults now in force."""
        return self.governor.configure(**faults)

    @property
    def faults(self) -> Faults:
        return self.governor.faults

    def reset(self, *, data: bool = True) -> None:
        """Turn faults off, zero the stats, forget nonces, release held answers and (by default) delete all data."""
        self.generation += 1
        self.governor.reset()
        self.stats_counter.reset()
        self.authenticator.reset()
        if data:
            self.store.reset()
            self.app.jobs.reset()
            from .hotwax import install

            install(self.store)

    @property
    def stats(self) -> dict[str, Any]:
        """Return in_flight, peak_in_flight, total_requests, requests_by_route, responses_by_status,
        async_jobs_created and async_tasks_created (records in all jobs)."""
        jobs = self.app.jobs
        return {
            **self.stats_counter.snapshot(),
            "async_jobs_created": jobs.created,
            "async_tasks_created": jobs.tasks_created,
        }

    def reset_stats(self) -> None:
        """Zero the request statistics."""
        self.stats_counter.reset()

    # -- data ------------------------------------------------------------------------------------

    def seed_customers(self, count: int, **kwargs: Any) -> tuple[int, int]:
        """Insert generated customers in bulk (see `Store.seed`); return the first and last IDs."""
        return self.store.seed(count, **kwargs)

    def seed_historical(self, count: int, **kwargs: Any) -> tuple[int, int]:
        """Insert generated customers that carry Shopify customer IDs."""
        return self.store.seed(count, historical=True, **kwargs)

    def create_customer(self, body: dict) -> int:
        """Create a customer from NetSuite JSON, validated as over REST; return its internal ID."""
        return records.create(self.store, body)

    def upsert_customer(self, external_id: str, body: dict) -> int:
        """Create or update a customer by external ID; return its internal ID."""
        return records.upsert(self.store, external_id, body)[0]

    def contact(self, contact_id: int) -> dict | None:
        """Return one contact as NetSuite JSON, or None."""
        from . import contacts

        row = self.store.get_contact(contact_id)
        return contacts.to_json(row, base_url=self._base_or_blank()) if row else None

    def contacts_of(self, company_id: int) -> list[dict]:
        """Return the contacts of a company customer."""
        from . import contacts

        return [contacts.to_json(r, base_url=self._base_or_blank()) for r in self.store.contacts_of(company_id)]

    def add_entity(self, record_type: str, external_id: str) -> int:
        """Create a vendor, employee or partner holding an external ID (the entity group shares external IDs)."""
        return self.store.add_other_entity(record_type, external_id)

    def customer(self, customer_id: int) -> dict | None:
        """Return one customer as NetSuite JSON, or None."""
        row = self.store.get(customer_id)
        return records.to_json(row, base_url=self._base_or_blank()) if row else None

    def customers_by_external_id(self, external_id: str) -> list[dict]:
        """Return every customer with this external ID (a correct client leaves at most one)."""
        return [records.to_json(r, base_url=self._base_or_blank()) for r in self.store.find(external_id=external_id)]

    def customers_by_email(self, email: str) -> list[dict]:
        """Return every customer with this email, case-insensitively."""
        return [records.to_json(r, base_url=self._base_or_blank()) for r in self.store.find(email=email)]

    def count_customers(self, *, external_id: str | None = None, email: str | None = None) -> int:
        """Count customers, all or those matching an external ID and/or email."""
        if external_id is None and email is None:
            return self.store.count()
        return len(self.store.find(external_id=external_id, email=email))

    def duplicates(self) -> dict[str, dict[str, int]]:
        """Return emails and names held by more than one customer."""
        return self.store.duplicates()

    def set_external_id(self, customer_id: int, external_id: str) -> None:
        """Give a customer an external ID as another integration may (SOAP, CSV import): any text, no REST rules."""
        self.store.execute("UPDATE customer SET externalid = ? WHERE id = ?", (external_id, customer_id))

    def set_last_modified(self, customer_id: int, when: datetime) -> None:
        """Backdate or forward-date a customer's lastModifiedDate."""
        self.store.set_last_modified(customer_id, when)

    def _base_or_blank(self) -> str:
        return self.base_url if (self._server or self.public_root_url) else ""

    # -- SuiteScripts ----------------------------------------------------------------------------

    def run_script(self, name: str, root: str | Path | Any | None = None, **context: Any) -> Any:
        """Run one of HotWax's SuiteScripts over a file root (a folder path or a `FileRoot`); return its run."""
        from .hotwax import run_script

        context.setdefault("time_zone", self.script_time_zone)
        return run_script(name, self.store, root if root is not None else self._default_root(), **context)

    def run_csv_import_queue(self) -> list[int]:
        """Import the CSV import jobs HC_SC_ImportCustomer queued (NetSuite does it some time after the script)."""
        from .hotwax import csvimport

        return csvimport.run_queue(self.store)

    def csv_import_jobs(self) -> list[dict]:
        """NetSuite's CSV Import Job Status page: every job, its counts and each rejected row's message."""
        from .hotwax import csvimport

        return csvimport.jobs(self.store)

    def _default_root(self) -> Path:
        if self.file_root is None:
            raise ValueError("No file root: pass one, or start the sandbox with file_root.")
        return self.file_root

    def _run_script_json(self, name: str, root: str | None) -> dict:
        result = self.run_script(name, root)
        return json.loads(json.dumps(result, default=lambda o: getattr(o, "__dict__", str(o))))

    def start_scheduler(self, interval: float) -> None:
        """Run the scheduled scripts (historical upload, import, the CSV import queue, created IDs) every interval."""
        from .hotwax import run_scheduled

        def loop() -> None:
            while not self._stop.wait(interval):
                for run in run_scheduled(self.store, self._default_root(), time_zone=self.script_time_zone):
                    for level, text in run.log.entries:
                        if level == "ERROR" or self.verbose:
                            _log.info("%s %s: %s", run.name, level, text)

        self._scheduler = threading.Thread(target=loop, name="netsuite-sandbox-scripts", daemon=True)
        self._scheduler.start()
