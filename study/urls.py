from django.urls import path  # noqa: F401

from . import media_views

app_name = "study"

urlpatterns: list = [
    *media_views.urlpatterns,
]
