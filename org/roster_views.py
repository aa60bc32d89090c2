"""Roster import and export views. PLACEHOLDER: being written in this session."""

from django.http import Http404


def roster_template(request):
    raise Http404


def roster_import(request):
    raise Http404


def roster_import_confirm(request, token):
    raise Http404


def roster_export(request):
    raise Http404
