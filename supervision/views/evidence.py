"""Placeholder until the evidence pages land (the URL names are the contract other pages link to)."""

from django.http import Http404
from django.urls import path


def _pending(request, *args, **kwargs):
    raise Http404


urlpatterns = [
    path("meetings/<int:meeting_pk>/evidence/", _pending, name="meeting_evidence"),
    path("meetings/<int:meeting_pk>/evidence/upload/", _pending, name="evidence_upload"),
    path("evidence/<int:pk>/file/", _pending, name="evidence_file"),
    path("evidence/<int:pk>/thumbnail/", _pending, name="evidence_thumbnail"),
    path("evidence/<int:pk>/delete/", _pending, name="evidence_delete"),
]
