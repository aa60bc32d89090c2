"""Learning records on the web: the player's progress report, 已学 for documents, 我的学习, the 学时 ledgers.

The progress report is the hot path (every ``StudyPolicy.heartbeat_seconds`` per watching
member): a fixed handful of queries, no session write (``org.sessions.no_session_touch``), JSON
in and out, CSRF-protected like every POST (the token travels in the ``X-CSRFToken`` header, or in
the form body of a ``sendBeacon`` when the page is closing).
"""

from __future__ import annotations

import datetime as dt
import json
import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bulletin.export_services import export_request
from org.models import Member, Organization
from org.scope import get_scope
from org.sessions import no_session_touch
from org.throttle import throttle
from org.xlsx import xlsx_response

from . import ledger
from .exports import MINE_STUDY_LEDGER
from .models import LearningRecord, StudyItem, StudyMedia, StudyPolicy
from .progress import Report
from .records import RecordRefused, record_confirm_document, record_heartbeat, record_open
from .selectors import visible_items

MIN_YEAR, MAX_YEAR = 2000, 2100
# The largest report body read: three numbers and a timestamp.
MAX_REPORT_BYTES = 1024


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Http404


def _member_of(user) -> Member | None:
    try:
        return user.member
    except Member.DoesNotExist:
        return None


def _refuse(reason: str, status: int) -> JsonResponse:
    return JsonResponse({"ok": False, "reason": reason}, status=status, json_dumps_params={"ensure_ascii": False})


def _parse_report(request) -> Report:
    """The report from a JSON body (fetch) or a ``payload`` form field (sendBeacon); ValueError when malformed."""
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_REPORT_BYTES:
        raise ValueError
    if request.content_type == "application/json":
        data = json.loads(request.body)
    else:
        data = json.loads(request.POST.get("payload", ""))
    if not isinstance(data, dict):
        raise ValueError
    start, end, sent_ms = float(data["from"]), float(data["to"]), float(data["sent_at"])
    if not all(math.isfinite(v) for v in (start, end, sent_ms)):
        raise ValueError
    sent_at = dt.datetime.fromtimestamp(sent_ms / 1000, tz=dt.UTC)
    return Report(from_position=start, to_position=end, sent_at=sent_at)


def _get_item_to_study(request, pk: int) -> StudyItem:
    """A published item in the login's audience (``study.selectors.visible_items``, the one rule of who
    may study what), with its media, in one query; 404 otherwise. An author's draft is not studied."""
    item = visible_items(request.user).select_related("media").prefetch_related(None).filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


def record_for_page(request, item: StudyItem, media: StudyMedia | None) -> dict:
    """What the item page shows of the member's record: made (the opening time kept) on the first visit.

    Only a published item is studied; a login without a member record (a supervisor) has none.
    """
    member = _member_of(request.user) if request.user.is_authenticated else None
    if member is None or item.state != StudyItem.State.PUBLISHED:
        return {}
    record = record_open(item=item, member=member, now=timezone.now())
    get_token(request)  # the player's reports carry the CSRF cookie's token in a header
    duration = media.duration_seconds if media is not None else None
    return {
        "record": record,
        "record_percent": min(100, int(record.played_seconds * 100 / duration)) if duration else 0,
        "study_policy": StudyPolicy.current(),
    }


def _next_url(request) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("study:my_study")


@require_POST
@no_session_touch
def heartbeat(request, pk: int):
    """A player's progress report: JSON {from, to, sent_at (ms since the epoch, the phone's clock)}."""
    if not request.user.is_authenticated:
        return _refuse(_("登录已过期，请重新登录后继续学习（本次进度未计入）。"), 403)
    member = _member_of(request.user)
    if member is None:
        return _refuse(_("只有党员的学习进度才会记录。"), 403)
    item = _get_item_to_study(request, pk)
    try:
        report = _parse_report(request)
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        return _refuse(_("进度上报的格式不正确，未计入。"), 400)
    media: StudyMedia | None = getattr(item, "media", None)
    if media is None or media.status != StudyMedia.Status.READY or not media.duration_seconds:
        return _refuse(_("这份资料还不能播放，不记录进度。"), 409)
    try:
        result = record_heartbeat(
            item=item,
            member=member,
            duration=media.duration_seconds,
            report=report,
            policy=StudyPolicy.current(),
            now=timezone.now(),
        )
    except RecordRefused as refused:
        return _refuse(str(refused), 409)
    body = {
        "ok": result.accepted,
        "reason": result.reason,
        "position": result.position,
        "played_seconds": result.played_seconds,
        "percent": min(100, int(result.played_seconds * 100 / media.duration_seconds)),
        "completed": result.completed,
    }
    return JsonResponse(body, status=200 if result.accepted else 409, json_dumps_params={"ensure_ascii": False})


@login_required
@require_POST
def confirm_done(request, pk: int):
    """已学 on a document or article the member opened: complete once, the second submit changes nothing."""
    member = _member_of(request.user)
    if member is None:
        raise PermissionDenied
    item = _get_item_to_study(request, pk)
    try:
        record = record_confirm_document(item=item, member=member, now=timezone.now())
    except RecordRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("已记为学完，获得 {hours} 学时。").format(hours=record.credit_hours or 0))
    return redirect(_next_url(request))


def _years(year: int) -> range:
    this_year = timezone.localdate().year
    return range(this_year, this_year - 5, -1)


def _year_of(request) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        raise Http404 from None
    _check_year(year)
    return year


@login_required
@require_GET
def my_study(request):
    """我的学习: the member's year — items completed, 学时 against the requirement, items begun."""
    member = _member_of(request.user)
    if member is None:
        raise PermissionDenied
    year = _year_of(request)
    done = list(ledger.member_year(member.pk, year))
    hours = sum((r.credit_hours or ledger.ZERO for r in done), ledger.ZERO)
    required = ledger.requirement_of(year).for_member(ledger.member_is_committee(member.pk, year))
    started = list(
        LearningRecord.objects.filter(member=member, completed_at__isnull=True)
        .select_related("item", "item__media")
        .order_by("-opened_at")[:20]
    )
    for record in started:
        media = getattr(record.item, "media", None)
        duration = media.duration_seconds if media is not None else None
        record.percent = min(100, int(record.played_seconds * 100 / duration)) if duration else 0
    return render(
        request,
        "study/my_study.html",
        {
            "member": member,
            "year": year,
            "years": _years(year),
            "done": done,
            "hours": hours,
            "required": required,
            "percent": 100 if not required else min(100, int(hours * 100 / required)),
            "started": started,
        },
    )


def _get_branch_for_ledger(request, pk: int) -> Organization:
    branch = get_object_or_404(Organization.objects.branches(), pk=pk)
    if not request.user.has_perm("study.view_branch_ledger", branch):
        raise PermissionDenied
    return branch


@login_required
@require_GET
def branch_ledger(request, pk: int, year: int):
    """The branch's members with their 学时 of the year against the requirement (by name, not by hours)."""
    _check_year(year)
    branch = _get_branch_for_ledger(request, pk)
    rows = ledger.branch_rows(branch, year, today=timezone.localdate())
    return render(
        request,
        "study/ledger_branch.html",
        {
            "branch": branch,
            "year": year,
            "years": _years(year),
            "rows": rows,
            "met": sum(1 for r in rows if r.met),
        },
    )


@login_required
@require_GET
@throttle("export")
def branch_ledger_xlsx(request, pk: int, year: int):
    _check_year(year)
    branch = _get_branch_for_ledger(request, pk)
    rows = ledger.branch_rows(branch, year, today=timezone.localdate())
    return xlsx_response(
        lambda f: ledger.write_ledger_xlsx(rows, f, sheet_title=_("{year}年学时").format(year=year)),
        filename=_("{name}{year}年学时台账.xlsx").format(name=branch.name, year=year),
    )


@login_required
@require_GET
def ledger_home(request):
    """学时台账: the mine's page for the 党委 level, else the first branch the login is on the committee of."""
    year = timezone.localdate().year
    if request.user.has_perm("study.view_mine_ledger"):
        return redirect("study:mine_ledger", year=year)
    branch = Organization.objects.branches().filter(pk__in=get_scope(request.user).committee_branch_ids).first()
    if branch is None:
        raise PermissionDenied
    return redirect("study:branch_ledger", pk=branch.pk, year=year)


@login_required
@require_GET
def mine_ledger(request, year: int):
    """The mine's branches: members and how many met the year's requirement."""
    _check_year(year)
    if not request.user.has_perm("study.view_mine_ledger"):
        raise PermissionDenied
    summary = ledger.mine_summary(year, today=timezone.localdate())
    return render(
        request,
        "study/ledger_mine.html",
        {
            "year": year,
            "years": _years(year),
            "summary": summary,
            "members": sum(s.members for s in summary),
            "met": sum(s.met for s in summary),
        },
    )


@login_required
@require_GET
@throttle("export")
def mine_ledger_xlsx(request, year: int):
    """Every member of the mine: made by the worker (an export job), like the meetings' mine ledger."""
    _check_year(year)
    if not request.user.has_perm("study.view_mine_ledger"):
        raise PermissionDenied
    job, _created = export_request(
        kind=MINE_STUDY_LEDGER, parameters={"year": year}, user=request.user, now=timezone.now()
    )
    return redirect("bulletin:export_job", pk=job.pk)


urlpatterns = [
    path("items/<int:pk>/progress/", heartbeat, name="heartbeat"),
    path("items/<int:pk>/done/", confirm_done, name="confirm_done"),
    path("mine/", my_study, name="my_study"),
    path("ledger/", ledger_home, name="ledger_home"),
    path("ledger/<int:year>/", mine_ledger, name="mine_ledger"),
    path("ledger/<int:year>/xlsx/", mine_ledger_xlsx, name="mine_ledger_xlsx"),
    path("ledger/branch/<int:pk>/<int:year>/", branch_ledger, name="branch_ledger"),
    path("ledger/branch/<int:pk>/<int:year>/xlsx/", branch_ledger_xlsx, name="branch_ledger_xlsx"),
]
