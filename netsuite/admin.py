from __future__ import annotations

import secrets
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from console.permissions import can_manage_api_tokens, can_test_connections
from integration_portal.secrets import UnreadableSecretsAdminMixin, WriteOnlySecretsForm

from .models import ApiToken, NetSuiteConnection, ReferenceMapping, hash_token, token_lifetime_days, token_max_days
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
class NetSuiteConnectionAdmin(UnreadableSecretsAdminMixin, admin.ModelAdmin):
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
        ("Limits", {"fields": ["concurrency_share", "batch_size", "batch_threshold", "request_timeout"]}),
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

    def has_test_permission(self, request: HttpRequest) -> bool:
        return can_test_connections(request.user)

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_test_connections"] = can_test_connections(request.user)
        return super().render_change_form(request, context, *args, **kwargs)

    def test_connection_view(self, request: HttpRequest, object_id: int):
        """Test the connection now (POST only): a signed login with the stored credentials (Operator role)."""
        if not can_test_connections(request.user):
            raise PermissionDenied
        connection = get_object_or_404(NetSuiteConnection, pk=object_id)
        self._report(request, connection)
        return HttpResponseRedirect(reverse("admin:netsuite_netsuiteconnection_change", args=[object_id]))

    @admin.action(description="Test connection", permissions=["test"])
    def test_connections(self, request, queryset):
        for connection in queryset:
            self._report(request, connection)


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name", "connection", "expires_at", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "connection" in self.fields:  # read-only once the token exists
            self.fields["connection"].required = True
            self.fields["connection"].queryset = NetSuiteConnection.objects.select_related("external_system")
        if "expires_at" in self.fields:
            days, most = token_lifetime_days(), token_max_days()
            self.fields[
                "expires_at"
            ].help_text = f"The token is refused from then on: {days} days by default, at most {most}."

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        now = timezone.now()
        latest = now + timedelta(days=token_max_days())
        if expires_at > latest:
            raise forms.ValidationError(
                f"A token may live {token_max_days()} days at most: choose a date before {latest:%Y-%m-%d}."
            )
        if expires_at <= now and not (self.instance.pk and expires_at == self.instance.expires_at):
            raise forms.ValidationError("Choose a date in the future, or untick Active to revoke the token.")
        return expires_at


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Orders API tokens: each bound to one connection, with an expiry; the token itself is shown once."""

    form = ApiTokenForm
    list_display = ["name", "connection", "token_start", "is_active", "expires_at", "created_at", "last_used_at"]
    list_filter = ["is_active", "connection"]
    list_select_related = ["connection__external_system"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["token_start", "created_at", "last_used_at"]

    def get_fields(self, request, obj=None):
        return ["name", "connection", "expires_at", "is_active", "token_start", "created_at", "last_used_at"]

    def get_readonly_fields(self, request, obj=None):
        # The connection is part of what the token grants: a token for another connection is a new token.
        return [*self.readonly_fields, "connection"] if obj is not None else self.readonly_fields

    def has_add_permission(self, request):
        return can_manage_api_tokens(request.user)

    def has_change_permission(self, request, obj=None):
        return can_manage_api_tokens(request.user)

    def has_delete_permission(self, request, obj=None):
        return can_manage_api_tokens(request.user)

    @admin.display(description="token")
    def token_start(self, obj: ApiToken) -> str:
        return format_html("{}…", obj.prefix) if obj.prefix else "(shown once, when saved)"

    def save_model(self, request, obj: ApiToken, form, change):
        if not obj.key_hash:
            raw = secrets.token_urlsafe(32)
            obj.key_hash = hash_token(raw)
            obj.prefix = raw[:8]
            obj._raw_token = raw  # for response_add only: never stored, logged or put in a cookie
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj: ApiToken, post_url_continue=None):
        """Show the new token once, on a page of its own (the answer to the POST that made it)."""
        raw = getattr(obj, "_raw_token", "")
        if not raw:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Orders API token for {obj.name}",
            "opts": self.opts,
            "original": obj,
            "token": raw,
            "connection": obj.connection,
            "expires_at": obj.expires_at,
            "changelist_url": reverse("admin:netsuite_apitoken_changelist"),
            "change_url": reverse("admin:netsuite_apitoken_change", args=[obj.pk]),
        }
        response = TemplateResponse(request, "admin/netsuite/apitoken/token_created.html", context)
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, private"
        return response
