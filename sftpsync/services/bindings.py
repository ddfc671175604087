"""What both inbound jobs write for a customer NetSuite knows: its identifications and its synced sync row."""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from customers.models import CustomerSync, ExternalSystem, PartyIdentification
from integration_portal import bulk as sql


def ident_inserter() -> sql.RowInserter:
    """Insert identification rows given as (customer pk, type, value, created_at)."""
    return sql.RowInserter(PartyIdentification, ("customer_id", "type", "value", "created_at"))


class SyncRows:
    """A connector's sync rows, read and written a batch at a time."""

    def __init__(self, system: ExternalSystem) -> None:
        self.system = system
        s = sql.table(CustomerSync)
        self.inserter = sql.RowInserter(
            CustomerSync,
            (
                "customer_id",
                "external_system_id",
                "enabled",
                "status",
                "external_id",
                "last_attempt_at",
                "last_synced_at",
            ),
        )
        self.q_of = (
            f"SELECT customer_id, id, status, external_id FROM {s} WHERE external_system_id = %s "
            "AND customer_id IN ({into})"
        )
        # Written as the partial unique index's own condition, so the database uses that index.
        self.q_owners = (
            f"SELECT customer_id, external_id FROM {s} WHERE external_system_id = %s AND NOT (external_id = '') "
            "AND external_id IN ({into})"
        )
        self.q_update = (
            f"UPDATE {s} SET status = %s, external_id = %s, last_attempt_at = %s, last_synced_at = %s, "
            "last_error_code = '', last_error_message = '' WHERE id = %s"
        )

    def of(self, customer_pks: Iterable[Any]) -> dict[Any, tuple[int, str, str]]:
        """Return customer pk → (sync pk, status, external ID) for the customers that have a sync row."""
        return {pk: (sid, st, ext) for pk, sid, st, ext in sql.select_in(self.q_of, customer_pks, [self.system.pk])}

    def owners(self, external_ids: Iterable[str]) -> dict[str, Any]:
        """Return external ID → customer pk for the IDs some customer's sync row holds."""
        return {ext: pk for pk, ext in sql.select_in(self.q_owners, external_ids, [self.system.pk])}

    def mark_synced(self, synced: Mapping[int, str], existing: Mapping[Any, tuple[int, str, str]], now: Any) -> None:
        """Bind each customer pk to its external ID as synced: insert missing rows, update changed ones."""
        status = CustomerSync.Status.SYNCED
        inserts, updates = [], []
        for pk, value in synced.items():
            row = existing.get(pk)
            if row is None:
                inserts.append((pk, self.system.pk, True, status, value, now, now))
            elif (row[1], row[2]) != (status, value):
                updates.append((status, value, now, now, row[0]))
        self.inserter.insert(inserts)
        sql.execute_many(self.q_update, updates)
