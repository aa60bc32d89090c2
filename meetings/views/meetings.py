"""PLACEHOLDER: being written in this session."""

from django.http import Http404
from django.urls import path


def meeting_detail(request, pk):
    raise Http404


urlpatterns = [path("<int:pk>/", meeting_detail, name="meeting_detail")]
