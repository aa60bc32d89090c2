"""Task pages: my and my branch's tasks, one task with its timeline and forms, dispatch, the matrix."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import PurePosixPath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from org.clock import local_midnight
from org.forms import attach_service_errors, error_messages
from supervision.models import evidence_storage

from . import selectors, services
from .forms import DispatchForm, HandOverForm, ReasonForm, ReportForm, TaskFilterForm
from .models import Dispatch, TaskReportFile
from .states import BADGES, Progress

PAGE_SIZE = 30
MATRIX_PAGE_SIZE = 10


def _get_task_for_user(request, pk: int, perm: str = "tasks.view_task"):
    """The task with everything its page shows; 404 for those who may not see it, 403 for a step they may not take."""
    task = selectors.task_detail_qs().filter(pk=pk).first()
    if task is None or not request.user.has_perm("tasks.view_task", task):
        raise Http404
    if perm != "tasks.view_task" and not request.user.has_perm(perm, task):
        raise PermissionDenied
    return task


@login_required
def task_list(request):
    form = TaskFilterForm(request.GET or None)
    status = source = ""
    if form.is_valid():
        status, source = form.cleaned_data["status"], form.cleaned_data["source"]
    mine = request.GET.get("scope") != "all"
    qs = selectors.task_list(request.user, mine=mine, status=status, source=source)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.decorate(page.object_list, now=timezone.now())
    return render(request, "tasks/task_list.html", {"page": page, "form": form, "mine": mine})


@login_required
def task_detail(request, pk: int):
    task = _get_task_for_user(request, pk)
    now = timezone.now()
    selectors.decorate([task], now=now)
    user = request.user
    context = {
        "task": task,
        "can_report": user.has_perm("tasks.report_task", task) and task.is_open,
        "can_decide": user.has_perm("tasks.decide_task", task) and task.status == task.Status.SUBMITTED,
        "can_cancel": user.has_perm("tasks.cancel_task", task) and task.status in task.LIVE_STATUSES,
        "can_hand_over": user.has_perm("tasks.hand_over_task", task) and task.status in task.LIVE_STATUSES,
        "report_form": ReportForm(initial={"token": uuid.uuid4().hex}),
        "reason_form": ReasonForm(),
    }
    return render(request, "tasks/task_detail.html", context)


@login_required
@require_POST
def task_start(request, pk: int):
    task = _get_task_for_user(request, pk, "tasks.report_task")
    services.task_start(task=task, user=request.user, now=timezone.now())
    return redirect("tasks:detail", pk=task.pk)


@login_required
@require_http_methods(["GET", "POST"])
def task_report(request, pk: int):
    task = _get_task_for_user(request, pk, "tasks.report_task")
    form = ReportForm(request.POST or None, request.FILES or None, initial={"token": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        try:
            services.task_report(
                task=task,
                user=request.user,
                text=form.cleaned_data["text"],
                files=form.cleaned_data["files"],
                token=form.cleaned_data["token"],
                now=timezone.now(),
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, _("办理情况已提交，等待交办人验收。"))
            return redirect("tasks:detail", pk=task.pk)
    return render(request, "tasks/task_report.html", {"task": task, "form": form}, status=400 if form.errors else 200)


def _decision(request, pk: int, perm: str, step):
    task = _get_task_for_user(request, pk, perm)
    try:
        step(task)
    except ValidationError as error:
        error_messages(request, error)
    return redirect("tasks:detail", pk=task.pk)


@login_required
@require_POST
def task_accept(request, pk: int):
    def step(task):
        services.task_accept(task=task, user=request.user, now=timezone.now())
        messages.success(request, _("已验收通过。"))

    return _decision(request, pk, "tasks.decide_task", step)


@login_required
@require_POST
def task_return(request, pk: int):
    def step(task):
        services.task_return(task=task, user=request.user, reason=request.POST.get("reason", ""), now=timezone.now())
        messages.success(request, _("已退回，责任人将重新办理。"))

    return _decision(request, pk, "tasks.decide_task", step)


@login_required
@require_POST
def task_cancel(request, pk: int):
    def step(task):
        services.task_cancel(task=task, user=request.user, reason=request.POST.get("reason", ""), now=timezone.now())
        messages.success(request, _("任务已取消。"))

    return _decision(request, pk, "tasks.cancel_task", step)


@login_required
@require_http_methods(["GET", "POST"])
def task_hand_over(request, pk: int):
    task = _get_task_for_user(request, pk, "tasks.hand_over_task")
    now = timezone.now()
    candidates = selectors.hand_over_candidates(task, on=timezone.localdate(now))
    form = HandOverForm(
        request.POST or None,
        candidates=candidates,
        initial={"owner": task.owner, "helpers": list(task.helpers.all())},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.task_hand_over(
                task=task,
                owner=form.cleaned_data["owner"],
                helpers=form.cleaned_data["helpers"],
                user=request.user,
                now=now,
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, _("责任人已调整。"))
            return redirect("tasks:detail", pk=task.pk)
    return render(
        request, "tasks/task_hand_over.html", {"task": task, "form": form}, status=400 if form.errors else 200
    )


def _serve_report_file(request, pk: int, *, thumbnail: bool):
    """A report's processed copy, to those who may see its task (never a public URL, never the original).

    The original keeps the camera's metadata (GPS included) and is not served; while the worker
    has not made the copy (处理中) or could not (处理失败) there is nothing to serve.
    """
    file = get_object_or_404(TaskReportFile.objects.select_related("report__task"), pk=pk)
    if not request.user.has_perm("tasks.view_task", file.report.task):
        raise Http404
    name = file.thumbnail if thumbnail else file.display
    if file.status != TaskReportFile.Status.READY or not name:
        raise Http404
    try:
        fh = evidence_storage().open(name, "rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    content_type = "image/jpeg" if thumbnail else (file.display_type or file.content_type)
    inline = content_type.startswith(("image/", "video/")) or content_type == "application/pdf"
    filename = PurePosixPath(file.original_name).stem + PurePosixPath(name).suffix
    response = FileResponse(fh, as_attachment=not inline, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
def report_file(request, pk: int):
    return _serve_report_file(request, pk, thumbnail=False)


@login_required
def report_file_thumbnail(request, pk: int):
    return _serve_report_file(request, pk, thumbnail=True)


# --- Dispatch --------------------------------------------------------------------------


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def dispatch_create(request):
    _require(request, "tasks.dispatch")
    form = DispatchForm(request.POST or None, initial={"audience": Dispatch.Audience.ALL_BRANCHES})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dispatch = services.dispatch_send(
                title=data["title"],
                description=data["description"],
                due_at=local_midnight(data["due_date"] + dt.timedelta(days=1)),
                audience=data["audience"],
                organizations=data["organizations"],
                route_to_post=data["route_to_post"],
                user=request.user,
                now=timezone.now(),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "due_at" in error.error_dict:
                error.error_dict["due_date"] = error.error_dict.pop("due_at")
            attach_service_errors(form, error)
        else:
            messages.success(request, _("已下发给 {n} 个支部。").format(n=dispatch.tasks.count()))
            return redirect("tasks:dispatch_detail", pk=dispatch.pk)
    return render(request, "tasks/dispatch_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def dispatch_detail(request, pk: int):
    _require(request, "tasks.view_dispatch_matrix")
    dispatch = get_object_or_404(selectors.dispatch_list(), pk=pk)
    rows = selectors.dispatch_rows(dispatch, now=timezone.now())
    return render(request, "tasks/dispatch_detail.html", {"dispatch": dispatch, "rows": rows})


LEGEND = [(BADGES[p], p.label) for p in Progress if p != Progress.CANCELLED]


@login_required
def dispatch_matrix(request):
    _require(request, "tasks.view_dispatch_matrix")
    page = Paginator(selectors.dispatch_list(), MATRIX_PAGE_SIZE).get_page(request.GET.get("page"))
    dispatches = list(page.object_list)
    branches, cells = selectors.dispatch_matrix(dispatches, now=timezone.now())
    rows = [(b, [cells.get((b.pk, d.pk)) for d in dispatches]) for b in branches]
    return render(
        request,
        "tasks/dispatch_matrix.html",
        {"page": page, "dispatches": dispatches, "rows": rows, "legend": LEGEND},
    )


app_name = "tasks"
urlpatterns = [
    path("", task_list, name="list"),
    path("<int:pk>/", task_detail, name="detail"),
    path("<int:pk>/start/", task_start, name="start"),
    path("<int:pk>/report/", task_report, name="report"),
    path("<int:pk>/accept/", task_accept, name="accept"),
    path("<int:pk>/return/", task_return, name="return"),
    path("<int:pk>/cancel/", task_cancel, name="cancel"),
    path("<int:pk>/hand-over/", task_hand_over, name="hand_over"),
    path("files/<int:pk>/", report_file, name="report_file"),
    path("files/<int:pk>/thumbnail/", report_file_thumbnail, name="report_file_thumbnail"),
    path("dispatch/new/", dispatch_create, name="dispatch_create"),
    path("dispatch/<int:pk>/", dispatch_detail, name="dispatch_detail"),
    path("dispatch/", dispatch_matrix, name="dispatch_matrix"),
]
