from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from console.permissions import can_resync, can_run_jobs, can_test_connections
from integration_portal.secrets import WriteOnlySecretsForm
from jobs.registry import job_enqueue

from .client import ShopifyError
from .models import InboxEvent, ShopifyConnection, ShopifyRecord, WebhookSubscription
from .services import connection_test, inbox_retry, subscriptions_create
from .tasks import RECONCILE_JOB


class ShopifyConnectionForm(WriteOnlySecretsForm):
    class Meta:
        model = ShopifyConnection
        fields = "__all__"


class SubscriptionInline(admin.TabularInline):
    model = WebhookSubscription
    fields = ["topic", "uri", "shopify_id", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "webhook subscriptions (created with Subscribe to webhooks)"

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ShopifyConnection)
class ShopifyConnectionAdmin(admin.ModelAdmin):
    form = ShopifyConnectionForm
    list_display = ["shop_domain", "shop_name", "is_active", "subscription_count", "last_reconciled_at"]
    list_filter = ["is_active"]
    search_fields = ["shop_domain", "shop_name"]
    filter_horizontal = ["target_systems"]
    readonly_fields = ["shop_name", "last_reconciled_at"]
    inlines = [SubscriptionInline]
    actions = ["test_connections", "subscribe_webhooks"]
    fieldsets = [
        (None, {"fields": ["shop_domain", "shop_name", "is_active", "api_url", "api_version", "request_timeout"]}),
        (
            "Credentials",
            {
                "fields": ["access_token", "client_secret", "previous_client_secret"],
                "description": "Stored encrypted and never shown again. Leave a field blank to keep its value. To "
                "rotate the client secret, enter the new one and the old one as the previous secret; clear the "
                "previous one once Shopify signs with the new one.",
            },
        ),
        ("Webhooks", {"fields": ["webhook_url"]}),
        (
            "New customers from this shop",
            {"fields": ["target_systems", "payment_term", "price_level", "subsidiary"]},
        ),
        ("Reconciliation", {"fields": ["reconciled_since", "last_reconciled_at"]}),
    ]

    @admin.display(description="webhook subscriptions")
    def subscription_count(self, obj: ShopifyConnection) -> int:
        return obj.subscriptions.count()

    def get_urls(self):
        def post(view, name):
            return path(
                f"<int:object_id>/{name}/",
                self.admin_site.admin_view(require_POST(view)),
                name=f"shopify_shopifyconnection_{name.replace('-', '_')}",
            )

        return [
            post(self.test_connection_view, "test-connection"),
            post(self.subscribe_view, "subscribe"),
            post(self.reconcile_view, "reconcile"),
            *super().get_urls(),
        ]

    def _back(self, object_id: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:shopify_shopifyconnection_change", args=[object_id]))

    def _test(self, request: HttpRequest, connection: ShopifyConnection) -> None:
        result = connection_test(connection=connection)
        self.message_user(
            request, f"{connection.shop_domain}: {result.message}", messages.SUCCESS if result.ok else messages.ERROR
        )

    def _subscribe(self, request: HttpRequest, connection: ShopifyConnection) -> None:
        try:
            report = subscriptions_create(connection=connection)
        except ShopifyError as exc:
            self.message_user(request, f"{connection.shop_domain}: {exc.message} [{exc.code}]", messages.ERROR)
            return
        self.message_user(request, f"{connection.shop_domain}: {report.summary()}", messages.SUCCESS)

    def has_test_permission(self, request: HttpRequest) -> bool:
        return can_test_connections(request.user)

    def test_connection_view(self, request: HttpRequest, object_id: int):
        """Ask the shop for its name with the stored token now (POST only; those who may test connections)."""
        if not can_test_connections(request.user):
            raise PermissionDenied
        connection = get_object_or_404(ShopifyConnection, pk=object_id)
        self._test(request, connection)
        return self._back(object_id)

    def subscribe_view(self, request: HttpRequest, object_id: int):
        connection = get_object_or_404(ShopifyConnection, pk=object_id)
        if not self.has_change_permission(request, connection):
            return HttpResponseRedirect(reverse("admin:index"))
        self._subscribe(request, connection)
        return self._back(object_id)

    def reconcile_view(self, request: HttpRequest, object_id: int):
        connection = get_object_or_404(ShopifyConnection, pk=object_id)
        if not can_run_jobs(request.user):
            return HttpResponseRedirect(reverse("admin:index"))
        job_enqueue(key=RECONCILE_JOB, user=request.user, connection_id=connection.pk)
        self.message_user(
            request, f"Reconciliation of {connection.shop_domain} queued; follow it on the Jobs page.", messages.SUCCESS
        )
        return self._back(object_id)

    @admin.action(description="Test connection", permissions=["test"])
    def test_connections(self, request, queryset):
        for connection in queryset:
            self._test(request, connection)

    @admin.action(description="Subscribe to webhooks", permissions=["change"])
    def subscribe_webhooks(self, request, queryset):
        for connection in queryset:
            self._subscribe(request, connection)


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("unreadable", "Unreadable payloads"),
            ("failed", "Failed to apply"),
            ("waiting", "Waiting to be processed"),
        ]

    def queryset(self, request, queryset):
        wanted = {
            "unreadable": InboxEvent.Status.UNREADABLE,
            "failed": InboxEvent.Status.FAILED,
            "waiting": InboxEvent.Status.RECEIVED,
        }.get(self.value() or "")
        return queryset.filter(status=wanted) if wanted else queryset


@admin.register(InboxEvent)
class InboxEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "topic", "record", "status", "reason_short", "attempts", "connection"]
    list_filter = [NeedsAttentionFilter, "status", "topic", "connection"]
    search_fields = ["event_id", "webhook_id", "record", "body"]
    date_hierarchy = "received_at"
    list_select_related = ["connection"]
    actions = ["process_again"]
    fields = [
        "connection", "topic", "status", "reason", "error_code", "record", "event_id", "webhook_id", "api_version",
        "triggered_at", "received_at", "processed_at", "attempts", "payload",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="reason")
    def reason_short(self, obj: InboxEvent) -> str:
        return obj.reason if len(obj.reason) <= 160 else obj.reason[:157] + "…"

    @admin.display(description="payload")
    def payload(self, obj: InboxEvent) -> str:
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html('<pre class="shopify-payload">{}</pre>', text)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a delivery is kept, never dropped

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not can_resync(request.user):
            actions.pop("process_again", None)
        return actions

    @admin.action(description="Process again (unreadable or failed entries)")
    def process_again(self, request, queryset):
        if not can_resync(request.user):
            return
        with transaction.atomic():
            count = inbox_retry(events=list(queryset))
        self.message_user(request, f"{count} entr{'y' if count == 1 else 'ies'} queued to be processed again.")


@admin.register(ShopifyRecord)
class ShopifyRecordAdmin(admin.ModelAdmin):
    list_display = ["kind", "shopify_id", "customer", "contact", "updated_at", "deleted_at"]
    list_filter = ["kind", "connection"]
    search_fields = ["shopify_id", "customer__customer_id", "company_shopify_id", "person_shopify_id"]
    list_select_related = ["customer", "contact"]
    readonly_fields = [f.name for f in ShopifyRecord._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
