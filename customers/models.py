"""The customer master: customers, their addresses, contacts, identifications and sync state."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

# NetSuite external IDs may hold letters, digits, "_" and "-" (SPEC section 3).
external_id_validator = RegexValidator(
    r"^[A-Za-z0-9_-]+$", "Use only letters, digits, '_' and '-' (NetSuite external ID rules)."
)

NETSUITE_CUSTOMER_ID = "NETSUITE_CUSTOMER_ID"
SHOPIFY_CUST_ID = "SHOPIFY_CUST_ID"


def new_customer_id() -> str:
    """Return a fresh portal customer ID such as ``C7F3A91B2C4D5E6F7``.

    64 random bits: a pull creating a million customers at once meets a collision with a chance of about 3 in
    100 million (40 bits made one likely, and one in a hundred 150,000-customer pulls failed on it).
    """
    return "C" + secrets.token_hex(8).upper()


def new_contact_id() -> str:
    """Return a fresh portal contact ID such as ``K7F3A91B2C4D5E6F7``, NetSuite's external ID of the contact.

    NetSuite's external IDs are unique across the whole entity group (customers and contacts alike), so a contact's
    ID starts with ``K``, never ``C`` as a portal customer's does; 64 random bits, as customer IDs have.
    """
    return "K" + secrets.token_hex(8).upper()


class ExternalSystemQuerySet(models.QuerySet):
    def connectors(self) -> ExternalSystemQuerySet:
        """The systems customers can be sent to (not the sources customers only come from)."""
        return self.exclude(transport=ExternalSystem.Transport.SOURCE)


class ExternalSystem(models.Model):
    """A connector to another system (a NetSuite account, JOOR, Shopify) that customers sync with."""

    class Kind(models.TextChoices):
        NETSUITE = "netsuite", "NetSuite"
        JOOR = "joor", "JOOR"
        SHOPIFY = "shopify", "Shopify"
        OTHER = "other", "Other"

    code = models.SlugField(max_length=50, unique=True, help_text="Short name used in commands.")
    name = models.CharField(max_length=100)

    class Transport(models.TextChoices):
        REST = "rest", "REST API"
        FILE = "file", "SFTP file exchange"
        # Customers come from it (Shopify); nothing is sent to it. Its failures to read are queued under it.
        SOURCE = "source", "Source only (customers come from it)"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NETSUITE)
    transport = models.CharField(
        max_length=10,
        choices=Transport.choices,
        default=Transport.REST,
        help_text="How customers reach this system: the REST API or CSV files over SFTP.",
    )
    identification_type = models.CharField(
        max_length=60,
        default=NETSUITE_CUSTOMER_ID,
        help_text="Party identification type that holds this system's ID for a customer.",
    )
    is_active = models.BooleanField(default=True)
    historical_import_completed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when NetSuite's historical customers were imported; exports wait for it.",
    )

    objects = ExternalSystemQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "external system"

    def __str__(self) -> str:
        return self.name

    @property
    def carries_persons_only(self) -> bool:
        """HotWax's customer file has no company name column: the file connector sends persons only (SPEC 2)."""
        return self.transport == self.Transport.FILE


class Customer(models.Model):
    """A customer (person or company) as the portal holds it; its customer ID is NetSuite's external ID."""

    class PartyType(models.TextChoices):
        PERSON = "person", "Person"
        COMPANY = "company", "Company"

    class Segment(models.TextChoices):
        B2C = "b2c", "B2C"
        B2B = "b2b", "B2B"

    customer_id = models.CharField(
        "customer ID",
        max_length=40,
        unique=True,
        default=new_customer_id,
        validators=[external_id_validator],
        help_text="The portal's customer ID; NetSuite stores it as the external ID.",
    )
    party_type = models.CharField(max_length=10, choices=PartyType.choices, default=PartyType.PERSON)
    segment = models.CharField("B2B/B2C", max_length=3, choices=Segment.choices, default=Segment.B2C)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    payment_term = models.CharField(max_length=60, blank=True, help_text="e.g. Net 30")
    price_level = models.CharField(max_length=60, blank=True, help_text="e.g. Wholesale")
    sales_rep = models.CharField(max_length=100, blank=True)
    subsidiary = models.CharField(max_length=100, blank=True, db_index=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sub_customers",
        help_text="The parent company of a B2B sub-customer (location or buyer).",
    )
    is_active = models.BooleanField(default=True)
    # Per-customer overrides of the export file's connection defaults (blank: use the default).
    export_status = models.CharField(max_length=60, blank=True)
    order_priority = models.PositiveSmallIntegerField(null=True, blank=True)
    account_source = models.CharField(max_length=60, blank=True)
    # Kept by customer_refresh_validation so lists and exports can filter on validity in SQL.
    is_valid = models.BooleanField("valid for export", default=False, db_index=True)
    problems = models.TextField("export problems", blank=True, help_text="One problem per line.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Indexed by the composite (modified_at, id) below, which incremental sync pages by.
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-modified_at"]
        indexes = [models.Index(fields=["modified_at", "id"], name="customer_modified_id")]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.customer_id})"

    @property
    def display_name(self) -> str:
        if self.party_type == self.PartyType.COMPANY:
            return self.company_name or "(no company name)"
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "(no name)"

    @property
    def is_person(self) -> bool:
        return self.party_type == self.PartyType.PERSON


class Address(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(max_length=100, blank=True, help_text="e.g. Head office, Warehouse")
    line1 = models.CharField("address line 1", max_length=200, blank=True)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    zip = models.CharField("ZIP", max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. US")
    is_default_billing = models.BooleanField("default billing", default=False)
    is_default_shipping = models.BooleanField("default shipping", default=False)

    class Meta:
        verbose_name_plural = "addresses"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.label or ", ".join(p for p in (self.line1, self.city) if p) or "(address)"


class Contact(models.Model):
    """A buyer or other contact person at a customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    contact_id = models.CharField(
        "contact ID",
        max_length=40,
        unique=True,
        default=new_contact_id,
        editable=False,
        validators=[external_id_validator],
        help_text="The portal's contact ID; NetSuite stores it as the contact's external ID.",
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=60, blank=True, default="Buyer")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email or "(contact)"


class PartyIdentification(models.Model):
    """The customer's ID in another system, e.g. NETSUITE_CUSTOMER_ID 8812 or SHOPIFY_CUST_ID 6543210."""

    # Both are indexed by the composite indexes below; single-column indexes would only slow bulk imports.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="identifications", db_index=False)
    type = models.CharField(max_length=60)
    value = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["type", "value"], name="party_ident_type_value_unique"),
        ]
        indexes = [models.Index(fields=["customer", "type"], name="party_ident_customer_type")]
        verbose_name = "party identification"

    def __str__(self) -> str:
        return f"{self.type} {self.value}"


class CustomerSync(models.Model):
    """A customer's sync state with one external system (the customer page's External System tab)."""

    class Status(models.TextChoices):
        NOT_SYNCED = "not_synced", "Not synced"
        PENDING = "pending", "Pending"
        EXPORTED = "exported", "Exported, awaiting ID"
        SYNCED = "synced", "Synced"
        ERROR = "error", "Error"

    # Both are indexed by the unique and composite indexes below.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="syncs", db_index=False)
    external_system = models.ForeignKey(
        ExternalSystem,
        on_delete=models.PROTECT,
        related_name="syncs",
        db_index=False,
        limit_choices_to=~Q(transport="source"),
    )
    enabled = models.BooleanField(default=True, help_text="The connector is selected for this customer.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    external_id = models.CharField("external ID", max_length=100, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error_code = models.CharField(max_length=60, blank=True)
    last_error_message = models.TextField(blank=True)
    # What this connector still needs before the customer can be sent (its requirements: SPEC section 4),
    # kept by the validation service so that jobs filter on readiness in SQL.
    is_ready = models.BooleanField("ready to send", default=False)
    problems = models.TextField("what is missing", blank=True, help_text="One problem per line.")
    problem_code = models.CharField(max_length=60, blank=True, help_text="The first problem's error code.")
    # A company bound in NetSuite whose contacts are still to be sent there (set in the transaction that binds it,
    # cleared once each contact is sent or refused for its own data): a run killed in between leaves the company
    # due, so the next run sends its contacts.
    contacts_due = models.BooleanField(default=False, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "external_system"], name="customer_sync_customer_system_unique"
            ),
            # A binding to an external record is unique: a race shows up as an error, not a duplicate.
            models.UniqueConstraint(
                fields=["external_system", "external_id"],
                condition=~Q(external_id=""),
                name="customer_sync_system_external_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["external_system", "status"], name="customer_sync_system_status")]
        verbose_name = "external system sync"

    def __str__(self) -> str:
        return f"{self.customer.customer_id} @ {self.external_system}: {self.get_status_display()}"

    @property
    def is_linked(self) -> bool:
        return bool(self.external_id)


class SyncLog(models.Model):
    """One attempt to sync one record: the history. The open problems are SyncFailure rows (the queue)."""

    class RecordType(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        COMPANY = "company", "Company"
        CONTACT = "contact", "Contact"
        ADDRESS = "address", "Address"
        FILE = "file", "File"
        FILE_ROW = "file_row", "File row"
        CONNECTION = "connection", "Connection"

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        ON_DEMAND = "on_demand", "On demand"
        EVENT = "event", "Event"
        SELECTIVE = "selective", "Selective"
        RESYNC = "resync", "Resync"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    record_type = models.CharField(max_length=12, choices=RecordType.choices)
    record_id = models.CharField("record", max_length=255, help_text="Customer ID, file name, ...")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="sync_logs")
    external_system = models.ForeignKey(
        ExternalSystem, null=True, blank=True, on_delete=models.SET_NULL, related_name="sync_logs"
    )
    operation = models.CharField(max_length=60, blank=True, help_text="e.g. rest push, export file")
    trigger = models.CharField(max_length=12, choices=Trigger.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    error_code = models.CharField(max_length=60, blank=True, db_index=True)
    message = models.TextField("error msg", blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    line_number = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="sync_log_record")]
        verbose_name = "sync attempt"

    def __str__(self) -> str:
        return f"{self.get_record_type_display()} {self.record_id}: {self.get_outcome_display()}"


# A customer's own failures are keyed by the customer whatever its party type (a person that becomes a company
# keeps one open failure, not one of each type).
CUSTOMER_RECORD_TYPES = (SyncLog.RecordType.CUSTOMER, SyncLog.RecordType.COMPANY)
# Failures a RESYNC sends again: a customer's own, and a contact's (by sending its company, which sends the contact).
RESYNCABLE_RECORD_TYPES = (*CUSTOMER_RECORD_TYPES, SyncLog.RecordType.CONTACT)


class SyncFailure(models.Model):
    """A problem with one record and one connector: the Failed Record Queue's rows.

    At most one is open per record and connector (``failures_record`` in the services keeps it so, and a unique
    index makes a concurrent double an error rather than a duplicate). The same problem seen again counts an
    occurrence; a different problem supersedes it; a success resolves it. Attempts themselves are in SyncLog.
    """

    class Resolution(models.TextChoices):
        SUCCEEDED = "succeeded", "A later attempt succeeded"
        SUPERSEDED = "superseded", "Replaced by a different problem"
        BY_HAND = "by_hand", "Marked resolved by an operator"

    record_type = models.CharField(max_length=12, choices=SyncLog.RecordType.choices)
    record_id = models.CharField("record", max_length=255, help_text="Customer ID, file name and line, ...")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="sync_failures", db_index=False
    )
    external_system = models.ForeignKey(
        ExternalSystem, on_delete=models.PROTECT, related_name="sync_failures", verbose_name="connector"
    )
    error_code = models.CharField(max_length=60)
    message = models.TextField("error msg")
    operation = models.CharField(max_length=60, blank=True)
    trigger = models.CharField(max_length=12, choices=SyncLog.Trigger.choices, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    line_number = models.PositiveIntegerField(null=True, blank=True)
    occurrences = models.PositiveIntegerField(default=1, help_text="How many attempts met this problem.")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=12, choices=Resolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_system", "record_type", "record_id"],
                condition=Q(resolved_at__isnull=True),
                name="sync_failure_open_once",
            ),
        ]
        indexes = [
            # The queue: open failures, newest first (and by connector, code, type).
            models.Index(fields=["-last_seen_at"], condition=Q(resolved_at__isnull=True), name="sync_failure_open"),
            models.Index(
                fields=["error_code", "-last_seen_at"],
                condition=Q(resolved_at__isnull=True),
                name="sync_failure_open_code",
            ),
            models.Index(
                fields=["external_system", "-last_seen_at"],
                condition=Q(resolved_at__isnull=True),
                name="sync_failure_open_system",
            ),
            # A success resolves the customer's open failures.
            models.Index(fields=["customer"], condition=Q(resolved_at__isnull=True), name="sync_failure_open_cust"),
            # The dashboard's warnings read the open connection failures on every view: few rows, which neither
            # planner can tell from the open customer failures by the other indexes' statistics.
            models.Index(
                fields=["-last_seen_at"],
                condition=Q(resolved_at__isnull=True, record_type="connection"),
                name="sync_failure_open_conn",
            ),
            # New failures for the digest.
            models.Index(fields=["first_seen_at"], name="sync_failure_first_seen"),
        ]
        verbose_name = "sync failure"

    def __str__(self) -> str:
        return f"{self.get_record_type_display()} {self.record_id}: {self.error_code}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class SyncFailureGroup(models.Model):
    """How many failures are open per connector, record type and code: the queue's grouped view, kept by the
    failure service in the same transaction as the failures, so it reads in one indexed query at any size."""

    external_system = models.ForeignKey(ExternalSystem, on_delete=models.CASCADE, related_name="+")
    record_type = models.CharField(max_length=12, choices=SyncLog.RecordType.choices)
    error_code = models.CharField(max_length=60)
    open_count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["external_system", "record_type", "error_code"], name="sync_failure_group_unique"
            )
        ]
        verbose_name = "failure group"

    def __str__(self) -> str:
        return f"{self.error_code} ({self.record_type}) @ {self.external_system_id}: {self.open_count}"
