"""The project's URLs plus views that fail on purpose, for the error page tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from sanhui.urls import urlpatterns as project_urlpatterns


def _forbidden(request):
    raise PermissionDenied


def _bad_request(request):
    raise SuspiciousOperation("bad")


def _broken(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("__test__/forbidden/", _forbidden),
    path("__test__/bad/", _bad_request),
    path("__test__/broken/", _broken),
    *project_urlpatterns,
]
