"""SFTP connections, the file feeds exchanged with NetSuite, and the ledger of every file seen."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from integration_portal.secrets import EncryptedTextField


class SftpConnection(models.Model):
    """Where the feed files live: a real SFTP server, or a local folder standing in for one (the demo)."""

    class Transport(models.TextChoices):
        SFTP = "sftp", "SFTP server"
        LOCAL = "local", "Local folder (stands in for the SFTP server)"

    name = models.CharField(max_length=100, unique=True)
    transport = models.CharField(max_length=10, choices=Transport.choices, default=Transport.SFTP)
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(default=22)
    username = models.CharField(max_length=100, help_text="Also fills {sftp-username} in feed folders.")
    password = EncryptedTextField(blank=True)
    private_key = EncryptedTextField(blank=True, help_text="OpenSSH or PEM private key text.")
    private_key_passphrase = EncryptedTextField(blank=True)
    host_key = models.TextField(
        blank=True,
        help_text=(
            "The server's public host key as in known_hosts, e.g. 'ssh-ed25519 AAAA...' "
            "(ssh-keyscan -p PORT HOST prints it). Every connection is refused unless the server shows this key."
        ),
    )
    local_root = models.CharField(
        max_length=500,
        blank=True,
        help_text="For a local folder: the folder that stands for the server's root (/).",
    )
    connect_timeout = models.PositiveIntegerField("connect timeout (s)", default=15)
    keepalive = models.PositiveIntegerField("keepalive (s)", default=30)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_message = models.TextField(blank=True)

    class Meta:
        verbose_name = "SFTP connection"

    def __str__(self) -> str:
        if self.transport == self.Transport.LOCAL:
            return f"{self.name} (local folder {self.local_root})"
        return f"{self.name} ({self.username}@{self.host}:{self.port})"


class Feed(models.Model):
    """One file exchange with NetSuite, as HotWax's FTP configs (IMP_PARTY_IDENT, IMP_HIS_SHOP_CUST, ...)."""

    class Kind(models.TextChoices):
        HISTORICAL = "IMP_HIS_SHOP_CUST", "Historical Shopify customers (NetSuite → portal)"
        EXPORT = "EXP_CUSTOMER", "Unsynced customers (portal → NetSuite)"
        PARTY_IDENT = "IMP_PARTY_IDENT", "Created customer IDs (NetSuite → portal)"

    DEFAULT_FOLDERS = {
        Kind.HISTORICAL: "/home/{sftp-username}/netsuite/historicalshopifycustomer/csv",
        Kind.EXPORT: "/home/{sftp-username}/netsuite/customer/export",
        Kind.PARTY_IDENT: "/home/{sftp-username}/netsuite/customer/import/",
    }

    kind = models.CharField(max_length=20, choices=Kind.choices)
    external_system = models.ForeignKey("customers.ExternalSystem", on_delete=models.PROTECT, related_name="feeds")
    sftp_connection = models.ForeignKey(
        SftpConnection, on_delete=models.PROTECT, related_name="feeds", verbose_name="SFTP connection"
    )
    remote_folder = models.CharField(max_length=500, help_text="{sftp-username} is filled in from the connection.")
    file_pattern = models.CharField(max_length=100, default="*.csv", help_text="Shell pattern, e.g. *.csv")
    archive_folder = models.CharField(max_length=500, default="archive", help_text="Relative to the remote folder.")
    failed_folder = models.CharField(max_length=500, default="failed", help_text="Relative to the remote folder.")
    enabled = models.BooleanField(default=True)
    # Export file defaults (SPEC section 2); a customer's own value wins where the model has one.
    default_status = models.CharField(max_length=60, default="CUSTOMER-Closed Won")
    default_subsidiary = models.CharField(
        max_length=100,
        blank=True,
        help_text="For customers without one: a subsidiary mapped under NetSuite reference mappings, or an ID.",
    )
    default_taxable = models.CharField(max_length=10, default="TRUE")
    default_order_priority = models.PositiveSmallIntegerField(default=5)
    default_account_source = models.CharField(
        "default lead source",
        max_length=60,
        blank=True,
        help_text="Sent as accountSource by internal ID: a lead source mapped under NetSuite reference mappings (or an "
        "internal ID); blank sends none.",
    )
    # 20,000: PostgreSQL pays a round trip per batch, which showed at a million rows; memory stays flat.
    batch_size = models.PositiveIntegerField(default=20000, help_text="Rows written to the database at a time.")
    column_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'Headers of your files that the portal does not know, mapped to its fields, e.g. {"Customer Internal '
            'ID": "internal_id", "Shopify ID": "shopify_id"}. Fields of the historical feed: internal_id, shopify_id, '
            "party_identifications, customer_id, email, phone, first_name, last_name, company_name; of the created "
            "IDs feed: party_id, type, value."
        ),
    )
    # Export feed: HC_SC_ImportCustomer's limits (SPEC section 2) and how long NetSuite gets to return an ID.
    rows_per_file = models.PositiveIntegerField(
        default=20000,
        validators=[MinValueValidator(1), MaxValueValidator(25000)],
        help_text="Customers per export file; a CSV import submitted by a script takes at most 25,000.",
    )
    id_wait_minutes = models.PositiveIntegerField(
        "wait for NetSuite's ID (minutes)",
        default=120,
        validators=[MinValueValidator(15)],
        help_text=(
            "A customer exported this long ago whose NetSuite ID has not come back becomes a failure that points to "
            "NetSuite's CSV import job status page and the export file."
        ),
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["external_system", "kind"], name="feed_system_kind_unique")]
        ordering = ["external_system", "kind"]

    def __str__(self) -> str:
        return f"{self.kind} for {self.external_system}"

    @property
    def folder(self) -> str:
        return self.remote_folder.replace("{sftp-username}", self.sftp_connection.username).rstrip("/") or "/"

    def clean(self) -> None:
        from .formats import HISTORICAL, PARTY_IDENT

        mapping = self.column_mapping or {}
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise ValidationError({"column_mapping": 'Give header → field pairs, e.g. {"Customer ID": "internal_id"}.'})
        layout = {self.Kind.HISTORICAL: HISTORICAL, self.Kind.PARTY_IDENT: PARTY_IDENT}.get(self.kind)
        if mapping and layout is None:
            raise ValidationError({"column_mapping": "The export feed writes its own header; it takes no mapping."})
        unknown = sorted({v for v in mapping.values() if layout is not None and v not in layout.by_key})
        if unknown:
            raise ValidationError(
                {
                    "column_mapping": f"Unknown field(s) {', '.join(unknown)}. Fields of this feed: "
                    f"{', '.join(layout.by_key)}."
                }
            )


class FeedFile(models.Model):
    """The ledger: every file a feed has seen or written, so none is lost or processed twice."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        DONE = "done", "Done"
        PARTLY_FAILED = "partly_failed", "Partly failed"
        FAILED = "failed", "Failed"
        DUPLICATE = "duplicate", "Duplicate (already processed)"

    class Direction(models.TextChoices):
        INBOUND = "in", "From NetSuite"
        OUTBOUND = "out", "To NetSuite"

    feed = models.ForeignKey(Feed, on_delete=models.PROTECT, related_name="files")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    file_name = models.CharField(max_length=255)
    remote_path = models.CharField(max_length=1000, help_text="Where the file is now on the server.")
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.PROCESSING, db_index=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_ok = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True, help_text="Why the file failed, for the operator.")
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    moved_at = models.DateTimeField(null=True, blank=True, help_text="When it was moved to archive/ or failed/.")
    checkpoint_line = models.PositiveBigIntegerField(
        default=0, help_text="Rows up to this line are in the database; a rerun after a crash resumes after it."
    )
    job_run = models.ForeignKey("jobs.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            # The same content is processed once per feed, whatever its name. Files the portal writes are
            # left out: a resync may legitimately send the same rows again.
            models.UniqueConstraint(
                fields=["feed", "sha256"],
                condition=~Q(sha256="") & ~Q(status="duplicate") & Q(direction="in"),
                name="feed_file_content_once",
            ),
        ]
        ordering = ["-started_at", "-id"]
        verbose_name = "feed file"

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class ExportedCustomer(models.Model):
    """Which export file carried a customer to NetSuite, for the operator tracing a missing ID."""

    # No index per foreign key: the unique constraint (feed_file first) and the customer index below serve
    # every lookup, and each extra index is paid once per exported customer.
    feed_file = models.ForeignKey(FeedFile, on_delete=models.CASCADE, related_name="exported_customers", db_index=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False)
    # The physical line of the customer's row in the file (the header is line 1), so an error NetSuite reports
    # as "Line N: ..." finds its customer. Null for files written before lines were kept.
    line = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["feed_file", "customer"], name="exported_customer_once_per_file"),
        ]
        indexes = [models.Index(fields=["customer"], name="exported_customer_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.feed_file_id}"
