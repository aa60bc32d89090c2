"""Meetings held and recorded for the 议定事项 and 补学 tests."""

import datetime as dt

from meetings import services
from meetings.models import Meeting

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def record(meeting, secretary, *, now=NOW, statuses=None, items=None, recorder=None):
    """Minutes, attendance ({member: status}, the rest present) and agenda of ``meeting`` (held before ``now``)."""
    start = now - dt.timedelta(hours=2)
    services.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=now,
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        place="党员活动室",
        chair=secretary.member,
        recorder=recorder or secretary.member,
        resolutions="同意。",
    )
    statuses = statuses or {}
    entries = {a.member_id: statuses.get(a.member_id, "present") for a in meeting.attendances.all()}
    services.attendance_record(meeting=meeting, user=secretary, now=now, entries=entries)
    if items is None:
        items = [services.AgendaItemData(title="学习文件")]
    for item in items:
        if not item.speeches:
            item.speeches = [services.SpeechData(speaker=secretary.member, points="抓好安全。")]
    services.meeting_save_agenda(meeting=meeting, items=items, user=secretary, now=now)
    return Meeting.objects.get(pk=meeting.pk)


def decision(title, owner, due_on, **kwargs):
    return services.AgendaItemData(
        title=title, is_decision=True, decision_owner=owner, decision_due_on=due_on, **kwargs
    )
