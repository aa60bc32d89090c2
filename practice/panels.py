"""What practice adds to the meeting page and the supervisor's review page (through ``meetings.panels``).

On a 主题党日 only: its activities, the hazards found with their state, the place and whether it is
an 教育基地 (domain.md: a 主题党日 turned into an outing shows in its theme, activities and place).
Two queries on a 主题党日 (activities, hazards), none on any other meeting.
"""

from __future__ import annotations

from django.utils import timezone

from meetings.models import Meeting, MeetingType

from .selectors import hazard_state, meeting_activities, meeting_hazards


def _theme_day(ctx: dict) -> bool:
    return any(t.code == MeetingType.Code.THEME_DAY for t in ctx.get("types", ()))


def _panel(meeting: Meeting) -> dict:
    now = timezone.now()
    hazards = meeting_hazards(meeting)
    for h in hazards:
        h.state = hazard_state(h, now=now)
    return {"theme_day": {"activities": meeting_activities(meeting), "hazards": hazards}}


def meeting_page(*, meeting: Meeting, ctx: dict) -> dict:
    if not _theme_day(ctx):
        return {}
    panel = _panel(meeting)
    panel["theme_day"]["can_edit"] = ctx.get("can_manage") and not meeting.is_locked
    return panel


def review_page(*, meeting: Meeting, ctx: dict) -> dict:
    return _panel(meeting) if _theme_day(ctx) else {}
