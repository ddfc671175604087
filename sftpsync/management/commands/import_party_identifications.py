from functools import partial

from sftpsync.models import Feed
from sftpsync.services import PARTY_IDENT_JOB, run_inbound

from ._feedjob import FeedJobCommand


class Command(FeedJobCommand):
    help = "Import NetSuite's created customer IDs (IMP_PARTY_IDENT) from the feed or a file."

    def handle(self, *args, **options) -> None:
        self.run_job(partial(run_inbound, job=PARTY_IDENT_JOB, kind=Feed.Kind.PARTY_IDENT), **options)
