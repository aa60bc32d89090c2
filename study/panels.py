"""Study's part of the meeting page (registered with ``meetings.panels`` in ``StudyConfig.ready``).

On a held 党课 the page offers 发布为微党课 (``templates/study/_meeting_recording.html`` checks
``study.publish_recording``) or links the 微党课 made from it. Other meetings cost no query.
"""

from __future__ import annotations

from meetings.models import Meeting

from .services import is_party_lesson, recording_item_of, recording_of


def meeting_page(*, meeting: Meeting, ctx: dict) -> dict:
    if meeting.status not in Meeting.HELD_STATUSES or not is_party_lesson(meeting, ctx.get("types")):
        return {}
    item = recording_item_of(meeting)
    return {"study_recording": {"item": item, "has_video": item is None and recording_of(meeting) is not None}}
