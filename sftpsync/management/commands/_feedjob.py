"""What the three file-job commands share: arguments, running, and reporting."""

from __future__ import annotations

from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sftpsync.services import FeedNotFound, JobOutcome


class FeedJobCommand(BaseCommand):
    """Run one file job on a terminal with a progress bar."""

    takes_file = True

    def add_arguments(self, parser: CommandParser) -> None:
        if self.takes_file:
            parser.add_argument("--file", help="Process this local file instead of the feed's folder.")
        parser.add_argument("--connection", help="External system code or SFTP connection name.")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw a progress bar.")

    def run_job(self, run: Callable[..., JobOutcome], **options) -> None:
        kwargs = {
            "trigger": "on_demand",
            "connection": options.get("connection"),
            "show_progress": not options["no_progress"],
        }
        if self.takes_file:
            kwargs["local_file"] = options.get("file")
        try:
            outcome = run(**kwargs)
        except FeedNotFound as exc:
            raise CommandError(str(exc)) from exc
        for line in outcome.lines:
            self.stdout.write(line)
        if outcome.refused:
            raise CommandError("\n".join(outcome.refused), returncode=2)
        if not outcome.lines:
            self.stdout.write("No enabled feed to run. Add one under Feeds, or name it with --connection.")
