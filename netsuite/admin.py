from __future__ import annotations

import secrets

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from integration_portal.secrets import WriteOnlySecretsForm

from .models import ApiToken, NetSuiteConnection, ReferenceMapping, hash_token
from .services import connection_test


@admin.register(ReferenceMapping)
class ReferenceMappingAdmin(admin.ModelAdmin):
    """Local values and their NetSuite internal IDs, per external system: one list for the REST and file connectors."""

    list_display = ["external_system", "kind", "local_value", "internal_id"]
    list_display_links = ["local_value"]
    list_editable = ["internal_id"]
    list_filter = ["external_system", "kind"]
    search_fields = ["local_value", "internal_id", "external_system__name", "external_system__code"]
    list_select_related = ["external_system"]


class NetSuiteConnectionForm(WriteOnlySecretsForm):
    class Meta:
        model = NetSuiteConnection
        fields = "__all__"


@admin.register(NetSuiteConnection)
class NetSuiteConnectionAdmin(admin.ModelAdmin):
    form = NetSuiteConnectionForm
    list_display = ["__str__", "account_id", "rest_url", "concurrency_share", "is_active", "last_pull_completed_at"]
    list_filter = ["is_active"]
    search_fields = ["account_id", "external_system__name", "external_system__code"]
    readonly_fields = ["pull_position", "last_pull_completed_at"]
    actions = ["test_connections"]
    fieldsets = [
        (None, {"fields": ["external_system", "is_active", "account_id", "base_url"]}),
        (
            "Token-based authentication",
            {
                "fields": ["consumer_key", "consumer_secret", "token_id", "token_secret"],
                "description": "Stored encrypted and never shown again. Leave a field blank to keep its value.",
            },
        ),
        ("Limits", {"fields": ["concurrency_share", "batch_size", "request_timeout"]}),
        (
            "Push",
            {
                "fields": ["push_on_change", "defaults"],
                "description": "Local values (payment terms, price levels, subsidiaries, sales reps) are sent as the "
                "internal IDs kept under NetSuite reference mappings, shared with the file connector.",
            },
        ),
        (
            "Pull",
            {"fields": ["subsidiary_filter", "time_zone", "pull_watermark", "pull_position", "last_pull_completed_at"]},
        ),
    ]

    @admin.display(description="pull in progress")
    def pull_position(self, obj: NetSuiteConnection) -> str:
        if obj.pull_cursor_started_at is None:
            return "None"
        return (
            f"Started {obj.pull_cursor_started_at:%Y-%m-%d %H:%M}, done up to internal ID "
            f"{obj.pull_cursor_last_id or 0}; the next pull resumes there."
        )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/test-connection/",
                self.admin_site.admin_view(require_POST(self.test_connection_view)),
                name="netsuite_netsuiteconnection_test",
            ),
            *super().get_urls(),
        ]

    def _report(self, request: HttpRequest, connection: NetSuiteConnection) -> None:
        result = connection_test(connection=connection)
        level = messages.SUCCESS if result.ok else messages.ERROR
        self.message_user(request, f"{connection}: {result.message}", level)

    def test_connection_view(self, request: HttpRequest, object_id: int):
        connection = get_object_or_404(NetSuiteConnection, pk=object_id)
        if not self.has_view_permission(request, connection):
            return HttpResponseRedirect(reverse("admin:index"))
        self._report(request, connection)
        return HttpResponseRedirect(reverse("admin:netsuite_netsuiteconnection_change", args=[object_id]))

    @admin.action(description="Test connection")
    def test_connections(self, request, queryset):
        for connection in queryset:
            self._report(request, connection)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "token_start", "is_active", "created_at", "last_used_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "prefix"]
    fields = ["name", "is_active", "token_start", "created_at", "last_used_at"]
    readonly_fields = ["token_start", "created_at", "last_used_at"]

    @admin.display(description="token")
    def token_start(self, obj: ApiToken) -> str:
        return format_html("{}…", obj.prefix) if obj.prefix else "(shown once, when saved)"

    def save_model(self, request, obj: ApiToken, form, change):
        if not obj.key_hash:
            raw = secrets.token_urlsafe(32)
            obj.key_hash = hash_token(raw)
            obj.prefix = raw[:8]
            super().save_model(request, obj, form, change)
            self.message_user(
                request,
                f"Token for {obj.name}: {raw} — copy it now; it is not stored and cannot be shown again. "
                "Send it as 'Authorization: Bearer <token>'.",
                messages.WARNING,
            )
            return
        super().save_model(request, obj, form, change)
