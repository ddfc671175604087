"""The admin site: the operators' console, with the dashboard as its front page."""

from django.contrib import admin
from django.contrib.admin.views.main import ERROR_FLAG, IGNORED_PARAMS
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path

# Filter values are shown back to the operator, shortened: a huge value is named, not repeated.
SHOWN_VALUE_LENGTH = 60


class PortalAdminSite(admin.AdminSite):
    site_header = "Customer sync portal"
    site_title = "Customer sync portal"
    index_title = "Dashboard"
    index_template = "admin/index.html"

    def index(self, request, extra_context=None):
        from console.views import dashboard_context

        return super().index(request, {**dashboard_context(request), **(extra_context or {})})

    def login(self, request, extra_context=None):
        from .login import login_policy

        return super().login(request, {"login_policy": login_policy(), **(extra_context or {})})

    def admin_view(self, view, cacheable=False):
        return super().admin_view(_refusing_bad_filters(self, view), cacheable)

    def get_urls(self):
        from console import views

        def page(view):
            return self.admin_view(lambda request: view(request, self))

        return [
            path("console/selective-export/", page(views.selective_export_view), name="console_selective_export"),
            path("console/jobs/", page(views.jobs_view), name="console_jobs"),
            path("console/jobs/progress/", page(views.jobs_progress_view), name="console_jobs_progress"),
            path("console/alerts/", page(views.alerts_view), name="console_alerts"),
            *super().get_urls(),
        ]


def _refusing_bad_filters(site: admin.AdminSite, view):
    """Answer a list asked for with filter values it cannot use with a 400 page that says so, never a 500.

    Django's own answer is a redirect to ``?e=1`` that drops the filters without a word (or a "Database error"
    page); a filter of ours that cannot read its value raises instead.
    """

    def wrapper(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
            if request.method == "GET" and isinstance(response, TemplateResponse) and _is_changelist(request):
                response.render()  # the list's rows are read while rendering: a bad value fails here
        except (ValidationError, ValueError, OverflowError):
            if not _is_changelist(request):
                raise
            return bad_filter_response(site, request)
        if _is_changelist(request) and (
            (response.status_code == 302 and response.get("Location") == f"{request.path}?{ERROR_FLAG}=1")
            or getattr(response, "template_name", None) == "admin/invalid_setup.html"
        ):
            return bad_filter_response(site, request)
        return response

    return wrapper


def _is_changelist(request) -> bool:
    match = request.resolver_match
    return bool(match and (match.url_name or "").endswith("_changelist"))


def bad_filter_response(site: admin.AdminSite, request) -> TemplateResponse:
    """A 400 page naming the filter values the list could not use, with a link to the list without them."""
    given = [
        (key, value if len(value) <= SHOWN_VALUE_LENGTH else f"{value[:SHOWN_VALUE_LENGTH]}… ({len(value)} characters)")
        for key, values in request.GET.lists()
        if key not in IGNORED_PARAMS or key in ("q",)
        for value in values
    ]
    context = {
        **site.each_context(request),
        "title": "This list cannot be filtered that way",
        "given": given,
        "list_url": request.path,
    }
    return TemplateResponse(request, "admin/bad_filter.html", context, status=400)
