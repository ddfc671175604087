"""The one place the file connector records that groups of its customers failed, through customers.services.

A failure is recorded per group of customers that share its code and message (the message names a file or a
value, not the customer). A customer whose sync row already shows the same failure is not recorded again, so a
run that meets the same problem every time writes nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from customers.models import Customer, CustomerSync, ExternalSystem
from customers.services import attempts_record, customer_attempt
from integration_portal import bulk as sql

CHUNK = 2000


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
    """Put each group's customers in error with the system, and record what is new; return how many were."""
    recorded = 0
    for group in groups:
        for part in sql.chunks(sorted(set(group.customer_pks)), CHUNK):
            rows = CustomerSync.objects.filter(external_system=system, customer_id__in=part).values_list(
                "customer_id", "customer__customer_id", "customer__party_type", "status", "last_error_code",
                "last_error_message",
            )  # fmt: skip
            attempts = [
                customer_attempt(
                    Customer(pk=pk, customer_id=cid, party_type=party),
                    system,
                    ok=False,
                    trigger=trigger,
                    operation=operation,
                    code=group.code,
                    message=group.message,
                    user=user,
                    file_name=group.file_name,
                )
                for pk, cid, party, status, code, message in rows
                if (status, code, message) != (CustomerSync.Status.ERROR, group.code, group.message)
            ]
            attempts_record(attempts)
            recorded += len(attempts)
    return recorded
