"""学习任务 pages: assign an item, the assigner's completion page, a member's task page."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from org.clock import local_midnight
from org.forms import attach_service_errors
from org.models import Member, Organization
from org.paging import page_without_total
from org.scope import get_scope

from . import assignments as services
from .assignments import item_url
from .forms_study import AssignmentForm
from .models import Assignment, AssignmentTarget, LearningRecord, Quiz
from .selectors import item_for_user

MEMBERS_PAGE_SIZE = 50


def _own_branch(request) -> Organization | None:
    """The branch a 书记 assigns within; None for the 党委 (any branch)."""
    if request.user.has_perm("study.assign_to_any_branch"):
        return None
    ids = sorted(get_scope(request.user).chief_secretary_branch_ids)
    if not ids:
        raise PermissionDenied
    return Organization.objects.get(pk=ids[0])


@login_required
@require_http_methods(["GET", "POST"])
def assignment_create(request, item_pk: int):
    if not request.user.has_perm("study.add_assignment"):
        raise PermissionDenied
    item = item_for_user(request.user, item_pk)
    own = _own_branch(request)
    branches = Organization.objects.branches().active().order_by("sort_order", "id")
    members = None
    if own is not None:
        members = Member.objects.of_organization_on(own, timezone.localdate()).order_by("name", "id")
    form = AssignmentForm(
        request.POST or None,
        branches=branches,
        members=members,
        initial={"scope": AssignmentForm.ALL, "form_token": uuid.uuid4().hex},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if own is not None:
            chosen_branches = [own] if data["scope"] == AssignmentForm.ALL else []
            chosen_members = list(data.get("members") or []) if data["scope"] == AssignmentForm.MEMBERS else []
        else:
            chosen_branches = list(branches) if data["scope"] == AssignmentForm.ALL else list(data["branches"])
            chosen_members = []
        try:
            assignment = services.assignment_create(
                item=item,
                due_at=local_midnight(data["due_date"] + dt.timedelta(days=1)),
                branches=chosen_branches,
                members=chosen_members,
                own_branch=own,
                note=data["note"],
                token=data["form_token"],
                user=request.user,
                now=timezone.now(),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "due_at" in error.error_dict:
                error.error_dict["due_date"] = error.error_dict.pop("due_at")
            attach_service_errors(form, error)
        else:
            messages.success(request, _("已布置给 {n} 名党员。").format(n=assignment.targets.count()))
            return redirect("study:assignment_detail", pk=assignment.pk)
    return render(
        request,
        "study/assignment_form.html",
        {"form": form, "item": item, "own_branch": own},
        status=400 if form.errors else 200,
    )


def _get_assignment_for_user(request, pk: int) -> Assignment:
    assignment = get_object_or_404(Assignment.objects.select_related("item", "branch", "created_by__member"), pk=pk)
    if not request.user.has_perm("study.view_assignment", assignment):
        raise Http404
    return assignment


@login_required
def assignment_detail(request, pk: int):
    """Completion per branch, and per member of the chosen branch (or of all, for a single branch)."""
    assignment = _get_assignment_for_user(request, pk)
    scope = get_scope(request.user)
    seen_ids = None if request.user.has_perm("study.view_all_of_assignment", assignment) else scope.committee_branch_ids
    branches = services.branch_progress(assignment, branch_ids=seen_ids)
    chosen = request.GET.get("branch")
    branch_id = None
    if chosen and chosen.isdigit() and any(b.branch_id == int(chosen) for b in branches):
        branch_id = int(chosen)
    elif len(branches) == 1:
        branch_id = branches[0].branch_id
    page = None
    if branch_id is not None:
        completed = LearningRecord.objects.filter(item_id=assignment.item_id, member_id=OuterRef("member_id")).values(
            "completed_at"
        )[:1]
        targets = (
            AssignmentTarget.objects.filter(assignment=assignment, branch_id=branch_id)
            .select_related("member", "task")
            .annotate(record_completed_at=Subquery(completed))
            .order_by("task__status", "member__name", "id")
        )
        page = page_without_total(targets, request.GET.get("page"), MEMBERS_PAGE_SIZE)
    return render(
        request,
        "study/assignment_detail.html",
        {
            "assignment": assignment,
            "branches": branches,
            "branch_id": branch_id,
            "page": page,
            "item_url": item_url(assignment.item),
        },
    )


@login_required
def assignment_todo(request, pk: int):
    """A member's 学习任务: the item to study, the deadline, its quiz; 404 to anyone not assigned."""
    scope = get_scope(request.user)
    target = get_object_or_404(
        AssignmentTarget.objects.select_related("assignment__item", "task"),
        assignment_id=pk,
        member_id=scope.member_id or 0,
    )
    item = target.assignment.item
    quiz = Quiz.objects.filter(item=item).first()
    return render(
        request,
        "study/assignment_todo.html",
        {"target": target, "item": item, "item_url": item_url(item), "quiz": quiz},
    )


LIST_PAGE_SIZE = 20


@login_required
def assignment_list(request):
    """The 学习任务 a login follows: all (党委, 督导组), those they assigned, those reaching their branch."""
    scope = get_scope(request.user)
    qs = Assignment.objects.select_related("item", "created_by__member", "branch").order_by("-created_at", "-id")
    if not scope.sees_all_branches:
        if not scope.committee_branch_ids and not request.user.has_perm("study.add_assignment"):
            raise PermissionDenied
        reached = AssignmentTarget.objects.filter(branch_id__in=scope.committee_branch_ids).values("assignment_id")
        qs = qs.filter(Q(created_by=request.user) | Q(pk__in=reached))
    page = page_without_total(qs, request.GET.get("page"), LIST_PAGE_SIZE)
    return render(request, "study/assignment_list.html", {"page": page})
