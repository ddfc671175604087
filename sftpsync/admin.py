"""SFTP connections, the feeds and the file ledger in the operators' console."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from console.permissions import can_run_jobs, can_test_connections
from integration_portal.secrets import UnreadableSecretsAdminMixin, WriteOnlySecretsForm
from jobs.registry import job_enqueue

from .models import Feed, FeedFile, SftpConnection
from .services import EXPORT_JOB, HISTORICAL_JOB, PARTY_IDENT_JOB
from .services_connection import connection_scan_host_key, connection_test
from .transport import TransportError, parse_host_keys

# --- SFTP connections ------------------------------------------------------------------------------


class SecretTextarea(forms.Textarea):
    """A textarea for multi-line secrets (private keys) that never renders a value back."""

    def format_value(self, value):
        return None


class SftpConnectionForm(WriteOnlySecretsForm):
    class Meta:
        model = SftpConnection
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A key spans many lines, which a password input would flatten. (A Viewer's read-only form has no field.)
        if "private_key" in self.fields:
            widget = SecretTextarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"})
            self.fields["private_key"].widget = widget

    def clean_host_key(self) -> str:
        value = self.cleaned_data["host_key"].strip()
        try:
            parse_host_keys(value)
        except TransportError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("transport") == SftpConnection.Transport.LOCAL and not cleaned.get("local_root"):
            self.add_error("local_root", "A local-folder connection needs the folder that stands for the server's /.")
        if cleaned.get("transport") == SftpConnection.Transport.SFTP and not cleaned.get("host"):
            self.add_error("host", "An SFTP connection needs the server's host name.")
        return cleaned


@admin.register(SftpConnection)
class SftpConnectionAdmin(UnreadableSecretsAdminMixin, admin.ModelAdmin):
    form = SftpConnectionForm
    change_form_template = "admin/sftpsync/sftpconnection/change_form.html"
    list_display = ["name", "transport", "host", "port", "username", "last_test_ok", "last_tested_at"]
    list_filter = ["transport", "last_test_ok"]
    search_fields = ["name", "host", "username"]
    readonly_fields = ["host_key_fingerprints", "last_tested_at", "last_test_ok", "last_test_message"]
    actions = ["test_connections"]
    fieldsets = [
        (None, {"fields": ["name", "transport", "username"]}),
        ("SFTP server", {"fields": ["host", "port", "host_key", "host_key_fingerprints"]}),
        ("Credentials", {"fields": ["private_key", "private_key_passphrase", "password"]}),
        ("Local folder", {"fields": ["local_root"], "classes": ["collapse"]}),
        ("Timeouts", {"fields": ["connect_timeout", "keepalive"]}),
        ("Last test", {"fields": ["last_tested_at", "last_test_ok", "last_test_message"]}),
    ]

    @admin.display(description="configured host key fingerprints")
    def host_key_fingerprints(self, obj: SftpConnection) -> str:
        try:
            keys = parse_host_keys(obj.host_key)
        except TransportError as exc:
            return str(exc)
        return ", ".join(f"{k.get_name()} {k.fingerprint}" for k in keys) or "None: every connection is refused."

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/test/",
                self.admin_site.admin_view(self.test_connection_view),
                name="{}_{}_test".format(*info),
            ),
            path(
                "<path:object_id>/host-key/",
                self.admin_site.admin_view(self.host_key_view),
                name="{}_{}_host_key".format(*info),
            ),
            *super().get_urls(),
        ]

    def _change_url(self, connection: SftpConnection) -> str:
        return reverse("admin:sftpsync_sftpconnection_change", args=[connection.pk], current_app=self.admin_site.name)

    def _get_for_change(self, request, object_id: str) -> SftpConnection | None:
        connection = self.get_object(request, unquote(object_id))
        if connection is not None and not self.has_change_permission(request, connection):
            raise PermissionDenied
        return connection

    def has_test_permission(self, request: HttpRequest) -> bool:
        return can_test_connections(request.user)

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_test_connections"] = can_test_connections(request.user)
        return super().render_change_form(request, context, *args, **kwargs)

    def test_connection_view(self, request, object_id: str):
        """Test the connection now (POST only): it logs in with the stored credentials and records the outcome."""
        if not can_test_connections(request.user):
            raise PermissionDenied
        connection = self.get_object(request, unquote(object_id))
        if connection is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method != "POST":  # the test records its outcome, so only a button starts it
            return HttpResponseRedirect(self._change_url(connection))
        ok, message = connection_test(connection=connection)
        self.message_user(request, message, messages.SUCCESS if ok else messages.ERROR)
        return HttpResponseRedirect(self._change_url(connection))

    def host_key_view(self, request, object_id: str):
        connection = self._get_for_change(request, object_id)
        if connection is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        scanned, error, matches = None, "", False
        if connection.transport != SftpConnection.Transport.SFTP:
            error = "This connection uses a local folder, which has no host key."
        else:
            try:
                scanned = connection_scan_host_key(connection=connection)
                configured = parse_host_keys(connection.host_key)
                matches = any(k.get_base64() == scanned.base64 for k in configured)
            except TransportError as exc:
                error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Host key of {connection}",
            "opts": self.opts,
            "original": connection,
            "scanned": scanned,
            "matches": matches,
            "configured": self.host_key_fingerprints(connection),
            "error": error,
            "change_url": self._change_url(connection),
        }
        return TemplateResponse(request, "admin/sftpsync/sftpconnection/host_key.html", context)

    @admin.action(description="Test the selected connections", permissions=["test"])
    def test_connections(self, request, queryset):
        for connection in queryset:
            ok, message = connection_test(connection=connection)
            self.message_user(request, message, messages.SUCCESS if ok else messages.ERROR)


# --- Feeds and the file ledger ---------------------------------------------------------------------

FEED_JOBS = {
    Feed.Kind.HISTORICAL: HISTORICAL_JOB,
    Feed.Kind.EXPORT: EXPORT_JOB,
    Feed.Kind.PARTY_IDENT: PARTY_IDENT_JOB,
}


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = ("kind", "external_system", "sftp_connection", "folder_shown", "file_pattern", "enabled")
    list_filter = ("kind", "enabled", "external_system")
    list_editable = ("enabled",)
    search_fields = ("remote_folder", "external_system__name", "external_system__code", "sftp_connection__name")
    fieldsets = (
        (None, {"fields": ("kind", "external_system", "sftp_connection", "enabled")}),
        ("Folders", {"fields": ("remote_folder", "file_pattern", "archive_folder", "failed_folder")}),
        (
            "Column mapping (inbound feeds)",
            {
                "fields": ("column_mapping",),
                "description": "The portal reads HotWax's headers and the common labels of a saved search by itself; "
                "map any other header of your files to one of its fields here.",
            },
        ),
        (
            "NetSuite's limits and wait (export feed)",
            {
                "fields": ("rows_per_file", "id_wait_minutes"),
                "description": "Files stay below 25,000 rows and 100,000,000 bytes, as HC_SC_ImportCustomer needs.",
            },
        ),
        (
            "Export file defaults",
            {
                "fields": (
                    "default_status",
                    "default_subsidiary",
                    "default_taxable",
                    "default_order_priority",
                    "default_account_source",
                ),
                "description": "Used in the export file where the customer has no value of its own. Subsidiary and "
                "lead source are sent as NetSuite internal IDs, from NetSuite reference mappings.",
            },
        ),
        ("Performance", {"fields": ("batch_size",)}),
    )

    @admin.display(description="folder on the server")
    def folder_shown(self, obj: Feed) -> str:
        return obj.folder

    actions = ["run_selected_now"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not can_run_jobs(request.user):
            actions.pop("run_selected_now", None)
        return actions

    @admin.action(description="Run the selected feeds' jobs now")
    def run_selected_now(self, request: HttpRequest, queryset) -> None:
        if not can_run_jobs(request.user):
            raise PermissionDenied
        for feed in queryset.select_related("external_system"):
            self._enqueue(request, feed)

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_run_jobs"] = can_run_jobs(request.user)
        return super().render_change_form(request, context, *args, **kwargs)

    def get_urls(self):
        return [
            path("<path:object_id>/run/", self.admin_site.admin_view(self.run_view), name="sftpsync_feed_run"),
            *super().get_urls(),
        ]

    def run_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Queue the feed's job on the worker cluster (a POST from the change page's button)."""
        feed = self.get_object(request, unquote(object_id))
        if feed is None or not can_run_jobs(request.user):
            raise PermissionDenied
        change_url = reverse("admin:sftpsync_feed_change", args=[feed.pk])
        if request.method != "POST":  # starting a job changes state: only the button's POST does it
            return HttpResponseRedirect(change_url)
        self._enqueue(request, feed)
        return HttpResponseRedirect(change_url)

    def _enqueue(self, request: HttpRequest, feed: Feed) -> None:
        job_enqueue(
            key=FEED_JOBS[feed.kind],
            user=request.user,
            external_system=feed.external_system,
            connection=feed.external_system.code,
        )
        self.message_user(
            request,
            f"The {feed.get_kind_display()} job for {feed.external_system.name} was queued; "
            "its progress shows under Job runs.",
            messages.SUCCESS,
        )


@admin.register(FeedFile)
class FeedFileAdmin(admin.ModelAdmin):
    # The reason beside the status: at the end of the row it was off screen even at 1920 pixels.
    list_display = (
        "file_name",
        "feed",
        "direction",
        "status",
        "reason",
        "rows_total",
        "rows_ok",
        "rows_failed",
        "size",
        "started_at",
        "finished_at",
        "moved_at",
    )
    list_filter = ("status", "direction", "feed__kind", "feed__external_system")
    search_fields = ("file_name", "remote_path", "sha256", "reason")
    date_hierarchy = "started_at"
    list_select_related = ("feed", "feed__external_system")

    def get_readonly_fields(self, request: HttpRequest, obj: FeedFile | None = None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: FeedFile | None = None) -> bool:
        # The ledger is a record of what happened: it is read, never edited.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: FeedFile | None = None) -> bool:
        return False
