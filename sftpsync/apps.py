from pathlib import Path

from django.apps import AppConfig

# The demo's file-exchange system (created by seed_demo) and the local folder standing in for its SFTP server.
DEMO_SYSTEM_CODE = "netsuite-files"
DEMO_CONNECTION = "NetSuite demo (local folder)"
DEMO_USERNAME = "demo"
DEMO_SUBSIDIARY = "Parent Company"
# The sandbox account's internal IDs of the demo's subsidiaries and of the lead source the export file sends
# (custimport_customer_hc takes both by internal ID, never by name).
DEMO_REFERENCES = {
    "subsidiaries": {"Parent Company": "1", "Honeycomb Mfg.": "2", "Honeycomb Holdings UK": "3"},
    "lead_sources": {"Shopify": "7"},
}


class SftpsyncConfig(AppConfig):
    name = "sftpsync"
    verbose_name = "SFTP file exchange"

    def ready(self) -> None:
        from django.core import checks

        from customers.dispatch import register_sync_handler
        from jobs.registry import JobSpec, register_job

        from .checks import paramiko_check
        from .services import EXPORT_JOB, HISTORICAL_JOB, PARTY_IDENT_JOB, file_refusal, file_sync_handler

        checks.register(paramiko_check)
        register_sync_handler("file", file_sync_handler, refusal=file_refusal)
        register_job(
            JobSpec(
                key=HISTORICAL_JOB,
                title="Import historical customers (SFTP)",
                task="sftpsync.tasks.import_historical_customers",
                command=HISTORICAL_JOB,
                description="NetSuite's existing customers with their Shopify IDs; run once before the first export.",
                scheduled=False,
                imports_history_for="file",
            )
        )
        register_job(
            JobSpec(
                key=EXPORT_JOB,
                title="Export customers to NetSuite (SFTP)",
                task="sftpsync.tasks.export_customers",
                command=EXPORT_JOB,
                description="Customers not yet in NetSuite go into one export file for HC_SC_ImportCustomer.",
                default_minutes=15,
            )
        )
        register_job(
            JobSpec(
                key=PARTY_IDENT_JOB,
                title="Import NetSuite customer IDs (SFTP)",
                task="sftpsync.tasks.import_party_identifications",
                command=PARTY_IDENT_JOB,
                description="Files of created customer IDs from HC_MR_ExportedCustomerCSV mark customers synced.",
                default_minutes=15,
            )
        )

    def demo_setup(self, stdout) -> None:
        """Give the demo's "netsuite-files" system a local-folder connection and its three feeds (seed_demo)."""
        from django.conf import settings

        from customers.models import ExternalSystem
        from netsuite.services import reference_mappings_set

        from .models import Feed, SftpConnection
        from .services import folders_ensure
        from .transport import transport_for

        system = ExternalSystem.objects.filter(code=DEMO_SYSTEM_CODE, transport=ExternalSystem.Transport.FILE).first()
        if system is None:
            return
        # scripts/run.sh gives the sandbox <root>/home/<username> as its SFTP home (--file-root), so the feeds'
        # default folders (/home/{sftp-username}/netsuite/...) are where its SuiteScripts read and write.
        root = Path(settings.VAR_DIR) / "sftp-home"
        root.mkdir(parents=True, exist_ok=True)
        connection, created = SftpConnection.objects.get_or_create(
            name=DEMO_CONNECTION,
            defaults={
                "transport": SftpConnection.Transport.LOCAL,
                "username": DEMO_USERNAME,
                "local_root": str(root),
            },
        )
        for kind in Feed.Kind:
            Feed.objects.get_or_create(
                external_system=system,
                kind=kind,
                defaults={
                    "sftp_connection": connection,
                    "remote_folder": Feed.DEFAULT_FOLDERS[kind],
                    "default_subsidiary": DEMO_SUBSIDIARY,
                    "default_account_source": "Shopify",
                },
            )
        reference_mappings_set(external_system=system, mappings=DEMO_REFERENCES)
        with transport_for(connection) as transport:
            # Every folder of both sides: HotWax's scripts make none (a missing archive/ fails every import).
            folders_ensure(transport, system.feeds.select_related("sftp_connection"))
        verb = "Created" if created else "Kept"
        stdout.write(
            f"{verb} the SFTP connection {connection.name} for {system.name}: local folder {connection.local_root}, "
            f"feeds under /home/{connection.username}/netsuite."
        )
