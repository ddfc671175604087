import os

from django.apps import AppConfig


class ShopifyConfig(AppConfig):
    name = "shopify"
    verbose_name = "Shopify"

    def ready(self) -> None:
        from jobs.registry import JobSpec, register_job

        from .tasks import RECONCILE_JOB, SWEEP_JOB

        register_job(
            JobSpec(
                key=RECONCILE_JOB,
                title="Reconcile Shopify",
                task="shopify.tasks.reconcile",
                command="reconcile_shopify",
                description="Read customers changed in Shopify since the last run, and every B2B company, with a bulk "
                "operation, and apply what webhooks missed.",
                default_minutes=1440,
            )
        )
        register_job(
            JobSpec(
                key=SWEEP_JOB,
                title="Process waiting Shopify webhooks",
                task="shopify.tasks.sweep_inbox",
                command="process_shopify_webhooks",
                description="Apply webhooks still waiting in the inbox 30 seconds after they came (a lost task or a "
                "stopped worker); normally each is applied at once. A run is listed only when something was waiting, "
                "so \"never\" here means nothing has had to wait.",
                default_minutes=1,
            )
        )

    def demo_setup(self, stdout) -> None:
        """Point a demo Shopify connection at the local sandbox and subscribe webhooks (``manage.py seed_demo``)."""
        # Demo seeding only: product code never imports the sandbox.
        from customers.models import ExternalSystem
        from shopify_sandbox.demo import DEMO_SHOP

        from .client import ShopifyError
        from .models import ShopifyConnection
        from .services import subscriptions_create

        base = os.environ.get("SHOPIFY_SANDBOX_URL", f"http://127.0.0.1:{DEMO_SHOP.port}").rstrip("/")
        portal = os.environ.get("PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")
        connection, created = ShopifyConnection.objects.update_or_create(
            shop_domain=DEMO_SHOP.shop_domain,
            defaults={
                "api_url": f"{base}/admin/api",
                "client_secret": DEMO_SHOP.client_secret,
                "access_token": DEMO_SHOP.access_token,
                "webhook_url": f"{portal}/api/shopify/webhooks",
                "payment_term": "Net 30",
                "price_level": "Retail",
                "subsidiary": "Parent Company",
            },
        )
        connection.target_systems.set(
            ExternalSystem.objects.filter(code="netsuite", transport=ExternalSystem.Transport.REST)
        )
        verb = "Created" if created else "Updated"
        stdout.write(f"{verb} the Shopify connection {connection.shop_domain} for the sandbox at {base}.")
        try:
            stdout.write(subscriptions_create(connection=connection).summary())
        except ShopifyError as exc:
            stdout.write(f"Webhooks not subscribed ({exc.message}); press Subscribe to webhooks on the connection.")
