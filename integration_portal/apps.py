from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "integration_portal.admin_site.PortalAdminSite"

    def ready(self) -> None:
        super().ready()
        from . import checks  # noqa: F401 (registers the deploy checks)
