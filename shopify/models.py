"""Shopify connections, their webhook subscriptions, the webhook inbox, and the link of each Shopify object."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator, URLValidator
from django.db import models
from django.db.models import Q

from integration_portal.secrets import EncryptedTextField

from .client import API_VERSION, ShopifyConfig

shop_domain_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$", "Enter the shop's myshopify.com domain, e.g. example.myshopify.com."
)


class ShopifyConnection(models.Model):
    """How the portal reaches one Shopify shop (Admin GraphQL API) and checks the webhooks it sends."""

    shop_domain = models.CharField(
        "shop domain",
        max_length=255,
        unique=True,
        validators=[shop_domain_validator],
        help_text="The shop's myshopify.com domain; webhooks name it in X-Shopify-Shop-Domain.",
    )
    shop_name = models.CharField(max_length=255, blank=True, editable=False, help_text="As Test connection read it.")
    api_url = models.CharField(
        "Admin API URL override",
        max_length=255,
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Leave blank for https://{shop domain}/admin/api; the local sandbox is http://127.0.0.1:8766/admin/api.",
    )
    api_version = models.CharField("API version", max_length=10, default=API_VERSION)
    client_secret = EncryptedTextField(blank=True, help_text="The app's client secret: it signs the webhooks.")
    previous_client_secret = EncryptedTextField(
        blank=True,
        help_text="During a rotation, the secret being replaced: webhooks signed with it are still accepted "
        "(Shopify may take up to an hour to sign with the new one). Clear it once the rotation is done.",
    )
    access_token = EncryptedTextField(blank=True, help_text="Admin API access token (shpat_…).")
    is_active = models.BooleanField(default=True, help_text="Off: webhooks are refused and nothing is reconciled.")
    # When a task draining this shop's inbox was queued, or last reported progress (None: no drain queued or
    # running): deliveries meanwhile queue none of their own, so a burst is applied in batches by one drain.
    inbox_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    webhook_url = models.CharField(
        "webhook address",
        max_length=255,
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="This portal's webhook endpoint as Shopify reaches it, e.g. https://portal.example.com/api/shopify/"
        "webhooks. Subscribe to webhooks sends it to Shopify.",
    )
    target_systems = models.ManyToManyField(
        "customers.ExternalSystem",
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "netsuite"},
        verbose_name="send new customers to",
        help_text="The connectors selected on a customer, company or location that Shopify creates in the portal.",
    )
    payment_term = models.CharField(
        max_length=60, blank=True, help_text="Payment term given to new customers from this shop, e.g. Net 30."
    )
    price_level = models.CharField(max_length=60, blank=True, help_text="Price level of new customers, e.g. Retail.")
    subsidiary = models.CharField(max_length=100, blank=True, help_text="Subsidiary of new customers.")
    request_timeout = models.PositiveIntegerField(
        "request timeout (seconds)", default=30, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    reconciled_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The next reconciliation reads customers updated at or after this time (blank: all of them).",
    )
    last_reconciled_at = models.DateTimeField(null=True, blank=True, editable=False)
    bulk_operation_id = models.CharField(
        max_length=100, blank=True, editable=False, help_text="The bulk operation a reconciliation is waiting for."
    )
    # The shop as an external system of the portal (a source: nothing is sent to it). What the portal cannot read or
    # apply from it is queued under it in the Failed Record Queue; made when the connection is saved.
    external_system = models.OneToOneField(
        "customers.ExternalSystem",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="shopify_connection",
    )

    class Meta:
        verbose_name = "Shopify connection"

    def __str__(self) -> str:
        return self.shop_name or self.shop_domain

    def save(self, *args, **kwargs) -> None:
        from customers.models import SHOPIFY_CUST_ID, ExternalSystem

        name = f"Shopify {self.shop_name or self.shop_domain}"[:100]
        if self.external_system_id is None:
            self.external_system, _ = ExternalSystem.objects.get_or_create(
                code=f"shopify-{self.shop_domain.split('.')[0]}"[:50],
                defaults={
                    "name": name,
                    "kind": ExternalSystem.Kind.SHOPIFY,
                    "transport": ExternalSystem.Transport.SOURCE,
                    "identification_type": SHOPIFY_CUST_ID,
                },
            )
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "external_system"}
        ExternalSystem.objects.filter(pk=self.external_system_id).exclude(name=name, is_active=self.is_active).update(
            name=name, is_active=self.is_active
        )
        super().save(*args, **kwargs)

    @property
    def source_system_id(self) -> int:
        """The shop's external system (made now for a connection saved before it had one)."""
        if self.external_system_id is None:
            self.save()
        return self.external_system_id

    @property
    def has_credentials(self) -> bool:
        return bool(self.access_token)

    def client_config(self) -> ShopifyConfig:
        return ShopifyConfig(
            shop_domain=self.shop_domain,
            access_token=self.access_token or "",
            api_version=self.api_version or API_VERSION,
            api_url=self.api_url,
            timeout=float(self.request_timeout),
        )


class WebhookSubscription(models.Model):
    """A webhook subscription the portal created in the shop (webhookSubscriptionCreate)."""

    connection = models.ForeignKey(ShopifyConnection, on_delete=models.CASCADE, related_name="subscriptions")
    topic = models.CharField(max_length=100, help_text="e.g. customers/create")
    shopify_id = models.CharField("Shopify ID", max_length=100)
    uri = models.CharField("address", max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["topic"]
        constraints = [models.UniqueConstraint(fields=["connection", "topic"], name="shopify_subscription_topic")]

    def __str__(self) -> str:
        return f"{self.topic} → {self.uri}"


class InboxEvent(models.Model):
    """One verified webhook delivery, kept as it came; the cluster applies it exactly once."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received, waiting"
        APPLIED = "applied", "Applied"
        STALE = "stale", "Older than the portal's data"
        IGNORED = "ignored", "Not used"
        UNREADABLE = "unreadable", "Unreadable"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(ShopifyConnection, on_delete=models.PROTECT, related_name="inbox")
    event_id = models.CharField(
        "event ID", max_length=100, help_text="X-Shopify-Event-Id: the same for every delivery of the event."
    )
    topic = models.CharField(max_length=100, db_index=True)
    webhook_id = models.CharField("webhook ID", max_length=100, blank=True)
    api_version = models.CharField("API version", max_length=20, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    body = models.TextField(help_text="The payload exactly as Shopify sent it.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    reason = models.TextField(blank=True, help_text="Why it was not applied, and what to do.")
    error_code = models.CharField(max_length=60, blank=True)
    record = models.CharField(max_length=120, blank=True, help_text="The Shopify object it is about.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Committed processing attempts.")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "webhook inbox entry"
        verbose_name_plural = "webhook inbox"
        ordering = ["-received_at", "-id"]
        # A delivery's event ID repeats when Shopify sends it again ("Ignore duplicate webhooks": the same value
        # across more than one webhook indicates a duplicate). Keyed with the topic too: Shopify's newer pages
        # describe the ID as shared by the deliveries of one merchant action, which may be of several topics
        # (customers/update and customers/enable); applying is idempotent, so keeping those costs nothing.
        constraints = [
            models.UniqueConstraint(fields=["connection", "topic", "event_id"], name="shopify_inbox_topic_event_unique")
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="shopify_inbox_status"),
            models.Index(fields=["received_at"], condition=Q(status="received"), name="shopify_inbox_waiting"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.event_id}"


class ShopifyRecord(models.Model):
    """A Shopify object the portal holds: the portal row it became, and the last change applied from Shopify."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        COMPANY = "company", "Company"
        LOCATION = "location", "Company location"
        CONTACT = "contact", "Company contact"

    connection = models.ForeignKey(ShopifyConnection, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    shopify_id = models.CharField("Shopify ID", max_length=40)
    updated_at = models.DateTimeField(null=True, blank=True, help_text="Shopify's updated_at of the change applied.")
    state = models.CharField(max_length=20, blank=True, help_text="A customer's account state in Shopify.")
    deleted_at = models.DateTimeField(null=True, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="shopify_records"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="shopify_records"
    )
    company_shopify_id = models.CharField(max_length=40, blank=True, help_text="A location's or contact's company.")
    person_shopify_id = models.CharField(max_length=40, blank=True, help_text="A contact's Shopify customer.")

    class Meta:
        verbose_name = "Shopify link"
        constraints = [models.UniqueConstraint(fields=["kind", "shopify_id"], name="shopify_record_unique")]
        indexes = [
            models.Index(fields=["kind", "company_shopify_id"], name="shopify_record_company"),
            models.Index(fields=["kind", "person_shopify_id"], name="shopify_record_person"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.shopify_id}"
