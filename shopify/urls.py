from django.urls import path

from . import views

app_name = "shopify"
urlpatterns = [path("webhooks", views.webhooks, name="webhooks")]
