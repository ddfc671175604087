"""manage.py process_shopify_webhooks [--all]: apply webhooks waiting in the inbox (the sweep job)."""

from __future__ import annotations

import sys
from datetime import timedelta

from django.core.management.base import BaseCommand

from jobs.services import job_run
from shopify.services import inbox_sweep
from shopify.tasks import SWEEP_JOB


class Command(BaseCommand):
    help = "Apply the webhooks still waiting in the inbox (normally the cluster applies each as it comes)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Take every waiting entry, not only the stranded ones.")

    def handle(self, *args, all, **options):
        with job_run(job=SWEEP_JOB, trigger="on_demand", show_progress=sys.stderr.isatty()) as progress:
            done = inbox_sweep(older_than=timedelta(0) if all else None, progress=progress)
            progress.note(f"Processed {done} waiting webhook(s).")
        self.stdout.write(progress.run.message)
