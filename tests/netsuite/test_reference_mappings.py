"""One mapping model for the REST and the file connectors: the REST connection's old JSON is moved into it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from netsuite.mapping import Mappings
from netsuite.services import mappings_for, reference_mappings_set

BEFORE = [("netsuite", "0003_api_token_connection_expiry"), ("customers", "0002_drop_redundant_indexes")]
AFTER = [("netsuite", "0004_reference_mappings")]


@pytest.mark.django_db(transaction=True)
def test_the_rest_connections_json_mappings_become_rows_and_back() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    system = old.get_model("customers", "ExternalSystem").objects.create(code="ns", name="NetSuite")
    old.get_model("netsuite", "NetSuiteConnection").objects.create(
        external_system=system,
        account_id="1234567",
        mappings={
            "subsidiaries": {"Parent Company": "1", " parent  company ": "9"},  # the same value twice: the first wins
            "payment_terms": {"Net 30": "2"},
            "unknown_kind": {"x": "1"},
        },
    )
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    mappings = mappings_for(external_system=system.pk)
    assert mappings.to_netsuite("subsidiaries", "PARENT COMPANY") == "1"
    assert mappings.to_netsuite("payment_terms", "Net 30") == "2"
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    back = executor.loader.project_state(BEFORE).apps.get_model("netsuite", "NetSuiteConnection").objects.get()
    assert back.mappings == {"subsidiaries": {"Parent Company": "1"}, "payment_terms": {"Net 30": "2"}}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_one_mapping_serves_both_connectors(netsuite_system) -> None:
    reference_mappings_set(
        external_system=netsuite_system,
        mappings={"subsidiaries": {"Parent Company": "1"}, "lead_sources": {"Shopify": "7"}},
    )
    mappings = mappings_for(external_system=netsuite_system)
    assert isinstance(mappings, Mappings)
    assert (
        mappings.to_netsuite("subsidiaries", "parent company"),
        mappings.to_netsuite("lead_sources", "Shopify"),
    ) == (
        "1",
        "7",
    )
    assert mappings.to_local("subsidiaries", "1") == "Parent Company"
    reference_mappings_set(external_system=netsuite_system, mappings={"lead_sources": {}})
    assert mappings_for(external_system=netsuite_system).to_netsuite("lead_sources", "Shopify") is None
    assert mappings_for(external_system=netsuite_system).to_netsuite("subsidiaries", "Parent Company") == "1"
