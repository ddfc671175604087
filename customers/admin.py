"""The customer master in the operators' console."""

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
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
from .selectors import SyncBucket, sync_bucket_q, sync_status_label
from .services import (
    CustomerLinkedError,
    customer_delete,
    customer_links,
    customer_refresh_validation,
    customer_validate_for_export,
)

# The customer page's "Save and resync" buttons: save the form, then send the customer again (value: a connector's
# ID, or "all").
SAVE_AND_RESYNC = "_saveandresync"


def has_enabled_sync(**lookups) -> Exists:
    """Whether the customer has a selected connector matching ``lookups`` (an EXISTS on the indexed syncs)."""
    return Exists(CustomerSync.objects.filter(customer=OuterRef("pk"), enabled=True, **lookups))


class EnabledSyncFilter(admin.SimpleListFilter):
    """Customers with a selected connector whose ``sync_field`` equals the chosen value."""

    sync_field = ""

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value not in {str(key) for key, _label in self.lookup_choices}:
            # e.g. ?connector=abc: the changelist answers with a 400 page naming it (integration_portal.admin_site).
            raise IncorrectLookupParameters(f"{self.title}: {value[:60]!r} is not one of the choices.")
        return queryset.filter(has_enabled_sync(**{self.sync_field: value}))


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
        return [(str(s.pk), s.name) for s in ExternalSystem.objects.connectors()]


class SyncBucketFilter(admin.SimpleListFilter):
    """The dashboard's buckets: each selected customer is in exactly one, so the counts add up."""

    title = "where it stands"
    parameter_name = "bucket"

    def lookups(self, request, model_admin):
        return SyncBucket.choices

    def queryset(self, request, queryset):
        if self.value() in SyncBucket.values:
            return queryset.filter(sync_bucket_q(self.value()))
        return queryset


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
    fields = ("first_name", "last_name", "email", "phone", "role", "contact_id")
    readonly_fields = ("contact_id",)


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
        # Submits the customer form: the change view saves the edits first, then sends (CustomerAdmin.response_change).
        return format_html(
            '<button type="submit" class="console-resync" name="{}" value="{}" '
            'title="Save your changes, then send this customer to {} again now">Save and resync</button>',
            SAVE_AND_RESYNC,
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
    # The sync status (and RESYNC, added after it for operators) come right after the name, so that they stay on
    # screen at 1280 px with the side menu and the filters open; the e-mail shares the name's cell.
    list_display = (
        "customer_id",
        "name",
        "external_system_sync_status",
        "kind",
        "subsidiary",
        "is_valid",
        "modified_at",
    )
    change_list_template = "admin/customers/customer/change_list.html"
    change_form_template = "admin/customers/customer/change_form.html"
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
    # The parent shows by name and is found by typing (a select of a million customers would not load).
    autocomplete_fields = ("parent",)
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

    def get_list_display(self, request):
        if can_resync(request.user):
            at = self.list_display.index("external_system_sync_status") + 1
            return (*self.list_display[:at], "resync_buttons", *self.list_display[at:])
        return self.list_display

    def get_urls(self):
        return [
            path(
                "<path:object_id>/resync/",
                self.admin_site.admin_view(self.resync_view),
                name="customers_customer_resync",
            ),
            *super().get_urls(),
        ]

    def resync_view(self, request, object_id):
        """RESYNC a customer now, with one connector (``resync_system``) or all it is selected for (POST, Operator)."""
        from console.admin import redirect_back

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not can_resync(request.user):
            raise PermissionDenied
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            raise Http404(f"No customer with the ID {object_id}.")
        self._resync_and_report(request, customer, request.POST.get("resync_system", ""))
        return redirect_back(request, reverse("admin:customers_customer_change", args=[customer.pk]))

    def _resync_and_report(self, request, customer: Customer, system: str) -> None:
        """Send the customer again now (one connector's ID, or "" / "all" for each) and say how each went."""
        from console.services import customer_resync

        system_id = int(system) if system.isdigit() else None
        outcomes = customer_resync(customer=customer, external_system_id=system_id, user=request.user)
        if not outcomes:
            self.message_user(
                request,
                f"{customer.customer_id} has no selected connector to resync with: select one on its External "
                "System tab and save.",
                messages.WARNING,
            )
        for external_system, result in outcomes:
            if result.ok:
                self.message_user(
                    request, f"RESYNC of {customer.customer_id} to {external_system.name} succeeded.", messages.SUCCESS
                )
            else:
                self.message_user(
                    request,
                    f"RESYNC of {customer.customer_id} to {external_system.name} failed: {result.message}",
                    messages.ERROR,
                )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and SAVE_AND_RESYNC in request.POST and not can_resync(request.user):
            raise PermissionDenied  # before anything is saved
        extra_context = {**(extra_context or {}), "can_resync": can_resync(request.user)}
        response = super().changeform_view(request, object_id, form_url, extra_context)
        # Django saves the form inside a transaction that ends only when changeform_view returns; the resync
        # waits for it. Sent from inside it, the push's other database connections (its request slots, its
        # threads) could neither see the edit nor write, and on SQLite waited for the lock until the request
        # failed and rolled the edit back.
        saved = getattr(request, "_portal_resync_after_save", None)
        if saved is not None:
            pk, system = saved
            self._resync_and_report(request, Customer.objects.get(pk=pk), system)  # as saved, inlines included
        return response

    def response_change(self, request, obj):
        if SAVE_AND_RESYNC in request.POST:
            return self._saved_then_resynced(request, obj)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if SAVE_AND_RESYNC in request.POST:
            return self._saved_then_resynced(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def _saved_then_resynced(self, request, obj: Customer) -> HttpResponseRedirect:
        """After "Save and resync" saved the form (it did not if the form had errors): stay on the page, and send
        once the save is committed (changeform_view)."""
        self.message_user(request, f"Your changes to {obj} were saved.", messages.SUCCESS)
        request._portal_resync_after_save = (obj.pk, request.POST.get(SAVE_AND_RESYNC, ""))
        return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[obj.pk]))

    @admin.display(description="resync")
    def resync_buttons(self, obj: Customer) -> str:
        syncs = [s for s in obj.syncs.all() if s.enabled]
        if not syncs:
            return ""
        url = reverse("admin:customers_customer_resync", args=[obj.pk])
        # The changelist is one form (it carries the CSRF token); formaction posts it to the resync view.
        return format_html_join(
            "",
            '<button type="submit" class="console-resync" formaction="{}" name="resync_system" value="{}" '
            'title="Send {} to {} again now">RESYNC</button>',
            ((url, s.external_system_id, obj.customer_id, s.external_system.name) for s in syncs),
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
        if not obj.email:
            return obj.display_name
        return format_html('{}<div class="console-muted">{}</div>', obj.display_name, obj.email)

    @admin.display(description="type", ordering="party_type")
    def kind(self, obj: Customer) -> str:
        return f"{obj.get_party_type_display()}, {obj.get_segment_display()}"

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
    list_filter = (
        SyncBucketFilter,
        "status",
        "external_system",
        "enabled",
        "customer__segment",
        "customer__subsidiary",
    )
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
    list_display = ("__str__", "contact_id", "customer", "email", "phone", "role")
    search_fields = ("=contact_id", "=customer__customer_id", "email", "last_name")
    readonly_fields = ("contact_id",)
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    show_full_result_count = False
