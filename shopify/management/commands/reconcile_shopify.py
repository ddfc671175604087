"""manage.py reconcile_shopify [--connection DOMAIN] [--since ISO8601]: apply what Shopify webhooks missed."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from customers.models import SyncLog
from jobs.commands import since_and_connections
from jobs.services import job_run
from shopify import selectors
from shopify.client import ShopifyError
from shopify.services import shopify_reconcile
from shopify.tasks import RECONCILE_JOB


class Command(BaseCommand):
    help = (
        "Read every customer changed in Shopify since the last reconciliation (all the first time) and every B2B "
        "company with its locations and contacts, with bulk operations, and apply what is newer than the portal's."
    )

    def add_arguments(self, parser):
        parser.add_argument("--connection", metavar="DOMAIN", help="The shop's domain (default: every active one).")
        parser.add_argument("--since", metavar="ISO8601", help="Read customers updated since this time instead.")
        parser.add_argument("--full", action="store_true", help="Read every customer, whatever the last run.")

    def handle(self, *args, connection, since, full, **options):
        since_dt, connections = since_and_connections(
            since=since,
            connection=connection,
            selectors=selectors,
            none_active="No active Shopify connection. Add one with manage.py shopify_connection first.",
        )
        # Every shop gets its turn: one that cannot be read is reported, and the command fails at the end.
        problems = []
        for conn in connections:
            if not conn.has_credentials:
                problems.append(f"{conn.shop_domain} has no access token: set one with manage.py shopify_connection.")
                continue
            try:
                with job_run(
                    job=RECONCILE_JOB, trigger=SyncLog.Trigger.ON_DEMAND, show_progress=sys.stderr.isatty()
                ) as progress:
                    report = shopify_reconcile(
                        connection=conn, since=since_dt, full=full, trigger=SyncLog.Trigger.ON_DEMAND, progress=progress
                    )
            except ShopifyError as exc:
                problems.append(f"{conn.shop_domain}: reconciliation stopped: {exc.message} [{exc.code}]")
                continue
            self.stdout.write(f"{conn.shop_domain}: {report.summary()}")
        if problems:
            raise CommandError("\n".join(problems))
