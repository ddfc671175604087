"""A NetSuite REST connection pointed at the sandbox, with mappings for the sandbox's reference data."""

from __future__ import annotations

import pytest
from django.utils import timezone

from customers.models import ExternalSystem
from netsuite.models import NetSuiteConnection
from netsuite.services import reference_mappings_set
from netsuite_sandbox import NetSuiteSandbox

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
    netsuite_system.historical_import_completed_at = timezone.now()
    netsuite_system.save()
    reference_mappings_set(external_system=netsuite_system, mappings=SANDBOX_MAPPINGS)
    return NetSuiteConnection.objects.create(
        external_system=netsuite_system,
        account_id=netsuite_sandbox.account_id,
        base_url=netsuite_sandbox.base_url,
        consumer_key=netsuite_sandbox.consumer_key,
        consumer_secret=netsuite_sandbox.consumer_secret,
        token_id=netsuite_sandbox.token_id,
        token_secret=netsuite_sandbox.token_secret,
        concurrency_share=5,
        request_timeout=2,
        defaults={"subsidiary": "1"},
        push_on_change=False,
    )
