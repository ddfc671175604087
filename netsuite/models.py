"""NetSuite REST connections, their shared request slots, and the API tokens of the orders endpoint."""

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
    """One of a connection's concurrency slots; a request holds one while in flight (see limiter.py)."""

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
