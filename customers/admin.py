"""The customer master in the operators' console."""

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from import_export.admin import ImportExportModelAdmin

from console.permissions import can_resync
from integration_portal.loose_scan import distinct_indexed_values
from integration_portal.paginator import CappedCountPaginator

from .models import (
    Address,
    Contact,
    Customer,
    CustomerSync,
    ExternalSystem,
    PartyIdentification,
)
from .resources import CustomerResource
from .selectors import sync_status_label
from .services import (
    CustomerLinkedError,
    customer_delete,
    customer_links,
    customer_refresh_validation,
    customer_validate_for_export,
)


def has_enabled_sync(**lookups) -> Exists:
    """Whether the customer has a selected connector matching ``lookups`` (an EXISTS on the indexed syncs)."""
    return Exists(CustomerSync.objects.filter(customer=OuterRef("pk"), enabled=True, **lookups))


class EnabledSyncFilter(admin.SimpleListFilter):
    """Customers with a selected connector whose ``sync_field`` equals the chosen value."""

    sync_field = ""

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(has_enabled_sync(**{self.sync_field: self.value()}))
        return queryset


class SyncStatusFilter(EnabledSyncFilter):
    title = "sync status"
    parameter_name = "sync_status"
    sync_field = "status"

    def lookups(self, request, model_admin):
        return CustomerSync.Status.choices


class ConnectorFilter(EnabledSyncFilter):
    title = "connector"
    parameter_name = "connector"
    sync_field = "external_system"

    def lookups(self, request, model_admin):
        return [(str(s.pk), s.name) for s in ExternalSystem.objects.all()]


class HasErrorsFilter(admin.SimpleListFilter):
    title = "has errors"
    parameter_name = "has_errors"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        in_error = has_enabled_sync(status=CustomerSync.Status.ERROR)
        if self.value() == "yes":
            return queryset.filter(in_error | Q(is_valid=False))
        if self.value() == "no":
            return queryset.filter(~in_error & Q(is_valid=True))
        return queryset


class SubsidiaryFilter(admin.SimpleListFilter):
    """Subsidiaries as a short list: the distinct values, not one link per customer."""

    title = "subsidiary"
    parameter_name = "subsidiary"

    def lookups(self, request, model_admin):
        # Not SELECT DISTINCT: at a million customers it reads them all (160 ms on PostgreSQL) on every page view.
        return [(v, v) for v in distinct_indexed_values(Customer, "subsidiary", limit=50)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(subsidiary=self.value())
        return queryset


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0
    fields = ("label", "line1", "line2", "city", "state", "zip", "country", "is_default_billing", "is_default_shipping")


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("first_name", "last_name", "email", "phone", "role")


class PartyIdentificationInline(admin.TabularInline):
    model = PartyIdentification
    extra = 0
    fields = ("type", "value", "created_at")
    readonly_fields = ("created_at",)
    verbose_name_plural = "Party identifications (IDs in other systems)"


class ExternalSystemInline(admin.TabularInline):
    """The customer page's External System tab: each connector's selection and state."""

    model = CustomerSync
    extra = 0
    fields = ("external_system", "enabled", "status", "still_needs", "external_id", "last_attempt_at", "last_error")
    readonly_fields = ("status", "still_needs", "external_id", "last_attempt_at", "last_error")
    verbose_name = "External System"
    verbose_name_plural = "External System"

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return (*fields, "resync") if can_resync(request.user) else fields

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "resync")

    @admin.display(description="")
    def resync(self, obj: CustomerSync) -> str:
        if not (obj.pk and obj.enabled):
            return ""
        # Posts the customer form (it carries the CSRF token) to the resync view; unsaved edits are not saved.
        return format_html(
            '<button type="submit" class="console-resync" formaction="{}" name="resync_system" value="{}" '
            'title="Send this customer to {} again now (save your edits first)">RESYNC</button>',
            reverse("admin:console_customer_resync", args=[obj.customer_id]),
            obj.external_system_id,
            obj.external_system.name,
        )

    @admin.display(description="still needs")
    def still_needs(self, obj: CustomerSync) -> str:
        if not obj.pk or not obj.enabled:
            return "—"
        if obj.is_ready:
            return "Nothing: ready to send"
        lines = [line for line in obj.problems.splitlines() if line.strip()]
        return format_html('<ul class="errorlist">{}</ul>', format_html_join("", "<li>{}</li>", ((p,) for p in lines)))

    @admin.display(description="last error")
    def last_error(self, obj: CustomerSync) -> str:
        if not obj.last_error_message:
            return "—"
        return f"{obj.last_error_code}: {obj.last_error_message}" if obj.last_error_code else obj.last_error_message


class SubCustomerInline(admin.TabularInline):
    model = Customer
    fk_name = "parent"
    extra = 0
    fields = ("customer_id", "first_name", "last_name", "company_name", "email", "is_active")
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    verbose_name = "sub-customer"
    verbose_name_plural = "Sub-customers (B2B locations and buyers)"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(ImportExportModelAdmin):
    resource_classes = [CustomerResource]
    list_display = (
        "customer_id",
        "name",
        "party_type",
        "segment",
        "email",
        "subsidiary",
        "external_system_sync_status",
        "is_valid",
        "modified_at",
    )
    list_display_links = ("customer_id", "name")
    list_filter = (
        SyncStatusFilter,
        ConnectorFilter,
        HasErrorsFilter,
        "is_valid",
        "segment",
        "party_type",
        SubsidiaryFilter,
        "is_active",
    )
    search_fields = ("=customer_id", "first_name", "last_name", "company_name", "email")
    search_help_text = "Name, email, portal customer ID, NetSuite internal ID or Shopify customer ID."
    list_per_page = 50
    show_full_result_count = False
    # COUNT(*) over a million customers on every page view grows with the table; stop counting at 10,000.
    paginator = CappedCountPaginator
    raw_id_fields = ("parent",)
    readonly_fields = ("export_problems", "created_at", "modified_at")
    fieldsets = (
        (None, {"fields": ("customer_id", "party_type", "segment", "is_active", "export_problems")}),
        ("Name and contact", {"fields": ("first_name", "last_name", "company_name", "email", "phone")}),
        ("Commercial", {"fields": ("payment_term", "price_level", "sales_rep", "subsidiary", "parent")}),
        (
            "Export file overrides",
            {
                "classes": ("collapse",),
                "fields": ("export_status", "order_priority", "account_source"),
                "description": "Leave blank to use the connection's defaults.",
            },
        ),
        ("Timestamps", {"classes": ("collapse",), "fields": ("created_at", "modified_at")}),
    )
    inlines = [ExternalSystemInline, AddressInline, ContactInline, PartyIdentificationInline, SubCustomerInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("syncs", queryset=CustomerSync.objects.select_related("external_system")))
        )

    def get_search_results(self, request, queryset, search_term):
        searched, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return searched, may_have_duplicates
        # IDs from other systems are exact matches on indexed columns, not a join with LIKE; both
        # sides start from the filtered queryset so the changelist's filters still apply.
        by_ident = PartyIdentification.objects.filter(value=term).values("customer_id")
        by_sync = CustomerSync.objects.filter(external_id=term).values("customer_id")
        return searched | queryset.filter(Q(pk__in=by_ident) | Q(pk__in=by_sync)), may_have_duplicates

    @admin.display(description="name")
    def name(self, obj: Customer) -> str:
        return obj.display_name

    @admin.display(description="External System Sync Status")
    def external_system_sync_status(self, obj: Customer) -> str:
        syncs = list(obj.syncs.all())
        if not syncs:
            return "No connector selected"
        return format_html_join(mark_safe("<br>"), "{}", ((sync_status_label(s),) for s in syncs))

    @admin.display(description="export problems")
    def export_problems(self, obj: Customer) -> str:
        if not obj.pk:
            return "Save the customer to see what is missing for export."
        problems = customer_validate_for_export(customer=obj)
        if not problems:
            return "Ready for export: every required field is filled in."
        return format_html(
            '<ul class="errorlist">{}</ul>', format_html_join("", "<li>{}</li>", ((p.message,) for p in problems))
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        customer_refresh_validation(customer=form.instance)

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        for customer in objs:
            links = customer_links(customer=customer)
            if links:
                protected = [str(CustomerLinkedError(customer, links))] + [p for p in protected if p]
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request, obj):
        customer_delete(customer=obj)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            try:
                customer_delete(customer=customer)
            except CustomerLinkedError as exc:
                self.message_user(request, str(exc), messages.ERROR)


@admin.register(CustomerSync)
class CustomerSyncAdmin(admin.ModelAdmin):
    """The saved search: connector-enabled customers and their External System Sync Status."""

    list_display = (
        "customer_link",
        "external_system",
        "status",
        "external_id",
        "last_attempt_at",
        "last_error_message",
    )
    list_filter = ("status", "external_system", "enabled", "customer__segment", "customer__subsidiary")
    search_fields = ("=customer__customer_id", "=external_id", "customer__email", "customer__last_name")
    list_select_related = ("customer", "external_system")
    raw_id_fields = ("customer",)
    readonly_fields = ("last_attempt_at", "last_synced_at")
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).filter(enabled=True)

    @admin.display(description="customer", ordering="customer__customer_id")
    def customer_link(self, obj: CustomerSync) -> str:
        return format_html('<a href="../customer/{}/change/">{}</a>', obj.customer_id, str(obj.customer))


@admin.register(ExternalSystem)
class ExternalSystemAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "transport", "identification_type", "historical_import_completed_at")
    list_filter = ("kind", "transport", "is_active")
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}


@admin.register(PartyIdentification)
class PartyIdentificationAdmin(admin.ModelAdmin):
    list_display = ("type", "value", "customer", "created_at")
    list_filter = ("type",)
    search_fields = ("=value", "=customer__customer_id")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    show_full_result_count = False


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("customer", "label", "city", "state", "zip", "country", "is_default_billing", "is_default_shipping")
    search_fields = ("=customer__customer_id", "city", "zip")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "customer", "email", "phone", "role")
    search_fields = ("=customer__customer_id", "email", "last_name")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    show_full_result_count = False
