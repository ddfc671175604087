"""What both inbound jobs write for a customer NetSuite knows: its identifications (its synced sync row is
written through ``customers.services.SyncRows``)."""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.

from __future__ import annotations

from customers.models import PartyIdentification
from integration_portal import bulk as sql


def ident_inserter() -> sql.RowInserter:
    """Insert identification rows given as (customer pk, type, value, created_at)."""
    return sql.RowInserter(PartyIdentification, ("customer_id", "type", "value", "created_at"))
