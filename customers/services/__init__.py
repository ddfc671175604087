"""Writes and checks on the customer master that the admin, the jobs and every connector share.

``validation``: what each connector requires, and the stored readiness. ``attempts``: the one writer of what
sending a record came to (sync state, attempt log, failure queue). ``failures``: the failure lifecycle.
``links``: identifications, delete protection and lookups by ID.
"""

from .attempts import (
    Attempt,
    SyncRows,
    attempt_record,
    attempts_record,
    customer_attempt,
    customer_request_resync,
    customer_sync_get_or_create,
    customer_syncs_enable,
    record_type_of,
    syncs_mark_sent,
)
from .failures import failures_mark_resolved, failures_resolve
from .links import (
    CustomerLinkedError,
    IdentificationConflict,
    customer_delete,
    customer_links,
    customers_find_by_ids,
    identification_add,
)
from .validation import (
    NOT_SELECTED,
    Problem,
    Readiness,
    SyncReadiness,
    connector_problems,
    customer_readiness,
    customer_refresh_validation,
    customer_validate_for_export,
    customers_refresh_validation,
    problems_as_text,
)

__all__ = [
    "NOT_SELECTED",
    "Attempt",
    "CustomerLinkedError",
    "IdentificationConflict",
    "Problem",
    "Readiness",
    "SyncReadiness",
    "SyncRows",
    "attempt_record",
    "attempts_record",
    "connector_problems",
    "customer_attempt",
    "customer_delete",
    "customer_links",
    "customer_readiness",
    "customer_refresh_validation",
    "customer_request_resync",
    "customer_sync_get_or_create",
    "customer_syncs_enable",
    "customer_validate_for_export",
    "customers_find_by_ids",
    "customers_refresh_validation",
    "failures_mark_resolved",
    "failures_resolve",
    "identification_add",
    "problems_as_text",
    "record_type_of",
    "syncs_mark_sent",
]
