"""Shopify as the source of customers and B2B companies.

``apply`` (the one way Shopify objects reach the customer master), ``inbox`` (webhooks: receive, process,
sweep), ``reconcile`` (bulk operations), ``connection`` (Test connection, webhook subscriptions).
"""

from .apply import APPLY_FAILED, COMPANY_UNKNOWN, UNREADABLE, ApplyResult, customer_is_active, shopify_objects_apply
from .connection import ConnectionCheck, SubscribeReport, connection_test, subscriptions_create, subscriptions_refresh
from .inbox import Receipt, inbox_enqueue, inbox_process, inbox_retry, inbox_sweep, webhook_receive
from .reconcile import ReconcileReport, jsonl_lines, lines_apply, shopify_reconcile

__all__ = [
    "APPLY_FAILED",
    "COMPANY_UNKNOWN",
    "UNREADABLE",
    "ApplyResult",
    "ConnectionCheck",
    "Receipt",
    "ReconcileReport",
    "SubscribeReport",
    "connection_test",
    "customer_is_active",
    "inbox_enqueue",
    "inbox_process",
    "inbox_retry",
    "inbox_sweep",
    "jsonl_lines",
    "lines_apply",
    "shopify_objects_apply",
    "shopify_reconcile",
    "subscriptions_create",
    "subscriptions_refresh",
    "webhook_receive",
]
