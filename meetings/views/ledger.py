"""The ledger (台账) of a branch's year, its Excel export, the mine's export, and a meeting's printable record."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from bulletin import exports
from org.models import Organization
from org.throttle import throttle
from org.xlsx import xlsx_response

from .. import ledger
from ..exports import MINE_LEDGER
from ..models import Attendance, Meeting

MIN_YEAR, MAX_YEAR = 2000, 2100


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Http404


def _get_branch_for_ledger(request, pk: int) -> Organization:
    branch = get_object_or_404(Organization.objects.branches(), pk=pk)
    if not request.user.has_perm("meetings.export_ledger", branch):
        raise PermissionDenied
    return branch


def _xlsx_response(rows, *, sheet_title: str, filename: str) -> FileResponse:
    return xlsx_response(lambda f: ledger.write_ledger_xlsx(rows, f, sheet_title=sheet_title), filename=filename)


@login_required
@require_GET
def branch_ledger(request, pk: int, year: int):
    """A branch's meetings of one year with every element of their records."""
    _check_year(year)
    branch = _get_branch_for_ledger(request, pk)
    rows = list(ledger.ledger_rows(ledger.meetings_of_year(year, branch=branch)))
    this_year = timezone.localdate().year
    return render(
        request,
        "meetings/ledger_branch.html",
        {
            "branch": branch,
            "year": year,
            "rows": rows,
            "years": range(this_year, this_year - 5, -1),
            "held_count": sum(1 for r in rows if r.held and r.status != Meeting.Status.CANCELLED),
        },
    )


@login_required
@require_GET
@throttle("export")
def branch_ledger_xlsx(request, pk: int, year: int):
    _check_year(year)
    branch = _get_branch_for_ledger(request, pk)
    rows = ledger.ledger_rows(ledger.meetings_of_year(year, branch=branch))
    return _xlsx_response(
        rows,
        sheet_title=_("{year}年台账").format(year=year),
        filename=_("{name}{year}年三会一课台账.xlsx").format(name=branch.name, year=year),
    )


@login_required
@require_GET
@throttle("export")
def mine_ledger_xlsx(request, year: int):
    """Every branch's meetings of one year in one sheet, for the 党委's supervisors: made by the worker.

    At a group's 1,000 branches the sheet takes tens of seconds, so it is a job: this link leads
    to the page whose button queues it (or finds the one already running) and then shows its
    progress; the file is linked from the inbox when ready. A branch's own ledger
    (``branch_ledger_xlsx``) stays direct.
    """
    _check_year(year)
    # Without an object the rule grants only those who see all branches.
    if not request.user.has_perm("meetings.export_ledger"):
        raise PermissionDenied
    # A GET never queues a job: the start page's button POSTs (bulletin.export_views.export_start).
    return redirect(exports.start_url(MINE_LEDGER, {"year": year}))


@login_required
@require_GET
def meeting_print(request, pk: int):
    """One meeting's record (会议记录) on A4, with every element the minutes must contain."""
    meeting = get_object_or_404(Meeting.objects.select_related("branch"), pk=pk)
    if not request.user.has_perm("meetings.view_meeting", meeting):
        raise PermissionDenied
    row = next(ledger.ledger_rows(Meeting.objects.filter(pk=meeting.pk)))
    attendees = list(
        Attendance.objects.filter(meeting=meeting, status__in=Attendance.PRESENT_STATUSES)
        .order_by("is_probationary", "member__name", "id")
        .values_list("member__name", "is_probationary", "status")
    )
    return render(
        request,
        "meetings/print_meeting.html",
        {
            "meeting": meeting,
            "row": row,
            "present_full": [name for name, prob, _s in attendees if not prob],
            "present_probationary": [name for name, prob, _s in attendees if prob],
            "late_names": [name for name, _p, status in attendees if status == Attendance.Status.LATE],
            "printed_at": timezone.now(),
        },
    )


urlpatterns = [
    path("ledger/<int:pk>/<int:year>/", branch_ledger, name="ledger"),
    path("ledger/<int:pk>/<int:year>/xlsx/", branch_ledger_xlsx, name="ledger_xlsx"),
    path("ledger/mine/<int:year>/xlsx/", mine_ledger_xlsx, name="mine_ledger_xlsx"),
    path("print/<int:pk>/", meeting_print, name="meeting_print"),
]
