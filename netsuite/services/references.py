"""NetSuite reference mappings of an external system: read as one Mappings, written kind by kind."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from customers.models import ExternalSystem

from ..mapping import REFERENCE_KINDS, Mappings
from ..models import ReferenceMapping


def mappings_for(*, external_system: ExternalSystem | int) -> Mappings:
    """Return every reference mapping of the system as one Mappings (the connectors' in-memory form)."""
    system_id = external_system if isinstance(external_system, int) else external_system.pk
    rows = ReferenceMapping.objects.filter(external_system_id=system_id).values_list(
        "kind", "local_value", "internal_id"
    )
    return Mappings.from_rows(rows)


def reference_mappings_set(*, external_system: ExternalSystem, mappings: Mapping[str, Mapping[str, str]]) -> int:
    """Set the given kinds' mappings of a system (local value → internal ID); other kinds stay. Return the count."""
    unknown = set(mappings) - set(REFERENCE_KINDS)
    if unknown:
        raise ValueError(f"Unknown mapping kind(s) {', '.join(sorted(unknown))}; known: {', '.join(REFERENCE_KINDS)}")
    with transaction.atomic():
        ReferenceMapping.objects.filter(external_system=external_system, kind__in=list(mappings)).delete()
        rows = [
            ReferenceMapping(external_system=external_system, kind=kind, local_value=local, internal_id=str(value))
            for kind, values in mappings.items()
            for local, value in values.items()
        ]
        ReferenceMapping.objects.bulk_create(rows)
    return len(rows)
