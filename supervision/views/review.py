"""Placeholder until the review pages land (the URL names are the contract other pages link to)."""

from django.http import Http404
from django.urls import path


def _pending(request, *args, **kwargs):
    raise Http404


urlpatterns = [
    path("review/", _pending, name="review_queue"),
    path("review/<int:meeting_pk>/", _pending, name="review_detail"),
    path("review/<int:meeting_pk>/approve/", _pending, name="review_approve"),
    path("review/<int:meeting_pk>/return/", _pending, name="review_return"),
    path("review/<int:meeting_pk>/reopen/", _pending, name="review_reopen"),
    path("flags/<int:pk>/decide/", _pending, name="flag_decide"),
]
