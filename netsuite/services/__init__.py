"""Pushing customers to NetSuite over REST, pulling them back, and what the orders endpoint asks.

One module per subdomain: ``push`` (upserts, parents first, bind and log), ``batches`` (bulk loads as
asynchronous batches), ``claims`` (which worker sends which customer), ``runs`` (the scheduled push: one at a
time, joined by other workers), ``events`` (a saved change queues a push), ``pull`` (watermark and keyset pages),
``orders`` (is a customer in NetSuite yet), ``connection`` (Test connection, a connection's failure reported
once), ``references`` (reference mappings of a system); ``common`` and ``threads`` hold what they share.
"""

from .common import (
    OPERATION_PULL,
    OPERATION_UPDATE,
    OPERATION_UPSERT,
    PARENT_NOT_IN_NETSUITE,
    PORTAL_INTERNAL_ERROR,
    client_for,
)
from .connection import CONNECTION_RECORD_TYPE, ConnectionCheck, connection_test
from .events import customers_enqueue_push, customers_mark_changed, customers_push_changed
from .orders import Presence, customer_ensure_in_netsuite, customer_presence
from .pull import (
    CUSTOMER_PULL_FIELDS,
    PULL_COLUMNS,
    PULL_OVERLAP,
    PULL_PAGE_SIZE,
    PullReport,
    customers_pull,
    pull_query,
    suiteql_timestamp,
)
from .push import PushReport, customers_push, customers_push_handler, rest_refusal
from .references import mappings_for, reference_mappings_set
from .runs import customers_push_scheduled
from .threads import run_in_threads

__all__ = [
    "CONNECTION_RECORD_TYPE",
    "CUSTOMER_PULL_FIELDS",
    "OPERATION_PULL",
    "OPERATION_UPDATE",
    "OPERATION_UPSERT",
    "PARENT_NOT_IN_NETSUITE",
    "PORTAL_INTERNAL_ERROR",
    "PULL_COLUMNS",
    "PULL_OVERLAP",
    "PULL_PAGE_SIZE",
    "ConnectionCheck",
    "Presence",
    "PullReport",
    "PushReport",
    "client_for",
    "connection_test",
    "customer_ensure_in_netsuite",
    "customer_presence",
    "customers_enqueue_push",
    "customers_mark_changed",
    "customers_pull",
    "customers_push",
    "customers_push_changed",
    "customers_push_handler",
    "customers_push_scheduled",
    "mappings_for",
    "pull_query",
    "reference_mappings_set",
    "rest_refusal",
    "run_in_threads",
    "suiteql_timestamp",
]
