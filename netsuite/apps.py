import os

from django.apps import AppConfig

# The demo customers' values (customers/demo.py) → the sandbox's reference IDs (GET /_sandbox/reference).
DEMO_MAPPINGS = {
    "payment_terms": {"Net 30": "2", "Net 60": "3", "Due on receipt": "4"},
    "price_levels": {"Base Price": "1", "Wholesale": "2", "Retail": "4", "Distributor": "5"},
    # The sandbox has no employee records to check sales reps against; any internal ID is taken.
    "sales_reps": {"Morgan Lee": "-5", "Sam Rivera": "11", "Alex Chen": "12"},
    "subsidiaries": {"Parent Company": "1", "Honeycomb Mfg.": "2", "Honeycomb Holdings UK": "3"},
}
DEMO_DEFAULTS = {"subsidiary": "1", "terms": "2", "priceLevel": "1"}


class NetSuiteConfig(AppConfig):
    name = "netsuite"
    verbose_name = "NetSuite REST"

    def ready(self) -> None:
        from customers.dispatch import register_sync_handler
        from jobs.registry import JobSpec, register_job

        from . import receivers
        from .services import customers_push_handler, rest_refusal

        register_sync_handler("rest", customers_push_handler, refusal=rest_refusal)
        receivers.connect()
        register_job(
            JobSpec(
                key="push_customers",
                title="Push customers to NetSuite (REST)",
                task="netsuite.tasks.push_customers",
                command="push_customers",
                description="Upsert pending and changed customers into NetSuite by external ID, parents first.",
                default_minutes=15,
            )
        )
        register_job(
            JobSpec(
                key="pull_customers",
                title="Pull customers from NetSuite (REST)",
                task="netsuite.tasks.pull_customers",
                command="pull_customers",
                description="Read customers changed in NetSuite since the last pull and update or create them here.",
                default_minutes=15,
                imports_history_for="rest",
            )
        )

    def demo_setup(self, stdout) -> None:
        """Point the demo's "netsuite" system at the local sandbox (called by ``manage.py seed_demo``)."""
        from customers.models import ExternalSystem

        # Demo seeding only: product code never imports the sandbox.
        from netsuite_sandbox.demo import DEMO_CREDENTIALS

        from .models import NetSuiteConnection
        from .services import reference_mappings_set

        system = ExternalSystem.objects.filter(code="netsuite", transport=ExternalSystem.Transport.REST).first()
        if system is None:
            return
        base = os.environ.get("NETSUITE_SANDBOX_URL", "http://127.0.0.1:8765").rstrip("/")
        creds = DEMO_CREDENTIALS
        connection, created = NetSuiteConnection.objects.update_or_create(
            external_system=system,
            defaults={
                "account_id": creds.account_id,
                "base_url": f"{base}/services/rest",
                "consumer_key": creds.consumer_key,
                "consumer_secret": creds.consumer_secret,
                "token_id": creds.token_id,
                "token_secret": creds.token_secret,
                "defaults": DEMO_DEFAULTS,
            },
        )
        reference_mappings_set(external_system=system, mappings=DEMO_MAPPINGS)
        verb = "Created" if created else "Updated"
        stdout.write(f"{verb} the NetSuite connection of {system.name} for the sandbox at {connection.rest_url}.")
