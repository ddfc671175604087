"""The admin site: the operators' console, with the dashboard as its front page."""

from django.contrib import admin
from django.urls import path


class PortalAdminSite(admin.AdminSite):
    site_header = "Customer sync portal"
    site_title = "Customer sync portal"
    index_title = "Dashboard"
    index_template = "admin/index.html"

    def index(self, request, extra_context=None):
        from console.views import dashboard_context

        return super().index(request, {**dashboard_context(request), **(extra_context or {})})

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
