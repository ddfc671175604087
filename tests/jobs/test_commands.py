"""The sync commands refuse bad arguments with a message that says what is wrong, and change nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from customers.models import Customer, SyncLog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("command", ["pull_customers", "reconcile_shopify"])
@pytest.mark.parametrize(
    "args, says",
    [
        (["--since", "yesterday"], "is not an ISO 8601 date and time"),
        (["--since", "2024-13-45T99:00:00"], "is not an ISO 8601 date and time"),
        (["--connection", "no-such-connection"], "no-such-connection"),
        (["--connection", "no-such-\x00connection"], "is not a connection name"),
        (["--connection", "Café\u00a0Berlin"], "Add one under"),  # a no-break space may be in a name: looked up
        ([], "No active"),
    ],
)
def test_bad_arguments_are_refused_clearly_and_nothing_changes(command, args, says):
    with pytest.raises(CommandError) as refused:
        call_command(command, *args)
    message = str(refused.value)
    assert message and says in message
    assert not Customer.objects.exists() and not SyncLog.objects.exists()
