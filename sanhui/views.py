"""Pages that compose several apps. The home page lives here, above every app, so that no
app imports one above it to show its panel (style.md: imports run one way)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from bulletin.selectors import announcements_for_user
from meetings import selectors as meeting_selectors
from meetings.rollups import unmet_cells_this_year
from org import selectors as org_selectors
from org.scope import get_scope

HOME_BRANCH_ROWS = 20


@login_required
def home(request):
    """One home page, its sections chosen by role."""
    scope = get_scope(request.user)
    now = timezone.now()
    today = timezone.localdate()
    ctx = {
        "announcements": announcements_for_user(request.user, now=now)[:5],
        "all_branches": None,
        "my_branch": None,
        "my_branch_meetings": None,
    }
    if scope.sees_all_branches:
        # bounded: at 1,000 branches the panel shows HOME_BRANCH_ROWS, worst first (missed cells
        # of this year's closed periods, from the rollup); the rest is one click away
        ctx["all_branches"] = org_selectors.home_branches(
            request.user, on=today, limit=HOME_BRANCH_ROWS, unmet=unmet_cells_this_year(on=today)
        )
    if scope.home_branch_id:
        my_branch = org_selectors.branch_overview(request.user, on=today).filter(pk=scope.home_branch_id).first()
        ctx["my_branch"] = my_branch
        if my_branch is not None:
            ctx["my_branch_meetings"] = {
                "upcoming": meeting_selectors.upcoming_meetings(my_branch, now=now),
                "awaiting": meeting_selectors.records_awaiting_submission(my_branch, now=now),
            }
    return render(request, "org/home.html", ctx)
