"""NetSuite REST connections, their shared request slots, what the portal knows of NetSuite's records, the claims
and batch jobs of pushes, and the API tokens of the orders endpoint."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator, URLValidator
from django.db import models
from django.utils import timezone

from integration_portal.secrets import EncryptedTextField, secrets_require_readable

from .client import NetSuiteConfig, default_base_url

account_id_validator = RegexValidator(
    r"^[0-9A-Za-z]+([_-][0-9A-Za-z]+)*$", "Enter the NetSuite account ID, e.g. 1234567 or 1234567_SB1."
)

DEFAULTS_HELP = (
    'NetSuite internal IDs used when a customer has no value, e.g. {"subsidiary": "1", "terms": "2", '
    '"priceLevel": "1", "salesRep": "", "entityStatus": "13"}.'
)


class NetSuiteConnection(models.Model):
    """How the portal reaches one NetSuite account over REST, and how it maps customers for it."""

    external_system = models.OneToOneField(
        "customers.ExternalSystem",
        on_delete=models.CASCADE,
        related_name="netsuite_connection",
        limit_choices_to={"transport": "rest"},
        help_text="The external system (transport REST API) whose customers this connection sends.",
    )
    account_id = models.CharField(
        "account ID", max_length=40, validators=[account_id_validator], help_text="e.g. 1234567 or 1234567_SB1"
    )
    base_url = models.CharField(
        "base URL override",
        max_length=200,
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Leave blank for https://{account}.suitetalk.api.netsuite.com/services/rest.",
    )
    consumer_key = EncryptedTextField(blank=True)
    consumer_secret = EncryptedTextField(blank=True)
    token_id = EncryptedTextField("token ID", blank=True)
    token_secret = EncryptedTextField(blank=True)
    is_active = models.BooleanField(default=True)
    concurrency_share = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=(
            "Most requests the portal has in flight to this account, across all workers. NetSuite's limit is "
            "per account (5 standard, 15 premium, +10 per SuiteCloud Plus licence) and shared with other "
            "integrations: give the portal its share."
        ),
    )
    subsidiary_filter = models.CharField(
        max_length=200,
        blank=True,
        help_text="Comma-separated NetSuite subsidiary internal IDs to pull; blank pulls every subsidiary.",
    )
    defaults = models.JSONField("default values", default=dict, blank=True, help_text=DEFAULTS_HELP)
    time_zone = models.CharField(
        max_length=60, default="UTC", help_text="Time zone NetSuite uses for dates in SuiteQL (the account's)."
    )
    batch_size = models.PositiveIntegerField(
        default=200, validators=[MinValueValidator(1)], help_text="Customers prepared and committed together."
    )
    batch_threshold = models.PositiveIntegerField(
        "bulk load threshold",
        default=500,
        help_text=(
            "A push with more customers to send than this sends its new customers in asynchronous batches of up "
            "to 100 (NetSuite's batch operations); smaller pushes and pushes on change go one customer per request. "
            "0 never batches."
        ),
    )
    request_timeout = models.PositiveIntegerField(
        "request timeout (seconds)", default=30, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    push_on_change = models.BooleanField(
        "push on change", default=True, help_text="Send a customer as soon as a change to it is saved."
    )
    pull_watermark = models.DateTimeField(
        null=True, blank=True, help_text="The next pull asks for customers modified at or after this time."
    )
    # A pull in progress: rows modified since pull_cursor_since, done up to internal ID pull_cursor_last_id.
    pull_cursor_since = models.DateTimeField(null=True, blank=True, editable=False)
    pull_cursor_last_id = models.BigIntegerField(null=True, blank=True, editable=False)
    pull_cursor_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_pull_completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The push running now (set by the worker holding the push's job lock): workers that join it leave alone the
    # customers attempted since then, so each problem is met once per push.
    push_started_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "NetSuite connection"

    def __str__(self) -> str:
        return f"{self.external_system.name} (NetSuite {self.account_id})"

    @property
    def rest_url(self) -> str:
        return (self.base_url or default_base_url(self.account_id)).rstrip("/")

    @property
    def has_credentials(self) -> bool:
        return all((self.consumer_key, self.consumer_secret, self.token_id, self.token_secret))

    @property
    def subsidiary_ids(self) -> list[int]:
        return [int(p) for p in self.subsidiary_filter.replace(";", ",").split(",") if p.strip().isdigit()]

    def client_config(self) -> NetSuiteConfig:
        secrets_require_readable(self)
        return NetSuiteConfig(
            account_id=self.account_id,
            consumer_key=self.consumer_key or "",
            consumer_secret=self.consumer_secret or "",
            token_id=self.token_id or "",
            token_secret=self.token_secret or "",
            base_url=self.base_url,
            timeout=float(self.request_timeout),
            pool_size=max(10, self.concurrency_share * 2),
            # Tests and benchmarks shorten the waits between retries; production keeps the default.
            backoff_base=float(getattr(settings, "NETSUITE_RETRY_BACKOFF_SECONDS", 0.5)),
            retry_after_max=float(getattr(settings, "NETSUITE_RETRY_AFTER_MAX_SECONDS", 60.0)),
            # NetSuite's own limit on a request (15 minutes): how long a request the portal gave up on may still
            # hold its concurrency slot (see netsuite.limiter).
            server_time_limit=float(getattr(settings, "NETSUITE_SERVER_TIME_LIMIT_SECONDS", 900.0)),
        )


class ReferenceMapping(models.Model):
    """A local value (a subsidiary's name, a payment term) and its NetSuite internal ID, for one external system.

    One model serves every connector of a NetSuite account: the REST push sends the IDs as references, the file
    export writes them into ``subsidiary`` and ``accountSource``. netsuite.mapping.Mappings is its in-memory form.
    """

    class Kind(models.TextChoices):
        SUBSIDIARIES = "subsidiaries", "Subsidiary"
        LEAD_SOURCES = "lead_sources", "Lead source (accountSource)"
        PAYMENT_TERMS = "payment_terms", "Payment term"
        PRICE_LEVELS = "price_levels", "Price level (catalog)"
        SALES_REPS = "sales_reps", "Sales rep"

    external_system = models.ForeignKey(
        "customers.ExternalSystem", on_delete=models.CASCADE, related_name="reference_mappings"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    local_value = models.CharField(
        max_length=200, help_text="As the portal holds it, e.g. Parent Company (case and spacing are ignored)."
    )
    internal_id = models.CharField(
        "NetSuite internal ID",
        max_length=20,
        validators=[RegexValidator(r"^-?[0-9]+$", "Enter NetSuite's internal ID, a number such as 1 or -5.")],
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["external_system", "kind", "local_value"], name="reference_mapping_once")
        ]
        ordering = ["external_system", "kind", "local_value"]
        verbose_name = "NetSuite reference mapping"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.local_value} → {self.internal_id}"


class RequestSlot(models.Model):
    """One of a connection's concurrency slots, leased by a run for its requests (see netsuite.limiter)."""

    # No database constraint: worker threads claim slots on their own database connections, which must work
    # even while the connection row is not yet visible to them (created in a transaction still open).
    connection = models.ForeignKey(
        NetSuiteConnection, on_delete=models.CASCADE, related_name="slots", db_constraint=False
    )
    number = models.PositiveSmallIntegerField()
    holder = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "number"], name="netsuite_slot_unique")]

    def __str__(self) -> str:
        return f"slot {self.number} of {self.connection_id}"


class RemoteCustomer(models.Model):
    """What the portal knows of a customer's record in one NetSuite account.

    ``external_id`` is the external ID NetSuite holds for the record ("" for none), as a pull read it or a push
    wrote it: an external ID the portal did not set belongs to whoever did, and a push leaves it alone.
    ``pulled_at`` is the ``modified_at`` a pull gave the customer when it last wrote it from NetSuite: until the
    customer changes after that, it has nothing of its own to send back (no echo).
    """

    connection = models.ForeignKey(NetSuiteConnection, on_delete=models.CASCADE, related_name="remote_customers")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="netsuite_records")
    internal_id = models.CharField("NetSuite internal ID", max_length=100)
    external_id = models.CharField("external ID in NetSuite", max_length=255, blank=True)
    pulled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "customer"], name="netsuite_remote_customer_unique")
        ]
        verbose_name = "NetSuite record"

    def __str__(self) -> str:
        return f"{self.customer_id} = NetSuite {self.internal_id}"


class PushClaim(models.Model):
    """A customer a push worker is sending: other workers leave it alone until the claim is released or expires.

    A customer in a batch whose results are not read yet is claimed by the batch (``holder`` its idempotency key,
    no expiry) until they are.
    """

    connection = models.ForeignKey(NetSuiteConnection, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    holder = models.CharField(max_length=64)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "customer"], name="netsuite_push_claim_unique")]

    def __str__(self) -> str:
        return f"customer {self.customer_id} claimed by {self.holder}"


class BatchJob(models.Model):
    """A batch of up to 100 customers sent as one asynchronous NetSuite job, kept until its results are read.

    The idempotency key is stored before the batch is first sent; a run that crashed or timed out sends it again
    with the same key and NetSuite answers with the job the first sending made, never a second job.
    """

    connection = models.ForeignKey(NetSuiteConnection, on_delete=models.CASCADE, related_name="batch_jobs")
    idempotency_key = models.UUIDField(unique=True)
    method = models.CharField(max_length=6, default="PUT")
    customers = models.JSONField(help_text="Customer primary keys, in the order of the items.")
    items = models.JSONField(help_text="The records sent, as NetSuite JSON.")
    job_url = models.CharField("NetSuite async job", max_length=300, blank=True)
    submitted_at = models.DateTimeField(
        null=True, blank=True, help_text="NetSuite's time when this batch made its job (unknown after a crash)."
    )
    owner = models.CharField(max_length=64, blank=True)
    owner_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"batch {self.idempotency_key} ({len(self.customers)} customers)"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_lifetime_days() -> int:
    """Days a new token lives unless told otherwise (``PORTAL_API_TOKEN_DAYS``)."""
    return int(getattr(settings, "PORTAL_API_TOKEN_DAYS", 90))


def token_max_days() -> int:
    """The longest a token may live (``PORTAL_API_TOKEN_MAX_DAYS``)."""
    return int(getattr(settings, "PORTAL_API_TOKEN_MAX_DAYS", 365))


def default_token_expiry():
    return timezone.now() + timedelta(days=token_lifetime_days())


class ApiToken(models.Model):
    """A bearer token for the orders endpoint of one connection; only its SHA-256 is stored, the token is shown once."""

    name = models.CharField(max_length=100, help_text="Who uses it, e.g. OMS order pusher.")
    # Null only for tokens made before tokens were bound to a connection: they are refused until replaced.
    connection = models.ForeignKey(
        NetSuiteConnection,
        on_delete=models.CASCADE,
        null=True,
        related_name="api_tokens",
        help_text="The only connection this token may ask about and send customers to.",
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False, help_text="The token's first characters.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=default_token_expiry, help_text="The token is refused from then on.")
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="To the minute: written at most once a minute."
    )

    class Meta:
        verbose_name = "orders API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
