from sftpsync.services import run_export

from ._feedjob import FeedJobCommand


class Command(FeedJobCommand):
    help = "Write the customers not yet in NetSuite into an export file on the export feed."
    takes_file = False

    def handle(self, *args, **options) -> None:
        self.run_job(run_export, **options)
