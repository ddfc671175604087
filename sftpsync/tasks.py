"""django-q2 tasks for the file jobs: thin, keyword arguments only, results as plain text."""

from __future__ import annotations

from jobs.services import user_by_id

from .models import Feed
from .services import HISTORICAL_JOB, PARTY_IDENT_JOB, run_export, run_inbound


def import_historical_customers(
    *, trigger: str = "scheduled", user_id: int | None = None, connection: str | None = None
) -> str:
    """Import new historical customer files."""
    return str(
        run_inbound(
            job=HISTORICAL_JOB,
            kind=Feed.Kind.HISTORICAL,
            trigger=trigger,
            user=user_by_id(user_id),
            connection=connection,
        )
    )


def export_customers(*, trigger: str = "scheduled", user_id: int | None = None, connection: str | None = None) -> str:
    """Write waiting customers to export files."""
    return str(run_export(trigger=trigger, user=user_by_id(user_id), connection=connection))


def import_party_identifications(
    *, trigger: str = "scheduled", user_id: int | None = None, connection: str | None = None
) -> str:
    """Import new created-IDs files."""
    return str(
        run_inbound(
            job=PARTY_IDENT_JOB,
            kind=Feed.Kind.PARTY_IDENT,
            trigger=trigger,
            user=user_by_id(user_id),
            connection=connection,
        )
    )
