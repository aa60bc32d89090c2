"""The 技术攻关 pages: list, open, detail, edit, start, report the outcome, verify, end, and the evidence files.

Every page loads its project through ``_get_project_for_user`` (one query plus prefetches, 404
for those who may not see it, 403 for a step they may not take); services do every write.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from org.forms import attach_service_errors, error_messages
from org.models import Organization
from org.scope import get_scope
from supervision.models import evidence_storage

from . import projects as services
from .forms_projects import ProjectForm, ReasonForm, ReportForm, VerifyForm
from .models import Project, ProjectEvidence

STATE_FILTERS = Project.State.choices


def _get_project_for_user(request, pk: int, perm: str = "practice.view_project") -> Project:
    project = services.project_detail_qs().filter(pk=pk).first()
    if project is None or not request.user.has_perm("practice.view_project", project):
        raise Http404
    if perm != "practice.view_project" and not request.user.has_perm(perm, project):
        raise PermissionDenied
    return project


def _openable_branches(user) -> list[Organization]:
    """The branches whose projects ``user`` may open: as 书记, or as a 党小组长 of one of its groups."""
    scope = get_scope(user)
    ids = scope.chief_secretary_branch_ids | scope.led_group_branch_ids
    return list(Organization.objects.filter(pk__in=ids).order_by("name"))


def _groups_for(user, branch: Organization):
    """The groups a project of ``branch`` may belong to: all for its 书记, the led ones for a 党小组长."""
    scope = get_scope(user)
    groups = Organization.objects.filter(parent=branch, kind=Organization.Kind.GROUP).order_by("name")
    if branch.pk in scope.chief_secretary_branch_ids:
        return groups
    return groups.filter(pk__in=scope.led_group_ids)


@login_required
@require_GET
def project_list(request):
    """The projects the user may see, newest first, with a state filter."""
    state = request.GET.get("state", "")
    qs = services.projects_for_user(request.user)
    if state in Project.State.values:
        qs = qs.filter(state=state)
    return render(
        request,
        "practice/project_list.html",
        {
            "projects": list(qs[:200]),
            "state": state,
            "states": STATE_FILTERS,
            "openable": _openable_branches(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request, branch_pk: int):
    """A 书记 or 党小组长 opens (立项) a project of their branch."""
    branch = get_object_or_404(Organization, pk=branch_pk, kind=Organization.Kind.BRANCH)
    if not request.user.has_perm("org.view_branch", branch):
        raise Http404
    if not request.user.has_perm("practice.open_project", branch):
        raise PermissionDenied
    groups = _groups_for(request.user, branch)
    if request.method == "POST":
        form = ProjectForm(request.POST, branch=branch, groups=groups)
        if form.is_valid():
            d = form.cleaned_data
            if d["group"] is None and branch.pk not in get_scope(request.user).chief_secretary_branch_ids:
                form.add_error("group", _("党小组长立项须选择本人所在的党小组。"))
            else:
                try:
                    project = services.project_open(
                        branch=branch,
                        group=d["group"],
                        title=d["title"],
                        problem=d["problem"],
                        source=d["source"],
                        leader=d["leader"],
                        started_on=d["started_on"],
                        metric=d["metric"],
                        unit=d["unit"],
                        baseline_value=d["baseline_value"],
                        target_value=d["target_value"],
                        party_members=d["party_members"],
                        workers=d["workers"],
                        milestones=d["milestones"],
                        user=request.user,
                        now=timezone.now(),
                        token=d["form_token"],
                    )
                except ValidationError as exc:
                    attach_service_errors(form, exc)
                else:
                    messages.success(request, _("攻关项目已立项。"))
                    return redirect("practice:project_detail", project.pk)
        status = 400
    else:
        form = ProjectForm(
            branch=branch,
            groups=groups,
            initial={"form_token": uuid.uuid4().hex, "started_on": timezone.localdate()},
        )
        status = 200
    return render(
        request, "practice/project_form.html", {"form": form, "branch": branch, "project": None}, status=status
    )


@login_required
@require_GET
def project_detail(request, pk: int):
    project = _get_project_for_user(request, pk)
    user = request.user
    may_change = user.has_perm("practice.change_project", project)
    return render(
        request,
        "practice/project_detail.html",
        {
            "project": project,
            "may_change": may_change and project.state in Project.EDITABLE_STATES,
            "may_start": may_change and project.state == Project.State.OPENED,
            "may_report": may_change and project.state == Project.State.IN_PROGRESS,
            "may_verify": user.has_perm("practice.verify_project", project) and project.state == Project.State.REPORTED,
            "reason_form": ReasonForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request, pk: int):
    project = _get_project_for_user(request, pk, "practice.change_project")
    if project.is_locked:
        messages.error(request, services.LOCKED_MESSAGE)
        return redirect("practice:project_detail", project.pk)
    groups = _groups_for(request.user, project.branch)
    if request.method == "POST":
        form = ProjectForm(request.POST, branch=project.branch, groups=groups, editing=True)
        if form.is_valid():
            values = {k: form.cleaned_data[k] for k in services.EDITABLE_FIELDS}
            try:
                services.project_update(project=project, user=request.user, now=timezone.now(), **values)
            except ValidationError as exc:
                attach_service_errors(form, exc)
            else:
                messages.success(request, _("项目信息已保存。"))
                return redirect("practice:project_detail", project.pk)
        status = 400
    else:
        form = ProjectForm(
            branch=project.branch,
            groups=groups,
            editing=True,
            initial={k: getattr(project, k) for k in services.EDITABLE_FIELDS},
        )
        status = 200
    return render(
        request,
        "practice/project_form.html",
        {"form": form, "branch": project.branch, "project": project},
        status=status,
    )


@login_required
@require_POST
def project_start(request, pk: int):
    project = _get_project_for_user(request, pk, "practice.change_project")
    try:
        services.project_start(project=project, user=request.user, now=timezone.now())
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        messages.success(request, _("项目已开始实施。"))
    return redirect("practice:project_detail", project.pk)


@login_required
@require_POST
def project_terminate(request, pk: int):
    project = _get_project_for_user(request, pk, "practice.change_project")
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        services.project_terminate(
            project=project, reason=form.cleaned_data.get("reason", ""), user=request.user, now=timezone.now()
        )
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        messages.success(request, _("项目已终止。"))
    return redirect("practice:project_detail", project.pk)


@login_required
@require_http_methods(["GET", "POST"])
def project_report(request, pk: int):
    """The group reports the outcome with evidence and names the verifier (实施中 → 待验收)."""
    project = _get_project_for_user(request, pk, "practice.change_project")
    if project.state != Project.State.IN_PROGRESS:
        messages.error(request, services.refusal(project, _("只有实施中的项目才能提交验收。")))
        return redirect("practice:project_detail", project.pk)
    if request.method == "POST":
        form = ReportForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            department, verifier = d["verifier"]
            try:
                services.project_report(
                    project=project,
                    measured_value=d["measured_value"],
                    money_estimate=d["money_estimate"],
                    outcome=d["outcome"],
                    files=request.FILES.getlist("files"),
                    department=department,
                    verifier=verifier,
                    user=request.user,
                    now=timezone.now(),
                )
            except ValidationError as exc:
                attach_service_errors(form, exc)
                if hasattr(exc, "error_dict") and "files" in exc.error_dict:
                    form.add_error(None, exc.error_dict["files"])
            else:
                messages.success(request, _("成果已提交验收。"))
                return redirect("practice:project_detail", project.pk)
        status = 400
    else:
        form = ReportForm()
        status = 200
    return render(request, "practice/project_report.html", {"form": form, "project": project}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def project_verify(request, pk: int):
    """The named verifier passes or fails the outcome with a comment."""
    project = _get_project_for_user(request, pk, "practice.verify_project")
    if project.state != Project.State.REPORTED:
        messages.error(request, services.refusal(project, _("该项目不在待验收状态。")))
        return redirect("practice:project_detail", project.pk)
    if request.method == "POST":
        form = VerifyForm(request.POST)
        if form.is_valid():
            try:
                services.project_verify(
                    project=project,
                    passed=form.cleaned_data["decision"] == "pass",
                    comment=form.cleaned_data["comment"],
                    user=request.user,
                    now=timezone.now(),
                )
            except ValidationError as exc:
                attach_service_errors(form, exc)
            else:
                messages.success(request, _("验收结论已记录。"))
                return redirect("practice:project_detail", project.pk)
        status = 400
    else:
        form = VerifyForm()
        status = 200
    return render(request, "practice/project_verify.html", {"form": form, "project": project}, status=status)


@login_required
@require_GET
def evidence_file(request, pk: int):
    """An outcome's evidence file, to those who may see its project (never a public URL)."""
    file = get_object_or_404(ProjectEvidence.objects.select_related("project"), pk=pk)
    if not request.user.has_perm("practice.view_project", file.project):
        raise Http404
    try:
        fh = evidence_storage().open(file.stored, "rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    inline = file.content_type.startswith(("image/", "video/")) or file.content_type == "application/pdf"
    response = FileResponse(
        fh, as_attachment=not inline, filename=PurePosixPath(file.original_name).name, content_type=file.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


urlpatterns = [
    path("projects/", project_list, name="project_list"),
    path("branches/<int:branch_pk>/projects/new/", project_create, name="project_create"),
    path("projects/<int:pk>/", project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", project_edit, name="project_edit"),
    path("projects/<int:pk>/start/", project_start, name="project_start"),
    path("projects/<int:pk>/terminate/", project_terminate, name="project_terminate"),
    path("projects/<int:pk>/report/", project_report, name="project_report"),
    path("projects/<int:pk>/verify/", project_verify, name="project_verify"),
    path("projects/evidence/<int:pk>/", evidence_file, name="project_evidence"),
]
