"""Logging never carries a NetSuite credential or token ID, at any level (LOG_LEVEL=DEBUG included)."""

from __future__ import annotations

import copy
import logging.config

import pytest

from customers.models import SyncLog
from netsuite.services import connection_test, customers_push

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("oauth_loggers", ["as configured", "forced to DEBUG"])
def test_a_push_at_debug_logs_none_of_the_four_secrets(
    connection, make_customer, netsuite_sandbox, settings, capsys, oauth_loggers
):
    config = copy.deepcopy(settings.LOGGING)
    config["root"]["level"] = "DEBUG"  # what LOG_LEVEL=DEBUG sets
    if oauth_loggers == "forced to DEBUG":
        # Someone turns oauthlib's own logging back on: the redaction filter must still hold.
        config["loggers"]["oauthlib"]["level"] = config["loggers"]["requests_oauthlib"]["level"] = "DEBUG"
    capsys.readouterr()
    logging.config.dictConfig(config)
    try:
        customer = make_customer()
        report = customers_push(connection=connection, customer_pks=[customer.pk], trigger=SyncLog.Trigger.ON_DEMAND)
        assert report.succeeded == 1
        assert connection_test(connection=connection).ok
    finally:
        logging.config.dictConfig(settings.LOGGING)
    output = capsys.readouterr().err
    assert " DEBUG " in output, "debug logging did not reach the handler"
    if oauth_loggers == "forced to DEBUG":
        assert "oauthlib" in output  # it did log the signed request, redacted
    secrets = {
        "consumer key": netsuite_sandbox.consumer_key,
        "consumer secret": netsuite_sandbox.consumer_secret,
        "token ID": netsuite_sandbox.token_id,
        "token secret": netsuite_sandbox.token_secret,
    }
    for name, value in secrets.items():
        assert value not in output, f"the {name} is in the log"
