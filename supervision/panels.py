"""Supervision's part of the meeting page (registered with ``meetings.panels`` at start-up)."""

from __future__ import annotations

from meetings.models import Meeting

from .selectors.evidence import missing_photo_types
from .selectors.review import latest_return


def meeting_page(*, meeting: Meeting, ctx: dict) -> dict:
    """The supervisor's last return (on a returned record) and, on a complete record about to be
    submitted, the names of its types that require a photo it does not have yet (one query each)."""
    ready_to_submit = ctx.get("can_submit") and not ctx.get("problems")
    return {
        "latest_return": latest_return(meeting) if meeting.status == Meeting.Status.RETURNED else None,
        "photo_types": missing_photo_types(meeting) if ready_to_submit else [],
    }
