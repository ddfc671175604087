from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import include, path

urlpatterns = [
    path("", lambda request: HttpResponseRedirect("/admin/")),
    path("api/netsuite/", include("netsuite.urls")),
    path("api/shopify/", include("shopify.urls")),
    path("admin/", admin.site.urls),
]
