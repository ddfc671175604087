"""manage.py pull_customers [--since ISO8601] [--connection NAME]: REST incremental pull of customers."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from customers.models import SyncLog
from jobs.commands import since_and_connections
from jobs.services import job_run
from netsuite import selectors, services
from netsuite.client import NetSuiteError


class Command(BaseCommand):
    help = (
        "Pull customers changed in NetSuite since the last pull (all of them the first time) and create or update "
        "them here, linked by NetSuite internal ID. A stopped pull resumes where it was."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="ISO8601", help="Pull changes since this time instead of the watermark.")
        parser.add_argument("--full", action="store_true", help="Pull every customer, ignoring the watermark.")
        parser.add_argument("--connection", metavar="NAME", help="External system code or name of the connection.")

    def handle(self, *args, since, full, connection, **options):
        since_dt, connections = since_and_connections(
            since=since,
            connection=connection,
            selectors=selectors,
            none_active="No active NetSuite REST connection. Add one in the admin first.",
        )
        for conn in connections:
            name = conn.external_system.name
            try:
                with job_run(
                    job="pull_customers",
                    external_system=conn.external_system,
                    trigger=SyncLog.Trigger.ON_DEMAND,
                    show_progress=sys.stderr.isatty(),
                ) as progress:
                    report = services.customers_pull(
                        connection=conn, since=since_dt, full=full, trigger=SyncLog.Trigger.ON_DEMAND, progress=progress
                    )
            except NetSuiteError as exc:
                raise CommandError(
                    f"{name}: the pull stopped: {exc.message} [{exc.code}]. It resumes where it was."
                ) from None
            self.stdout.write(f"{name}: {report.summary()}")
