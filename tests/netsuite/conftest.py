"""A NetSuite REST connection pointed at the sandbox, with mappings for the sandbox's reference data."""

from __future__ import annotations

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
