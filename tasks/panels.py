"""What the tasks app adds to the meeting page (through ``meetings.panels``)."""

from __future__ import annotations

from meetings.models import Meeting

from .models import MakeupSkip

SUBMITTED_ONCE = (Meeting.Status.SUBMITTED, Meeting.Status.APPROVED, Meeting.Status.RETURNED)


def meeting_page(*, meeting: Meeting, ctx: dict) -> dict:
    """To those who manage the meeting, once the record was submitted: absentees who got no 补学 task, and why."""
    if not ctx.get("can_manage") or meeting.status not in SUBMITTED_ONCE:
        return {"makeup_skips": []}
    return {"makeup_skips": list(MakeupSkip.objects.filter(meeting=meeting).select_related("member"))}
