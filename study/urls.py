from django.urls import path  # noqa: F401

from . import views_records

app_name = "study"

urlpatterns: list = [
    *views_records.urlpatterns,
]
