from django.urls import path

from . import views

app_name = "netsuite"
urlpatterns = [
    path("customers/<str:customer_id>/presence", views.customer_presence, name="customer_presence"),
    path("customers/<str:customer_id>/ensure", views.customer_ensure, name="customer_ensure"),
]
