from django.apps import AppConfig


class SftpsyncConfig(AppConfig):
    name = "sftpsync"
    verbose_name = "SFTP file exchange"

    def ready(self) -> None:
        from customers.dispatch import register_sync_handler
        from jobs.registry import JobSpec, register_job

        from .services import EXPORT_JOB, HISTORICAL_JOB, PARTY_IDENT_JOB, file_sync_handler

        register_sync_handler("file", file_sync_handler)
        register_job(
            JobSpec(
                key=HISTORICAL_JOB,
                title="Import historical customers (SFTP)",
                task="sftpsync.tasks.import_historical_customers",
                command=HISTORICAL_JOB,
                description="NetSuite's existing customers with their Shopify IDs; run once before the first export.",
                scheduled=False,
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
