"""A NetSuite REST connection pointed at the sandbox, with mappings for the sandbox's reference data."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from customers.models import ExternalSystem
from netsuite.models import NetSuiteConnection
from netsuite_sandbox import NetSuiteSandbox
from tests.conftest import sandbox_connection
from tests.console.conftest import operator, operator_client, viewer, viewer_client  # noqa: F401 (role fixtures)

SANDBOX_MAPPINGS = {
    "payment_terms": {"Net 15": "1", "Net 30": "2", "Net 60": "3"},
    "price_levels": {"Base Price": "1", "Wholesale": "2", "MSRP": "4"},
    "sales_reps": {},
    "subsidiaries": {"Parent Company": "1", "Honeycomb Mfg.": "2", "Honeycomb Holdings UK": "3"},
}


@pytest.fixture(autouse=True)
def _fast_retries(settings) -> None:
    settings.NETSUITE_RETRY_BACKOFF_SECONDS = 0.01
    settings.NETSUITE_RETRY_AFTER_MAX_SECONDS = 0.05


@pytest.fixture
def connection(netsuite_system: ExternalSystem, netsuite_sandbox: NetSuiteSandbox) -> NetSuiteConnection:
    """Return a connection to the sandbox whose first complete pull is done (pushes may run)."""
    return sandbox_connection(
        netsuite_system, netsuite_sandbox, concurrency_share=5, mappings=SANDBOX_MAPPINGS, defaults={"subsidiary": "1"}
    )


def peak_of_runs(open_run: Callable[[], object], *, runs: int, requests: int = 3) -> int:
    """Run ``runs`` threads, each a run of its own (``open_run()``, a LeasedSlots) sending ``requests`` requests of
    10 ms, as separate worker processes would; return the most requests ever in flight at once."""
    in_flight, peak, lock = 0, 0, threading.Lock()

    def work() -> None:
        nonlocal in_flight, peak
        from django.db import connections

        try:
            with open_run() as run:
                for _ in range(requests):
                    with run.slot():
                        with lock:
                            in_flight += 1
                            peak = max(peak, in_flight)
                        time.sleep(0.01)
                        with lock:
                            in_flight -= 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return peak
