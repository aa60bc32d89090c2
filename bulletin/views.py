"""PLACEHOLDER views: being written in this session."""

from django.http import Http404


def announcement_list(request):
    raise Http404


def announcement_detail(request, pk):
    raise Http404


def inbox(request):
    raise Http404
