"""One mapping model for the REST and the file connectors."""

from __future__ import annotations

from netsuite.mapping import Mappings
from netsuite.services import mappings_for, reference_mappings_set


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
