"""The filing and notice deadlines of a meeting, counted in the mine's calendar days (org/clock.py).

The one home of two rules:

- **Filing** (本矿实施细则): the record is filed within ``minutes_due_days`` calendar days of the
  day the meeting was held. A meeting on 10 March (at any hour) is on time until the end of
  13 March: due at 14 March 00:00 Asia/Shanghai. Stored on ``Meeting.minutes_due_at`` (set by
  ``Meeting.save`` whenever the held date may have changed); the overdue sweep, the score and the
  integrity "entered late" check read that column.
- **Notice**: members are notified at least ``notice_days_before`` days before the day of the
  meeting (1: before the meeting day begins, i.e. by 23:59 the day before); a 支部党员大会 is
  reported to the 党委 ``general_meeting_notice_days_before`` days ahead (3: a meeting on 10 March
  is noticed by 23:59 on 7 March). The notice is ``Meeting.notice_published_at``.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django.db.models import Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from org.clock import date_label, day_after_end, deadline_text, local_date, local_midnight

GENERAL_MEETING = "general_meeting"


def minutes_due_at(held_on: dt.date, *, days: int) -> dt.datetime:
    """When the record of a meeting held on ``held_on`` becomes late: the end of the ``days``-th day after."""
    return day_after_end(held_on, days)


def notice_deadline(held_on: dt.date, *, days: int) -> dt.datetime:
    """The notice must be published before this moment: local midnight ``days - 1`` days before the meeting day."""
    return local_midnight(held_on - dt.timedelta(days=max(days, 1) - 1))


def _notice_days(policy, *, is_general: bool) -> int:
    if is_general:
        return max(policy.notice_days_before, policy.general_meeting_notice_days_before)
    return policy.notice_days_before


def _problem(*, held_at: dt.datetime, published_at: dt.datetime | None, is_general: bool, policy) -> str | None:
    if published_at is None:
        return _("未发布会议通知")
    days = _notice_days(policy, is_general=is_general)
    deadline = notice_deadline(local_date(held_at), days=days)
    if published_at < deadline:
        return None
    texts = {"published": date_label(published_at), "days": days, "last": deadline_text(deadline)}
    if is_general:
        return _("会议通知发布于 %(published)s，党员大会应至少提前 %(days)d 天（%(last)s 前）报党委并通知党员") % texts
    return _("会议通知发布于 %(published)s，应至少提前 %(days)d 天（%(last)s 前）通知党员") % texts


def notice_problem(meeting, *, policy) -> str | None:
    """Why the notice of a held meeting was missing or late (a warning in Chinese), or None when it was on time.

    Meetings not held (planned, notified, cancelled) have nothing to judge yet: None.
    Reads the meeting's types through the prefetch cache when present.
    """
    if meeting.status not in meeting.HELD_STATUSES:
        return None
    return _problem(
        held_at=meeting.actual_start or meeting.planned_start,
        published_at=meeting.notice_published_at,
        is_general=GENERAL_MEETING in meeting.type_codes(),
        policy=policy,
    )


def notice_problems(meetings: QuerySet, *, policy=None) -> dict[int, str]:
    """``notice_problem`` for every held meeting of ``meetings``, set-based: one query. {meeting id: problem}."""
    return {pk: problem for (pk,), problem in notice_problem_rows(meetings.order_by(), policy=policy)}


def notice_problem_rows(
    meetings: QuerySet, *, policy=None, values: tuple[str, ...] = ("pk",)
) -> list[tuple[tuple, str]]:
    """(the row's ``values``, problem) for every held meeting of ``meetings`` whose notice was missing or late.

    One query, in the queryset's order; ``values`` may follow a relation (a row per type with
    ``types__name``). Without ``policy`` the mine's ``MeetingPolicy`` (its defaults when none
    is stored) is read inside that same query, so a caller counting its queries (the scores) pays one.
    """
    model = meetings.model
    general = model.types.through.objects.filter(meeting=OuterRef("pk"), meetingtype__code=GENERAL_MEETING)
    fields = ("notice_days_before", "general_meeting_notice_days_before")
    settings = {}
    if policy is None:
        policy_model = model._meta.apps.get_model("meetings", "MeetingPolicy")
        stored = policy_model.objects.filter(pk=1)
        settings = {
            f"notice_{name}": Coalesce(
                Subquery(stored.values(name)[:1]), Value(policy_model._meta.get_field(name).default)
            )
            for name in fields
        }
    rows = (
        meetings.filter(status__in=model.HELD_STATUSES)
        .annotate(
            notice_held_at=Coalesce("actual_start", "planned_start"), notice_is_general=Exists(general), **settings
        )
        .values_list("notice_held_at", "notice_published_at", "notice_is_general", *settings, *values)
    )
    found = []
    for held_at, published_at, is_general, *rest in rows:
        days, row = rest[: len(settings)], tuple(rest[len(settings) :])
        row_policy = policy if policy is not None else SimpleNamespace(**dict(zip(fields, days, strict=True)))
        problem = _problem(held_at=held_at, published_at=published_at, is_general=is_general, policy=row_policy)
        if problem is not None:
            found.append((row, problem))
    return found
