"""A meeting is noticed before it is held: members at least the day before, a 党员大会 3 days ahead."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from meetings.deadlines import notice_deadline, notice_problem, notice_problems
from meetings.models import Meeting, MeetingPolicy
from tests.conftest import client_for
from tests.factories import BranchFactory, MeetingFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def held(start, notice, types=("committee_meeting",), status=Meeting.Status.HELD, branch=None):
    return MeetingFactory(
        branch=branch or BranchFactory(),
        types=list(types),
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        actual_start=start if status in Meeting.HELD_STATUSES else None,
        actual_end=start + dt.timedelta(hours=1) if status in Meeting.HELD_STATUSES else None,
        notice_published_at=notice,
        status=status,
    )


def problem(meeting):
    meeting = Meeting.objects.prefetch_related("types").get(pk=meeting.pk)
    return notice_problem(meeting, policy=MeetingPolicy.current())


def test_a_notice_at_23_59_the_day_before_is_on_time_and_one_at_00_00_the_same_day_is_late():
    on_time = held(local(2026, 3, 10, 9), local(2026, 3, 9, 23, 59))
    late = held(local(2026, 3, 10, 9), local(2026, 3, 10, 0, 0))

    assert problem(on_time) is None
    assert problem(late) == "会议通知发布于 2026年3月10日，应至少提前 1 天（2026年3月9日 24:00 前）通知党员"


def test_a_meeting_without_a_notice_gets_a_warning_once_held_and_not_before():
    assert problem(held(local(2026, 3, 10, 9), None)) == "未发布会议通知"
    assert problem(held(local(2026, 3, 10, 9), None, status=Meeting.Status.PLANNED)) is None


def test_a_general_meeting_is_reported_three_days_ahead():
    start = local(2026, 3, 10, 9)
    assert notice_deadline(dt.date(2026, 3, 10), days=3) == local(2026, 3, 8, 0, 0)
    assert problem(held(start, local(2026, 3, 7, 23, 59), types=["general_meeting"])) is None
    late = held(start, local(2026, 3, 8, 0, 0), types=["general_meeting", "party_lesson"])
    assert problem(late) == (
        "会议通知发布于 2026年3月8日，党员大会应至少提前 3 天（2026年3月7日 24:00 前）报党委并通知党员"
    )
    # the same notice time is in time for a meeting that is not a 党员大会
    assert problem(held(start, local(2026, 3, 8, 0, 0), types=["party_lesson"])) is None


def test_the_days_are_configurable():
    MeetingPolicy.objects.filter(pk=MeetingPolicy.current().pk).update(
        notice_days_before=2, general_meeting_notice_days_before=5
    )
    start = local(2026, 3, 10, 9)
    assert problem(held(start, local(2026, 3, 8, 23, 59))) is None
    assert problem(held(start, local(2026, 3, 9, 0, 0))) is not None
    assert problem(held(start, local(2026, 3, 5, 23, 59), types=["general_meeting"])) is None
    assert problem(held(start, local(2026, 3, 6, 0, 0), types=["general_meeting"])) is not None


def test_the_set_based_helper_says_the_same_as_the_predicate_in_one_query(django_assert_num_queries):
    branch = BranchFactory()
    start = local(2026, 3, 10, 9)
    meetings = [
        held(start, local(2026, 3, 9, 23, 59), branch=branch),
        held(start, local(2026, 3, 10, 0, 0), branch=branch),
        held(start, None, branch=branch),
        held(start, local(2026, 3, 8), types=["general_meeting"], branch=branch),
        held(start, None, status=Meeting.Status.PLANNED, branch=branch),
    ]
    policy = MeetingPolicy.current()
    with django_assert_num_queries(1):
        found = notice_problems(Meeting.objects.filter(branch=branch), policy=policy)
    expected = {m.pk: problem(m) for m in meetings if problem(m)}
    assert found == expected
    assert len(found) == 3


def test_the_review_queue_shows_the_notice_warning(client, supervisor, branch):
    late = held(local(2026, 5, 6, 9), local(2026, 5, 6, 8), branch=branch, status=Meeting.Status.SUBMITTED)
    fine = held(local(2026, 5, 7, 9), local(2026, 5, 1, 8), branch=branch, status=Meeting.Status.SUBMITTED)
    Meeting.objects.filter(pk__in=[late.pk, fine.pk]).update(submitted_at=local(2026, 5, 8))

    html = client_for(client, supervisor).get(reverse("supervision:review_queue")).content.decode()

    rows = {pk: html.split(f'data-meeting="{pk}"')[1].split("</tr>")[0] for pk in (late.pk, fine.pk)}
    assert "应至少提前 1 天（2026年5月5日 24:00 前）通知党员" in rows[late.pk]
    assert "notice-problem" not in rows[fine.pk]
