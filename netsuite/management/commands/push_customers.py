"""manage.py push_customers [--id ID ...] [--connection NAME]: REST upsert of pending or given customers."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from customers.dispatch import sync_refusal
from customers.models import SyncLog
from customers.services import customers_find_by_ids
from jobs.services import JobRefused, job_run
from netsuite import selectors, services


class Command(BaseCommand):
    help = (
        "Send customers to NetSuite over REST (upsert by external ID, parent companies first): the pending and "
        "changed ones, or those given with --id (portal customer ID or NetSuite internal ID)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--id", dest="ids", nargs="+", action="extend", default=[], metavar="ID")
        parser.add_argument("--connection", metavar="NAME", help="External system code or name of the connection.")

    def handle(self, *args, ids, connection, **options):
        try:
            connections = (
                [selectors.connection_get(name=connection)]
                if connection or ids
                else list(selectors.connections_active())
            )
        except selectors.ConnectionNotFound as exc:
            raise CommandError(str(exc)) from None
        if not connections:
            raise CommandError("No active NetSuite REST connection. Add one in the admin first.")
        show = sys.stderr.isatty()
        failed = False
        for conn in connections:
            name = conn.external_system.name
            try:
                if ids:
                    found = customers_find_by_ids(ids=ids)
                    missing = [i for i in ids if i.strip() and i.strip() not in found]
                    for value in missing:
                        self.stderr.write(f"No customer with ID {value}.")
                    customers = list({c.pk: c for c in found.values()}.values())
                    with job_run(
                        job="push_customers",
                        external_system=conn.external_system,
                        trigger=SyncLog.Trigger.ON_DEMAND,
                        total=len(customers),
                        show_progress=show,
                    ) as progress:
                        # By record ID too, the guards every way of sending applies (customers.dispatch).
                        refusal = sync_refusal(external_system=conn.external_system)
                        if refusal is not None:
                            raise JobRefused(refusal.message)
                        report = services.customers_push(
                            connection=conn,
                            customer_pks=[c.pk for c in customers],
                            trigger=SyncLog.Trigger.ON_DEMAND,
                            progress=progress,
                        )
                        progress.note(report.summary())
                    for result in report.results.values():
                        if not result.ok:
                            self.stderr.write(f"{result.customer.customer_id}: {result.message}")
                    failed |= bool(report.failed or missing)
                else:
                    with job_run(
                        job="push_customers",
                        external_system=conn.external_system,
                        trigger=SyncLog.Trigger.ON_DEMAND,
                        show_progress=show,
                    ) as progress:
                        report = services.customers_push_scheduled(
                            connection=conn, trigger=SyncLog.Trigger.ON_DEMAND, progress=progress
                        )
                    failed |= bool(report.failed)
            except JobRefused as exc:
                raise CommandError(f"{name}: {exc}") from None
            self.stdout.write(f"{name}: {report.summary()}")
        if failed:
            raise CommandError("Some customers were not sent; see the Failed Record Queue.")
