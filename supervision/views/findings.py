"""Placeholder until the findings pages land (the URL names are the contract other pages link to)."""

from django.http import Http404
from django.urls import path


def _pending(request, *args, **kwargs):
    raise Http404


urlpatterns = [
    path("findings/", _pending, name="finding_list"),
    path("findings/new/", _pending, name="finding_create"),
    path("findings/export.xlsx", _pending, name="finding_export"),
    path("findings/<int:pk>/", _pending, name="finding_detail"),
    path("rectifications/<int:pk>/answer/", _pending, name="rectification_answer"),
    path("rectifications/<int:pk>/verify/", _pending, name="rectification_verify"),
]
