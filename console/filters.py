"""Changelist filters of the Failed Record Queue and the sync log that stay cheap on large tables."""

from django.contrib import admin

from customers.errors import ErrorCode


class ErrorCodeFilter(admin.SimpleListFilter):
    """Error codes from the one enumeration every connector uses (a fixed list: no DISTINCT over the table)."""

    title = "error code"
    parameter_name = "error_code"

    def lookups(self, request, model_admin):
        return [(str(code), f"{code.title} ({code})") for code in sorted(ErrorCode, key=lambda c: c.title)]

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
