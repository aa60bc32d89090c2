"""The register of meeting places as a branch sees it: its own places (the 书记 edits them) and the
mine-wide ones, the red-education bases among them (edited in the admin)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from org.forms import attach_service_errors
from org.models import Organization

from ..forms import PlaceForm
from ..models import Place
from ..places import place_save


def _get_branch_for_places(request, pk: int, perm: str) -> Organization:
    branch = get_object_or_404(Organization.objects.branches(), pk=pk)
    if not request.user.has_perm("meetings.view_places", branch) and not request.user.has_perm(perm, branch):
        raise Http404
    if not request.user.has_perm(perm, branch):
        raise PermissionDenied
    return branch


def _get_place_for_user(request, pk: int) -> Place:
    """A branch's own place the user may edit: 404 for a place they may not see (or a mine-wide one)."""
    place = Place.objects.select_related("branch").filter(pk=pk, branch__isnull=False).first()
    if place is None or not request.user.has_perm("meetings.view_places", place.branch):
        raise Http404
    if not request.user.has_perm("meetings.edit_places", place):
        raise PermissionDenied
    return place


@login_required
def place_list(request, branch_pk: int):
    branch = _get_branch_for_places(request, branch_pk, "meetings.view_places")
    places = list(Place.objects.filter(branch=branch).order_by("-is_default", "name", "id"))
    shared = list(Place.objects.filter(branch__isnull=True, is_active=True).order_by("kind", "name", "id"))
    return render(
        request,
        "meetings/place_list.html",
        {
            "branch": branch,
            "places": places,
            "shared": shared,
            "can_edit": request.user.has_perm("meetings.edit_places", branch),
        },
    )


def _save(request, branch: Organization, form: PlaceForm, place: Place | None):
    try:
        saved = place_save(branch=branch, place=place, user=request.user, now=timezone.now(), **form.cleaned_data)
    except ValidationError as error:
        attach_service_errors(form, error)
        return None
    messages.success(request, _("会议地点“{name}”已保存。").format(name=saved.name))
    return redirect("meetings:place_list", branch.pk)


@login_required
def place_create(request, branch_pk: int):
    branch = _get_branch_for_places(request, branch_pk, "meetings.edit_places")
    form = PlaceForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid() and (response := _save(request, branch, form, None)):
        return response
    return render(request, "meetings/place_form.html", {"branch": branch, "form": form, "place": None})


@login_required
def place_edit(request, pk: int):
    place = _get_place_for_user(request, pk)
    form = PlaceForm(request.POST or None, initial=PlaceForm.initial_from(place))
    if request.method == "POST" and form.is_valid() and (response := _save(request, place.branch, form, place)):
        return response
    return render(request, "meetings/place_form.html", {"branch": place.branch, "form": form, "place": place})


urlpatterns = [
    path("branches/<int:branch_pk>/places/", place_list, name="place_list"),
    path("branches/<int:branch_pk>/places/new/", place_create, name="place_create"),
    path("places/<int:pk>/edit/", place_edit, name="place_edit"),
]
