"""Practice pages: a 主题党日's activities and hazards, the hazard counts per branch, 先锋岗 and 责任区.

Every page loads its object through a ``_get_x_for_user`` helper (404 when the user may not
see it, 403 when they see it but may not do this) and hands the form to one service.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from meetings import selectors as meeting_selectors
from meetings.models import Meeting
from org.clock import year_bounds
from org.forms import attach_service_errors, error_messages
from org.models import Organization

from . import services
from .forms import ActivityForm, HazardEditForm, HazardForm, PioneerPostForm
from .models import Activity, Hazard, PioneerPost
from .selectors import HazardCounts, hazard_counts, hazard_state, meeting_activities, meeting_hazards

VIEW = "meetings.view_meeting"
MANAGE = "meetings.manage_meeting"


def _get_theme_day_for_user(request, pk: int, perm: str = MANAGE) -> Meeting:
    """A 主题党日 the user may ``perm``: 404 if they may not see it (or it is no 主题党日), 403 if not allowed."""
    meeting = meeting_selectors.meetings_base().filter(pk=pk).first()
    if meeting is None or not request.user.has_perm(VIEW, meeting) or not services.is_theme_day(meeting):
        raise Http404
    if not request.user.has_perm(perm, meeting):
        raise PermissionDenied
    return meeting


def _owners(meeting: Meeting):
    return meeting_selectors.branch_people(meeting.branch, on=timezone.localdate()).filter(user__isnull=False)


def _token() -> str:
    return uuid.uuid4().hex


@login_required
def theme_day(request, pk: int):
    """The 书记 records what a 主题党日 did (activities) and the hazards its members named."""
    meeting = _get_theme_day_for_user(request, pk)
    activity_form = ActivityForm(initial={"token": _token()}, prefix="activity")
    hazard_form = HazardForm(initial={"token": _token()}, prefix="hazard", owners=_owners(meeting))
    if request.method == "POST":
        if meeting.is_locked:
            messages.error(request, services.locked_message(meeting))
            return redirect("meetings:meeting_detail", meeting.pk)
        now = timezone.now()
        if request.POST.get("action") == "activity":
            activity_form = ActivityForm(request.POST, prefix="activity")
            if activity_form.is_valid():
                d = activity_form.cleaned_data
                try:
                    services.activity_add(
                        meeting=meeting,
                        kind=d["kind"],
                        description=d["description"],
                        study_item=d["study_item"],
                        token=d["token"],
                        user=request.user,
                        now=now,
                    )
                except ValidationError as error:
                    attach_service_errors(activity_form, error)
                else:
                    messages.success(request, _("活动已保存。"))
                    return redirect("practice:theme_day", meeting.pk)
        elif request.POST.get("action") == "hazard":
            hazard_form = HazardForm(request.POST, prefix="hazard", owners=_owners(meeting))
            if hazard_form.is_valid():
                d = hazard_form.cleaned_data
                try:
                    hazard = services.hazard_add(
                        meeting=meeting,
                        description=d["description"],
                        location=d["location"],
                        severity=d["severity"],
                        owner=d["owner"],
                        due_on=d["due_on"],
                        token=d["token"],
                        user=request.user,
                        now=now,
                    )
                except ValidationError as error:
                    attach_service_errors(hazard_form, error)
                else:
                    messages.success(request, _("隐患已保存，整改任务已发给{name}。").format(name=hazard.owner.name))
                    return redirect("practice:theme_day", meeting.pk)
        else:
            raise Http404
    now = timezone.now()
    hazards = meeting_hazards(meeting)
    for h in hazards:
        h.state = hazard_state(h, now=now)
    return render(
        request,
        "practice/theme_day.html",
        {
            "meeting": meeting,
            "activities": meeting_activities(meeting),
            "hazards": hazards,
            "activity_form": activity_form,
            "hazard_form": hazard_form,
            "editable": not meeting.is_locked,
        },
    )


@login_required
@require_POST
def activity_delete(request, pk: int):
    activity = Activity.objects.filter(pk=pk).only("pk", "meeting_id").first()
    if activity is None:
        raise Http404
    meeting = _get_theme_day_for_user(request, activity.meeting_id)
    try:
        services.activity_delete(activity=activity, user=request.user, now=timezone.now())
    except ValidationError as error:
        error_messages(request, error)
    else:
        messages.success(request, _("活动已删除。"))
    return redirect("practice:theme_day", meeting.pk)


def _get_hazard_for_user(request, pk: int) -> Hazard:
    hazard = Hazard.objects.select_related("owner", "task").filter(pk=pk).first()
    if hazard is None:
        raise Http404
    hazard.meeting = _get_theme_day_for_user(request, hazard.meeting_id)
    return hazard


@login_required
def hazard_edit(request, pk: int):
    hazard = _get_hazard_for_user(request, pk)
    meeting = hazard.meeting
    if meeting.is_locked:
        messages.error(request, services.locked_message(meeting))
        return redirect("practice:theme_day", meeting.pk)
    initial = {"description": hazard.description, "location": hazard.location, "severity": hazard.severity}
    form = HazardEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.hazard_update(hazard=hazard, user=request.user, now=timezone.now(), **form.cleaned_data)
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, _("隐患已修改。"))
            return redirect("practice:theme_day", meeting.pk)
    return render(request, "practice/hazard_edit.html", {"meeting": meeting, "hazard": hazard, "form": form})


@login_required
def hazard_overview(request):
    """For the 党委 level: per branch, the hazards found at 主题党日 of a year, closed, overdue now."""
    if not request.user.has_perm("practice.view_hazard_counts"):
        raise PermissionDenied
    today = timezone.localdate()
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else today.year
    start, end = year_bounds(year)
    now = timezone.now()
    counts = hazard_counts(now=now, start=start, end=end)
    branches = list(Organization.objects.branches().filter(is_active=True).order_by("sort_order", "id"))
    rows = [(b, counts.get(b.pk, HazardCounts())) for b in branches]
    total = HazardCounts(
        found=sum(c.found for _b, c in rows),
        closed=sum(c.closed for _b, c in rows),
        overdue=sum(c.overdue for _b, c in rows),
    )
    return render(request, "practice/hazard_overview.html", {"rows": rows, "total": total, "year": year})


# --- 先锋岗 and 责任区 -------------------------------------------------------------------------


def _get_branch_for_pioneers(request, pk: int) -> Organization:
    branch = get_object_or_404(Organization.objects.branches(), pk=pk)
    if not request.user.has_perm("org.view_branch", branch):
        raise Http404
    if not request.user.has_perm("practice.edit_pioneer_posts", branch):
        raise PermissionDenied
    return branch


@login_required
def pioneer_posts(request, pk: int):
    branch = _get_branch_for_pioneers(request, pk)
    today = timezone.localdate()
    members = meeting_selectors.branch_members_on(branch, on=today)
    form = PioneerPostForm(initial={"token": _token(), "started_on": today}, members=members)
    if request.method == "POST":
        form = PioneerPostForm(request.POST, members=members)
        if form.is_valid():
            try:
                services.pioneer_post_add(branch=branch, user=request.user, now=timezone.now(), **form.cleaned_data)
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, _("已保存。"))
                return redirect("practice:pioneer_posts", branch.pk)
    posts = list(PioneerPost.objects.filter(branch=branch).select_related("member").order_by("ended_on", "kind", "id"))
    return render(
        request, "practice/pioneer_posts.html", {"branch": branch, "posts": posts, "form": form, "today": today}
    )


@login_required
@require_POST
def pioneer_post_end(request, pk: int):
    post = PioneerPost.objects.filter(pk=pk).first()
    if post is None:
        raise Http404
    branch = _get_branch_for_pioneers(request, post.branch_id)
    try:
        services.pioneer_post_end(post=post, ended_on=timezone.localdate(), user=request.user, now=timezone.now())
    except ValidationError as error:
        error_messages(request, error)
    else:
        messages.success(request, _("已结束。"))
    return redirect("practice:pioneer_posts", branch.pk)
