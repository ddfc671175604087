"""Every permission the console checks, in one place: what a role may do beyond looking.

The permissions are declared on the console's proxy models (``console.models``); the Operator and Viewer groups
(``console.roles``) grant them. Views, admin actions and templates ask these functions, never a literal.
"""

from __future__ import annotations

from typing import Any

RESYNC_PERMISSION = "console.can_resync"
RUN_JOBS_PERMISSION = "console.can_run_jobs"
TEST_CONNECTIONS_PERMISSION = "console.can_test_connections"
MANAGE_API_TOKENS_PERMISSION = "console.can_manage_api_tokens"


def _has(user: Any, permission: str) -> bool:
    return bool(user and user.has_perm(permission))


def can_resync(user: Any) -> bool:
    """Whether the user may send customers and failed records again now (RESYNC, selective export)."""
    return _has(user, RESYNC_PERMISSION)


def can_run_jobs(user: Any) -> bool:
    """Whether the user may start jobs now and change their frequency."""
    return _has(user, RUN_JOBS_PERMISSION)


def can_test_connections(user: Any) -> bool:
    """Whether the user may test a connection now: a signed login with its stored credentials, and its outcome saved."""
    return _has(user, TEST_CONNECTIONS_PERMISSION)


def can_manage_api_tokens(user: Any) -> bool:
    """Whether the user may create, change and revoke the orders API's tokens."""
    return _has(user, MANAGE_API_TOKENS_PERMISSION)
