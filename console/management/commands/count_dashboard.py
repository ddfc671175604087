"""manage.py count_dashboard: count the dashboard's figures now (the count job, outside the cluster)."""

from django.core.management.base import BaseCommand

from console.tasks import count_dashboard


class Command(BaseCommand):
    help = "Count customers by sync status per connector and failures per day, and store them for the dashboard."

    def handle(self, *args, **options):
        self.stdout.write(count_dashboard(trigger="on_demand"))
