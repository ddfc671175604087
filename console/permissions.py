"""Every permission the console checks, in one place: what a role may do beyond looking.

The permissions are declared on the console's proxy models (``console.models``); the Operator and Viewer groups
(``console.roles``) grant them. Views, admin actions and templates ask these functions, never a literal.
"""

from __future__ import annotations

from typing import Any

RESYNC_PERMISSION = "console.can_resync"
RUN_JOBS_PERMISSION = "console.can_run_jobs"


def can_resync(user: Any) -> bool:
    """Whether the user may send customers and failed records again now (RESYNC, selective export)."""
    return bool(user and user.has_perm(RESYNC_PERMISSION))


def can_run_jobs(user: Any) -> bool:
    """Whether the user may start jobs now and change their frequency."""
    return bool(user and user.has_perm(RUN_JOBS_PERMISSION))
