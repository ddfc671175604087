"""Changelist filters for sync logs that stay cheap on large tables."""

from django.contrib import admin

from customers.models import SyncLog


class ErrorCodeFilter(admin.SimpleListFilter):
    """Error codes of the newest open failures (not a DISTINCT over the whole log, which grows without bound)."""

    title = "error code"
    parameter_name = "error_code"
    recent_rows = 1000

    def lookups(self, request, model_admin):
        recent = (
            SyncLog.objects.filter(outcome=SyncLog.Outcome.FAILED, resolved_at__isnull=True)
            .exclude(error_code="")
            .order_by("-created_at")
            .values_list("error_code", flat=True)[: self.recent_rows]
        )
        codes = set(recent)
        if self.value():
            codes.add(self.value())
        return [(code, code) for code in sorted(codes)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(error_code=self.value())
        return queryset


class QueueStateFilter(admin.SimpleListFilter):
    """Open failures by default; resolved ones and all of them on request."""

    title = "state"
    parameter_name = "state"
    default = "open"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved"), ("all", "All")]

    def value(self):
        return super().value() or self.default

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset
