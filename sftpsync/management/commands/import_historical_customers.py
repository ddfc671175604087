from functools import partial

from sftpsync.models import Feed
from sftpsync.services import HISTORICAL_JOB, run_inbound

from ._feedjob import FeedJobCommand


class Command(FeedJobCommand):
    help = "Import NetSuite's historical customers (with their Shopify IDs) from the historical feed or a file."

    def handle(self, *args, **options) -> None:
        self.run_job(partial(run_inbound, job=HISTORICAL_JOB, kind=Feed.Kind.HISTORICAL), **options)
