from django.apps import AppConfig


class NetsuiteConfig(AppConfig):
    name = "netsuite"
    verbose_name = "NetSuite REST"

    def ready(self) -> None:
        from customers.dispatch import register_sync_handler
        from jobs.registry import JobSpec, register_job

        from . import receivers
        from .services import customers_push_handler

        register_sync_handler("rest", customers_push_handler)
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
            )
        )
