"""The Failed Record Queue, the sync log and the job runs in the admin."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from customers.errors import guidance
from customers.models import RESYNCABLE_RECORD_TYPES, SyncFailure, SyncLog
from customers.services import failures_mark_resolved
from integration_portal.paginator import CappedCountPaginator
from jobs.registry import job_enqueue

from .filters import ErrorCodeFilter, QueueStateFilter
from .models import FailedRecord, JobRunRecord
from .permissions import can_resync
from .runs import job_title, run_field_cell
from .selectors import GROUPS_ON_QUEUE, RESYNC_GROUP_JOB, FailureGroup, failure_groups
from .services import failed_records_resync


class QueueChangeList(ChangeList):
    """The queue's changelist: newest first on last_seen_at alone, as the open-failures partial index is built.

    Django appends "-pk" to make the order total; with it SQLite scans the whole table instead of that index.
    last_seen_at has microseconds, so ties (which could only swap two rows across a page edge) are rare.
    """

    def _get_deterministic_ordering(self, ordering):
        if ordering and all(field == "-last_seen_at" for field in ordering):
            return ["-last_seen_at"]
        return super()._get_deterministic_ordering(ordering)


def record_link(obj: SyncFailure | SyncLog) -> str:
    """Link an entry to what it is about: the customer's page, or the file in the feed ledger."""
    if obj.customer_id:
        url = reverse("admin:customers_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.record_id)
    if obj.file_name:
        try:
            url = reverse("admin:sftpsync_feedfile_changelist")
        except NoReverseMatch:
            return obj.record_id
        label = f"{obj.file_name} line {obj.line_number}" if obj.line_number else obj.file_name
        return format_html('<a href="{}?q={}">{}</a>', url, obj.file_name, label)
    return obj.record_id


def redirect_back(request, fallback: str) -> HttpResponseRedirect:
    """Go back where the form was (its "next" field or the referer) if that is this site, else to ``fallback``."""
    back = request.POST.get("next") or request.headers.get("referer", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = fallback
    return HttpResponseRedirect(back)


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin of records the console shows but never edits: written by jobs and syncs only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def message_with_guidance(obj: SyncFailure, *, may_resync: bool) -> str:
    text = guidance(obj.error_code, can_resync=may_resync)
    if not text:
        return obj.message
    return format_html('{}<div class="console-guidance">What to do: {}</div>', obj.message, text)


def can_be_resynced(obj: SyncFailure) -> bool:
    return obj.resolved_at is None and obj.customer_id is not None and obj.record_type in RESYNCABLE_RECORD_TYPES


# A group with more open failures than this is resynced by a background job, not while the operator waits.
GROUP_RESYNC_NOW = 50


@admin.register(FailedRecord)
class FailedRecordAdmin(ReadOnlyAdmin):
    """One row per problem with a record and a connector; open ones by default, each with a RESYNC button."""

    # What the operator reads before pressing RESYNC comes first: with the side menu and the filters open the list
    # is about 630 px wide at 1280 px, and the Error Msg stays on screen only if it comes before the code,
    # record type and connector (which the groups above and the filters show too).
    list_display = (
        "last_seen",
        "record",
        "error_msg",
        "error_code",
        "record_type",
        "connector",
        "occurrences",
        "first_seen",
        "state",
    )
    list_display_links = ("last_seen",)
    list_filter = (
        QueueStateFilter, "record_type", "external_system", ErrorCodeFilter, "last_seen_at", "first_seen_at", "trigger",
    )  # fmt: skip
    search_fields = ("=record_id", "=customer__customer_id", "=file_name")
    search_help_text = "Exact customer ID or file name."
    list_select_related = ("external_system",)
    ordering = ("-last_seen_at",)
    list_per_page = 50
    # Counting 100,000 open failures on every page view is the cost that grows: count up to 10,000 only.
    show_full_result_count = False
    paginator = CappedCountPaginator
    actions = ["resync_selected", "mark_resolved"]
    change_list_template = "admin/console/failedrecord/change_list.html"
    fields = (
        "record_type",
        "record_id",
        "customer",
        "external_system",
        "error_code",
        "message",
        "what_to_do",
        "occurrences",
        "first_seen_at",
        "last_seen_at",
        "operation",
        "trigger",
        "file_name",
        "line_number",
        "resolved_at",
        "resolution",
        "resolved_by",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("resolved_by")

    def get_changelist(self, request, **kwargs):
        return QueueChangeList

    def get_list_display(self, request):
        may = can_resync(request.user)

        @admin.display(description="Error Msg")
        def error_msg(obj):
            return message_with_guidance(obj, may_resync=may)

        display = [error_msg if name == "error_msg" else name for name in self.list_display]
        # RESYNC first: it stays in view at any width, however long the messages are.
        return ["resync_button", *display] if may else display

    def has_resync_permission(self, request):
        return can_resync(request.user)

    @admin.display(description="last seen", ordering="last_seen_at")
    def last_seen(self, obj):
        return f"{timezone.localtime(obj.last_seen_at):%Y-%m-%d %H:%M}"

    @admin.display(description="first seen", ordering="first_seen_at")
    def first_seen(self, obj):
        return f"{timezone.localtime(obj.first_seen_at):%Y-%m-%d %H:%M}"

    @admin.display(description="record", ordering="record_id")
    def record(self, obj):
        return record_link(obj)

    @admin.display(description="connector", ordering="external_system__name")
    def connector(self, obj):
        return obj.external_system.name

    @admin.display(description="Error Msg")
    def error_msg(self, obj):
        # get_list_display() swaps in one that names RESYNC to those who may press it.
        return message_with_guidance(obj, may_resync=False)

    @admin.display(description="what to do")
    def what_to_do(self, obj):
        return guidance(obj.error_code, can_resync=False) or "Read the message."

    @admin.display(description="state")
    def state(self, obj):
        if obj.resolved_at is None:
            return "Open"
        by = f" by {obj.resolved_by}" if obj.resolved_by_id else ""
        return f"{obj.get_resolution_display()} {timezone.localtime(obj.resolved_at):%Y-%m-%d %H:%M}{by}"

    @admin.display(description="")
    def resync_button(self, obj):
        if not can_be_resynced(obj):
            return ""
        url = reverse("admin:console_failedrecord_resync", args=[obj.pk])
        # The changelist is one form (it carries the CSRF token); formaction posts it to the resync view.
        return format_html(
            '<button type="submit" class="console-resync" formaction="{}" name="resync" value="{}" '
            'title="Send {} to {} again now">RESYNC</button>',
            url,
            obj.pk,
            obj.record_id,
            obj.external_system,
        )

    @admin.action(description="Resync selected failed records now", permissions=["resync"])
    def resync_selected(self, request, queryset):
        entries = queryset.filter(resolved_at__isnull=True).select_related("customer", "external_system")
        report = failed_records_resync(entries=entries, user=request.user)
        level = messages.SUCCESS if not (report.failed or report.skipped) else messages.WARNING
        self.message_user(request, report.summary(), level)

    @admin.action(description="Mark selected failures resolved", permissions=["resync"])
    def mark_resolved(self, request, queryset):
        count = failures_mark_resolved(ids=queryset.values_list("pk", flat=True), user=request.user)
        self.message_user(request, f"{count} failure(s) marked resolved by you; they left the open queue.")

    def changelist_view(self, request, extra_context=None):
        extra = {
            "groups": failure_groups(limit=GROUPS_ON_QUEUE),
            "can_resync": can_resync(request.user),
            "group_resync_now": GROUP_RESYNC_NOW,
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/resync/",
                self.admin_site.admin_view(self.resync_view),
                name="console_failedrecord_resync",
            ),
            path("groups/", self.admin_site.admin_view(self.groups_view), name="console_failedrecord_groups"),
            path(
                "groups/resync/",
                self.admin_site.admin_view(self.group_resync_view),
                name="console_failedrecord_group_resync",
            ),
        ]
        return urls + super().get_urls()

    def resync_view(self, request, pk):
        """RESYNC one failed record now (POST only, Operator role)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not can_resync(request.user):
            raise PermissionDenied
        entry = get_object_or_404(self.get_queryset(request).select_related("customer", "external_system"), pk=pk)
        report = failed_records_resync(entries=[entry], user=request.user)
        if report.succeeded:
            self.message_user(
                request,
                f"RESYNC of {entry.record_id} to {entry.external_system} succeeded; the failure is resolved.",
                messages.SUCCESS,
            )
        elif report.failed:
            self.message_user(
                request,
                f"RESYNC of {entry.record_id} to {entry.external_system} failed again: {report.failed[0].message}",
                messages.ERROR,
            )
        else:
            self.message_user(request, report.summary(), messages.WARNING)
        return redirect_back(request, reverse("admin:console_failedrecord_changelist"))

    def groups_view(self, request):
        """Every group of open failures (connector, record type, problem) with its count."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET"])
        context = {
            **self.admin_site.each_context(request),
            "title": "Failed Record Queue by problem",
            "opts": self.model._meta,
            "groups": failure_groups(),
            "can_resync": can_resync(request.user),
            "group_resync_now": GROUP_RESYNC_NOW,
        }
        return TemplateResponse(request, "admin/console/failedrecord/groups.html", context)

    def group_resync_view(self, request):
        """RESYNC every open failure of one group: at once when it is small, else as a background job."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not can_resync(request.user):
            raise PermissionDenied
        try:
            group = FailureGroup.from_post(request.POST)
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect_back(request, reverse("admin:console_failedrecord_groups"))
        entries = group.open_failures()
        count = entries.count()
        if not count:
            self.message_user(
                request, f"No open failures are left in the {group.describe()}: reload the queue.", messages.INFO
            )
        elif count > GROUP_RESYNC_NOW:
            job_enqueue(key=RESYNC_GROUP_JOB, user=request.user, **group.as_kwargs())
            self.message_user(
                request,
                f"Resync of the {group.describe()} is queued as a background job; its progress shows on the Jobs "
                "page, and each customer that goes through leaves the queue.",
                messages.SUCCESS,
            )
        else:
            report = failed_records_resync(
                entries=entries.select_related("customer", "external_system"), user=request.user
            )
            level = messages.SUCCESS if not (report.failed or report.skipped) else messages.WARNING
            described = group.describe()  # str.capitalize() would lower-case the rest: "netsuite (rest)"
            self.message_user(request, f"{described[:1].upper()}{described[1:]}: {report.summary()}", level)
        return redirect_back(request, reverse("admin:console_failedrecord_groups"))


@admin.register(JobRunRecord)
class JobRunRecordAdmin(ReadOnlyAdmin):
    """Every run of every job: who asked, how far it got, how it ended; the page refreshes by itself."""

    list_display = (
        "started_at",
        "job_title",
        "external_system",
        "trigger",
        "state",
        "progress",
        "finished",
        "requested_by",
        "run_message",
    )
    list_filter = ("status", "job", "trigger", "external_system", "started_at")
    list_select_related = ("external_system", "requested_by")
    show_full_result_count = False
    list_per_page = 50
    # "state" first: a run whose process is gone reads interrupted before the count job's sweep says so.
    readonly_fields = ["state", "run_message", *(f.name for f in JobRunRecord._meta.fields)]
    change_list_template = "admin/console/jobrunrecord/change_list.html"

    @admin.display(description="job", ordering="job")
    def job_title(self, obj):
        return job_title(obj)

    @admin.display(description="state", ordering="status")
    def state(self, obj):
        return run_field_cell(obj, "state")

    @admin.display(description="rows")
    def progress(self, obj):
        return run_field_cell(obj, "rows")

    @admin.display(description="finished", ordering="finished_at")
    def finished(self, obj):
        return run_field_cell(obj, "finished")

    @admin.display(description="message")
    def run_message(self, obj):
        return run_field_cell(obj, "message")


@admin.register(SyncLog)
class SyncLogAdmin(admin.ModelAdmin):
    """Every sync attempt; the open failures among them are the Failed Record Queue above."""

    list_display = (
        "created_at",
        "record_type",
        "record",
        "external_system",
        "operation",
        "trigger",
        "outcome",
        "error_code",
        "message",
        "created_by",
    )
    # No date_hierarchy or distinct-values filter: both scan the whole log on every page view.
    list_filter = ("outcome", "record_type", "trigger", "external_system", ErrorCodeFilter, "created_at")
    search_fields = ("=record_id", "=customer__customer_id", "file_name")
    raw_id_fields = ("customer",)
    list_select_related = ("external_system", "created_by")
    show_full_result_count = False
    paginator = CappedCountPaginator

    def has_add_permission(self, request):
        return False

    @admin.display(description="record", ordering="record_id")
    def record(self, obj: SyncLog) -> str:
        return record_link(obj)
