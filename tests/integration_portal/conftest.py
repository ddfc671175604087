"""The console's users in their roles, for the portal-wide tests here."""

from tests.console.conftest import operator, operator_client, viewer, viewer_client  # noqa: F401 (fixtures)
