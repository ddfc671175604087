"""manage.py rotate_secrets: re-encrypt every stored secret with the newest key of PORTAL_ENCRYPTION_KEY."""

from django.core.management.base import BaseCommand, CommandError

from integration_portal.secrets import secrets_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (connection passwords, keys, tokens) with the first key of "
        "PORTAL_ENCRYPTION_KEY. Put the new key first and keep the old ones after it, run this, then drop the old "
        "keys. Safe to run again: secrets already under the newest key are left alone."
    )

    def handle(self, *args, **options):
        report = secrets_rotate()
        self.stdout.write(report.summary())
        if report.unreadable:
            raise CommandError(
                "No configured key can read these secrets, so they were left as they are: "
                + "; ".join(report.unreadable)
                + ". Put the key they were saved with back into PORTAL_ENCRYPTION_KEY (after the newest) and run "
                "rotate_secrets again, or enter them again on their connection's page."
            )
