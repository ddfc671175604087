"""The one place the file connector records that customers failed: their sync rows in error, one log entry each.

A failure is recorded per group of customers that share its code and message (the message names a file or a
value, not the customer), so a file of 25,000 customers costs one UPDATE and one bulk insert. A customer whose
identical failure is still open is not logged again. Writes go through customers.services (synclog_record_many)
where it has a bulk form; the sync rows are updated set-wise here, the lead's failure lifecycle to take it over.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from customers.models import Customer, CustomerSync, ExternalSystem, SyncLog
from customers.services import SyncLogEntry, synclog_record_many
from integration_portal import bulk as sql


@dataclass(frozen=True)
class FailureGroup:
    """Customers that failed for one reason: the code, the operator's message and the file concerned."""

    code: str
    message: str
    customer_pks: tuple[int, ...]
    file_name: str = ""


def customers_fail(
    *, system: ExternalSystem, groups: Iterable[FailureGroup], operation: str, trigger: str, user: Any = None
) -> int:
    """Put each group's customers in error with the system and log what is new; return how many were logged."""
    now = timezone.now()
    logged = 0
    for group in groups:
        for part in sql.chunks(sorted(set(group.customer_pks)), 5000):
            with transaction.atomic():
                CustomerSync.objects.filter(external_system=system, customer_id__in=part).update(
                    status=CustomerSync.Status.ERROR,
                    last_attempt_at=now,
                    last_error_code=group.code[:60],
                    last_error_message=group.message,
                )
                already = set(
                    SyncLog.objects.filter(
                        customer_id__in=part,
                        external_system=system,
                        error_code=group.code,
                        message=group.message,
                        outcome=SyncLog.Outcome.FAILED,
                        resolved_at__isnull=True,
                    ).values_list("customer_id", flat=True)
                )
                customers = Customer.objects.filter(pk__in=[pk for pk in part if pk not in already]).only(
                    "pk", "customer_id", "party_type"
                )
                entries = [
                    SyncLogEntry(
                        record_type=SyncLog.RecordType.CUSTOMER if c.is_person else SyncLog.RecordType.COMPANY,
                        record_id=c.customer_id,
                        trigger=trigger,
                        outcome=SyncLog.Outcome.FAILED,
                        customer=c,
                        external_system=system,
                        operation=operation,
                        error_code=group.code,
                        message=group.message,
                        file_name=group.file_name[:255],
                        user=user,
                    )
                    for c in customers
                ]
                synclog_record_many(entries)
                logged += len(entries)
    return logged
