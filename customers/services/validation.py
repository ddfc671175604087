"""What each connector requires of a customer before sending it (SPEC section 4), and the stored readiness.

A REST connector (JOOR-style) needs the whole record: name, payment term, price level and labelled, complete
addresses. HotWax's file export carries persons only and needs first and last name, email and a Shopify
customer ID (SPEC section 2: the saved import has no company name column and the created-IDs search needs a
Shopify ID). Readiness is stored per connector on the sync row (``is_ready``, ``problems``) so that jobs filter
in SQL, and summed up on the customer (``is_valid``, ``problems``) for lists.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import transaction

from integration_portal.bulk import update_objects

from ..errors import ErrorCode
from ..models import SHOPIFY_CUST_ID, Address, Customer, CustomerSync, ExternalSystem


@dataclass(frozen=True)
class Problem:
    """A reason a customer cannot be sent yet, worded as operators know it."""

    code: str
    message: str
    field: str = ""

    def __str__(self) -> str:
        return self.message


ADDRESS_REQUIRED_FIELDS = (("city", "city"), ("state", "state"), ("zip", "ZIP"))
# NetSuite caps first and last names at 32 characters (SPEC section 2); its CSV import refuses longer ones, and the
# file exchange would never hear of it (rejected rows are reported nowhere the portal can read).
NETSUITE_NAME_LIMIT = 32


def _name_problem(customer: Customer) -> Problem | None:
    if customer.is_person:
        if not (customer.first_name.strip() and customer.last_name.strip()):
            return Problem(
                ErrorCode.MISSING_CUSTOMER_NAME, "Missing customer name: enter first and last name.", "first_name"
            )
    elif not customer.company_name.strip():
        return Problem(
            ErrorCode.MISSING_CUSTOMER_NAME, "Missing customer name: enter the company name.", "company_name"
        )
    return None


def _full_record_problems(customer: Customer, addresses: list[Address]) -> list[Problem]:
    """The whole record, as a JOOR-style REST connector needs it."""
    problems = [p for p in (_name_problem(customer),) if p]
    if not customer.payment_term.strip():
        problems.append(Problem(ErrorCode.MISSING_PAYMENT_TERM, "Missing payment term", "payment_term"))
    if not customer.price_level.strip():
        problems.append(Problem(ErrorCode.MISSING_PRICE_LEVEL, "Missing price level", "price_level"))
    if not addresses:
        problems.append(
            Problem(ErrorCode.MISSING_ADDRESS, "Incomplete address: the customer has no address.", "addresses")
        )
    for number, address in enumerate(addresses, start=1):
        name = f"address {number}" + (f" ({address.label})" if address.label.strip() else "")
        if not address.label.strip():
            problems.append(Problem(ErrorCode.MISSING_ADDRESS_LABEL, f"Missing address label on {name}", "addresses"))
        missing = [label for attr, label in ADDRESS_REQUIRED_FIELDS if not getattr(address, attr).strip()]
        if missing:
            problems.append(
                Problem(
                    ErrorCode.INCOMPLETE_ADDRESS, f"Incomplete address: {name} has no {', '.join(missing)}", "addresses"
                )
            )
    return problems


def _file_export_problems(customer: Customer, identification_types: Collection[str]) -> list[Problem]:
    """A person with first and last name, email and a Shopify customer ID: what HotWax's file can carry."""
    if not customer.is_person:
        return [
            Problem(
                ErrorCode.COMPANY_NOT_SUPPORTED,
                "Companies cannot be sent through the file export (HotWax's customer file carries persons only): "
                "send it through a REST connector.",
                "party_type",
            )
        ]
    problems = [p for p in (_name_problem(customer),) if p]
    too_long = [label for label, value in (("first", customer.first_name), ("last", customer.last_name)) if
                len(value.strip()) > NETSUITE_NAME_LIMIT]  # fmt: skip
    if too_long:
        problems.append(
            Problem(
                ErrorCode.NAME_TOO_LONG,
                f"The {' and '.join(too_long)} name is longer than NetSuite's {NETSUITE_NAME_LIMIT} characters",
                "first_name" if "first" in too_long else "last_name",
            )
        )
    if not customer.email.strip():
        problems.append(Problem(ErrorCode.MISSING_EMAIL, "Missing email", "email"))
    if SHOPIFY_CUST_ID not in identification_types:
        problems.append(
            Problem(
                ErrorCode.MISSING_SHOPIFY_ID,
                "Missing Shopify customer ID: NetSuite's ID never comes back for a customer exported without one.",
                "identifications",
            )
        )
    return problems


def connector_problems(
    *,
    customer: Customer,
    external_system: ExternalSystem,
    addresses: Iterable[Address] | None = None,
    identification_types: Collection[str] | None = None,
) -> list[Problem]:
    """What this connector requires that the customer lacks (whether it is selected aside)."""
    if external_system.carries_persons_only:
        if identification_types is None:
            identification_types = set(customer.identifications.values_list("type", flat=True))
        return _file_export_problems(customer, identification_types)
    return _full_record_problems(customer, list(customer.addresses.all() if addresses is None else addresses))


def _not_selected(external_system: ExternalSystem | None) -> Problem:
    target = f"the {external_system.name} connector" if external_system else "a connector"
    return Problem(
        ErrorCode.CONNECTOR_NOT_SELECTED,
        f"Connector not selected: select {target} on the customer's External System tab.",
        "syncs",
    )


def customer_validate_for_export(
    *,
    customer: Customer,
    external_system: ExternalSystem | None = None,
    addresses: Iterable[Address] | None = None,
    syncs: Iterable[CustomerSync] | None = None,
    identification_types: Collection[str] | None = None,
) -> list[Problem]:
    """Return every reason the customer cannot be sent, one problem per missing field.

    With a system: that connector's requirements, and whether it is selected. Without: each selected
    connector's (named when there are several), or the full record's when none is selected. Bulk paths pass
    ``addresses``, ``syncs`` (with their external systems) and ``identification_types`` held in memory.
    """
    enabled = [s for s in (customer.syncs.all() if syncs is None else syncs) if s.enabled]
    if addresses is not None:
        addresses = list(addresses)

    def needs(system: ExternalSystem) -> list[Problem]:
        return connector_problems(
            customer=customer, external_system=system, addresses=addresses, identification_types=identification_types
        )

    if external_system is not None:
        problems = needs(external_system)
        if not any(s.external_system_id == external_system.pk for s in enabled):
            problems.insert(0, _not_selected(external_system))
        return problems
    if not enabled:
        full = _full_record_problems(customer, list(customer.addresses.all()) if addresses is None else addresses)
        return [_not_selected(None), *full]
    problems: list[Problem] = []
    for sync in enabled:
        for problem in needs(sync.external_system):
            if len(enabled) > 1:
                problem = Problem(problem.code, f"{sync.external_system.name}: {problem.message}", problem.field)
            if problem not in problems:
                problems.append(problem)
    return problems


def problems_as_text(problems: Iterable[Problem]) -> str:
    """Join problems into the text stored on the customer, one per line."""
    return "\n".join(p.message for p in problems)


class SyncReadiness(NamedTuple):
    """What one connector's sync row stores: ready or not, the problems as text, the first problem's code."""

    is_ready: bool
    problems: str
    problem_code: str

    @classmethod
    def of(cls, problems: list[Problem]) -> SyncReadiness:
        return cls(not problems, problems_as_text(problems), str(problems[0].code) if problems else "")


NOT_SELECTED = SyncReadiness(False, "", "")


@dataclass
class Readiness:
    """A customer's stored validity, and each of its connectors' readiness (by external system pk)."""

    problem_list: list[Problem]
    syncs: dict[int, SyncReadiness] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.problem_list

    @property
    def problems(self) -> str:
        return problems_as_text(self.problem_list)


def customer_readiness(
    *,
    customer: Customer,
    addresses: Iterable[Address] | None = None,
    syncs: Iterable[CustomerSync] | None = None,
    identification_types: Collection[str] | None = None,
) -> Readiness:
    """Compute what the customer and each of its selected connectors store (no database write).

    Bulk paths pass what they hold in memory (syncs with ``external_system`` set); otherwise it is read.
    """
    syncs = list(customer.syncs.select_related("external_system") if syncs is None else syncs)
    if addresses is None:
        addresses = list(customer.addresses.all())
    if identification_types is None and any(s.external_system.carries_persons_only for s in syncs if s.enabled):
        identification_types = set(customer.identifications.values_list("type", flat=True))
    kwargs = {"customer": customer, "addresses": addresses, "identification_types": identification_types}
    per_sync = {}
    for sync in syncs:
        if sync.enabled:
            per_sync[sync.external_system_id] = SyncReadiness.of(
                connector_problems(external_system=sync.external_system, **kwargs)
            )
        else:
            per_sync[sync.external_system_id] = NOT_SELECTED
    return Readiness(problem_list=customer_validate_for_export(syncs=syncs, **kwargs), syncs=per_sync)


def customer_refresh_validation(*, customer: Customer) -> list[Problem]:
    """Recompute and store whether the customer, and each of its connectors, is ready; return its problems."""
    syncs = list(customer.syncs.select_related("external_system"))
    readiness = customer_readiness(customer=customer, syncs=syncs)
    with transaction.atomic():
        # update() keeps modified_at: readiness is derived, not a change to sync.
        if (customer.is_valid, customer.problems) != (readiness.is_valid, readiness.problems):
            customer.is_valid, customer.problems = readiness.is_valid, readiness.problems
            Customer.objects.filter(pk=customer.pk).update(is_valid=readiness.is_valid, problems=readiness.problems)
        for sync in syncs:
            state = readiness.syncs[sync.external_system_id]
            if (sync.is_ready, sync.problems, sync.problem_code) != state:
                sync.is_ready, sync.problems, sync.problem_code = state
                CustomerSync.objects.filter(pk=sync.pk).update(**state._asdict())
    return readiness.problem_list


def customers_refresh_validation(*, customer_pks: Iterable[int], chunk: int = 500) -> int:
    """Recompute and store readiness for many customers, a few queries a chunk (sources writing in bulk);
    return how many customers or sync rows changed."""
    from django.db.models import Prefetch

    pks = list(dict.fromkeys(customer_pks))
    changed = 0
    for start in range(0, len(pks), chunk):
        customers = Customer.objects.filter(pk__in=pks[start : start + chunk]).prefetch_related(
            "addresses",
            "identifications",
            Prefetch("syncs", queryset=CustomerSync.objects.select_related("external_system")),
        )
        stale_customers, stale_syncs = [], []
        for customer in customers:
            syncs = list(customer.syncs.all())
            readiness = customer_readiness(
                customer=customer,
                addresses=list(customer.addresses.all()),
                syncs=syncs,
                identification_types={i.type for i in customer.identifications.all()},
            )
            if (customer.is_valid, customer.problems) != (readiness.is_valid, readiness.problems):
                customer.is_valid, customer.problems = readiness.is_valid, readiness.problems
                stale_customers.append(customer)
            for sync in syncs:
                state = readiness.syncs[sync.external_system_id]
                if (sync.is_ready, sync.problems, sync.problem_code) != state:
                    sync.is_ready, sync.problems, sync.problem_code = state
                    stale_syncs.append(sync)
        # A bulk update, not save(): readiness is derived, not a change to sync (modified_at stays).
        with transaction.atomic():
            update_objects(stale_customers, ["is_valid", "problems"])
            update_objects(stale_syncs, ["is_ready", "problems", "problem_code"])
        changed += len(stale_customers) + len(stale_syncs)
    return changed
