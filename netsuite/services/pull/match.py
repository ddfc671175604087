"""Finding the local customers of a page of NetSuite rows, in one query (or a few, where parameters run short)."""

# Table and column names in the SQL below come from the models' _meta, never from input; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection as db_connection

from customers.models import SHOPIFY_CUST_ID, Customer, CustomerSync, PartyIdentification
from integration_portal.bulk import in_values, max_query_params

from ...mapping import NetSuiteKeys
from .query import CUSTOMER_PULL_FIELDS

# How a NetSuite row found its local customer, in order of precedence.
BY_NETSUITE_ID, BY_SYNC, BY_CUSTOMER_ID, BY_SHOPIFY_ID = 1, 2, 3, 4
CUSTOMER_ATTNAMES = tuple(f.attname for f in Customer._meta.concrete_fields)
_AT = {name: n for n, name in enumerate(CUSTOMER_ATTNAMES)}
PULL_FIELD_INDEXES = tuple((name, _AT[name]) for name in CUSTOMER_PULL_FIELDS)
# Plain strings for rows written by raw SQL.
PENDING, ERROR, SYNCED = (
    CustomerSync.Status.PENDING.value,
    CustomerSync.Status.ERROR.value,
    CustomerSync.Status.SYNCED.value,
)
B2B, B2C, COMPANY = Customer.Segment.B2B.value, Customer.Segment.B2C.value, Customer.PartyType.COMPANY.value
# A new customer's values before the page fills in its pulled fields, customer ID, segment, validity and times.
NEW_CUSTOMER_DEFAULTS = tuple(None if f.primary_key else f.get_default() for f in Customer._meta.concrete_fields)


@dataclass(slots=True)
class _Local:
    """A local customer a NetSuite row matched, with its link and its sync with this system."""

    values: list  # the customer's column values, in CUSTOMER_ATTNAMES order
    linked_to: str | None  # the NetSuite internal ID it is already linked to
    sync_id: int | None
    sync_status: str | None
    sync_external_id: str | None
    sync_last_synced_at: Any
    has_enabled_sync: bool


def match_rows(
    rows: list[tuple[NetSuiteKeys, dict]], *, ident_type: str, system_pk: int
) -> tuple[dict[str, int], dict[int, _Local], set[str]]:
    """Find the local customers of a page's rows in one query: by the NetSuite ID link, the sync's external
    ID, externalId = customer ID, then the Shopify customer ID.

    Return the customer pk of each matched NetSuite internal ID, the matched customers, and the customer
    IDs among the rows' external IDs that are taken.
    """
    by_kind: dict[int, dict[str, int]] = {kind: {} for kind in (1, 2, 3, 4)}
    local: dict[int, _Local] = {}
    # One query for a page, unless the database takes fewer parameters than four IN lists of it need.
    size = max(1, (max_query_params() - 8) // 4)
    for start in range(0, len(rows), size):
        _match_part(rows[start : start + size], by_kind, local, ident_type=ident_type, system_pk=system_pk)
    found: dict[str, int] = {}
    for keys, _ in rows:
        pk = (
            by_kind[BY_NETSUITE_ID].get(keys.internal_id)
            or by_kind[BY_SYNC].get(keys.internal_id)
            or by_kind[BY_CUSTOMER_ID].get(keys.external_id)
            or by_kind[BY_SHOPIFY_ID].get(keys.shopify_id)
        )
        if pk is not None:
            found[keys.internal_id] = pk
    return found, local, set(by_kind[BY_CUSTOMER_ID])


def _match_part(
    rows: list[tuple[NetSuiteKeys, dict]], by_kind: dict, local: dict[int, _Local], *, ident_type: str, system_pk: int
) -> None:
    qn = db_connection.ops.quote_name
    customer = qn(Customer._meta.db_table)
    ident = qn(PartyIdentification._meta.db_table)
    sync = qn(CustomerSync._meta.db_table)
    ns_ids = [k.internal_id for k, _ in rows]
    external_ids = list({k.external_id for k, _ in rows if k.external_id})
    shopify_ids = list({k.shopify_id for k, _ in rows if k.shopify_id})

    ns_in, ns_params = in_values(ns_ids)
    branches = [
        f"SELECT {BY_NETSUITE_ID} AS kind, value AS k, customer_id AS cid FROM {ident} "
        f"WHERE type = %s AND value IN ({ns_in})",
        f"SELECT {BY_SYNC}, external_id, customer_id FROM {sync} "
        f"WHERE external_system_id = %s AND external_id IN ({ns_in})",
    ]
    params: list[Any] = [ident_type, *ns_params, system_pk, *ns_params]
    if external_ids:
        inside, more = in_values(external_ids)
        branches.append(f"SELECT {BY_CUSTOMER_ID}, customer_id, id FROM {customer} WHERE customer_id IN ({inside})")
        params += more
    if shopify_ids:
        inside, more = in_values(shopify_ids)
        branches.append(
            f"SELECT {BY_SHOPIFY_ID}, value, customer_id FROM {ident} WHERE type = %s AND value IN ({inside})"
        )
        params += [SHOPIFY_CUST_ID, *more]
    columns = ", ".join(f"c.{qn(f.column)}" for f in Customer._meta.concrete_fields)
    sql = (
        f"SELECT m.kind, m.k, {columns}, s.id, s.status, s.external_id, s.last_synced_at, "
        f"(SELECT i.value FROM {ident} i WHERE i.customer_id = c.id AND i.type = %s ORDER BY i.id LIMIT 1), "
        f"EXISTS (SELECT 1 FROM {sync} e WHERE e.customer_id = c.id AND e.enabled) "
        f"FROM ({' UNION ALL '.join(branches)}) m JOIN {customer} c ON c.id = m.cid "
        f"LEFT JOIN {sync} s ON s.customer_id = c.id AND s.external_system_id = %s"
    )
    width = len(CUSTOMER_ATTNAMES)
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [ident_type, *params, system_pk])
        for kind, key, *rest in cursor.fetchall():
            values = rest[:width]
            pk = values[0]
            by_kind[kind].setdefault(key, pk)
            if pk not in local:
                sync_id, status, external_id, synced_at, linked_to, enabled = rest[width:]
                local[pk] = _Local(values, linked_to, sync_id, status, external_id, synced_at, bool(enabled))
