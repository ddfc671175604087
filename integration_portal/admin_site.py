from django.contrib import admin


class PortalAdminSite(admin.AdminSite):
    site_header = "Customer sync portal"
    site_title = "Customer sync portal"
    index_title = "Operators' console"
