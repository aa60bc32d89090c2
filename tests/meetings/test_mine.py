import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from meetings.models import Attendance, LeaveRequest, Meeting
from tests.conftest import client_for
from tests.factories import MeetingFactory

# session, user, the rows, unread inbox count, two permission look-ups (the navbar), the member
PLAIN_PAGE_QUERIES = 7
TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 5, 20, 9, 0, tzinfo=TZ)


def past_meeting(branch, members_status, *, start, topic, status=Meeting.Status.APPROVED):
    """A held meeting with the given {user: attendance status}."""
    cancel_reason = "停电检修" if status == Meeting.Status.CANCELLED else ""
    meeting = MeetingFactory(
        branch=branch, topic=topic, planned_start=start, status=status, cancel_reason=cancel_reason
    )
    if status != Meeting.Status.CANCELLED:
        Meeting.objects.filter(pk=meeting.pk).update(actual_start=start, actual_end=start + dt.timedelta(hours=1))
    for user, st in members_status.items():
        Attendance.objects.create(
            meeting=meeting, member=user.member, status=st, leave_reason="出差" if st == "leave" else ""
        )
    return meeting


@pytest.fixture
def history(branch, secretary, member):
    """Three months of meetings: I attended, was late, took leave, was absent; the secretary's rows differ."""
    past_meeting(
        branch,
        {member: "present", secretary: "absent"},
        start=dt.datetime(2026, 3, 5, 15, tzinfo=TZ),
        topic="三月支部党员大会",
    )
    past_meeting(
        branch,
        {member: "late", secretary: "present"},
        start=dt.datetime(2026, 3, 20, 15, tzinfo=TZ),
        topic="三月主题党日",
    )
    past_meeting(
        branch, {member: "leave", secretary: "present"}, start=dt.datetime(2026, 4, 8, 15, tzinfo=TZ), topic="四月党课"
    )
    past_meeting(
        branch,
        {member: "absent", secretary: "present"},
        start=dt.datetime(2026, 5, 6, 15, tzinfo=TZ),
        topic="五月支委扩大会",
    )
    past_meeting(branch, {member: "present"}, start=dt.datetime(2025, 12, 6, 15, tzinfo=TZ), topic="去年组织生活会")
    past_meeting(
        branch,
        {member: ""},
        start=dt.datetime(2026, 5, 1, 15, tzinfo=TZ),
        topic="取消的会",
        status=Meeting.Status.CANCELLED,
    )


@pytest.fixture
def upcoming(branch, secretary, member):
    meeting = MeetingFactory(
        branch=branch, topic="六月主题党日", status=Meeting.Status.NOTIFIED, planned_start=NOW + dt.timedelta(days=3)
    )
    for user in (member, secretary):
        Attendance.objects.create(meeting=meeting, member=user.member)
    return meeting


# --- My meetings -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_meetings_lists_upcoming_with_a_leave_link_and_past_with_my_status(client, history, upcoming, member):
    with time_machine.travel(NOW, tick=False):
        response = client_for(client, member).get(reverse("meetings:my_meetings"))
    assert response.status_code == 200
    page = response.text
    upcoming_html = page.split('id="upcoming"')[1].split('id="past"')[0]
    assert "六月主题党日" in upcoming_html
    assert reverse("meetings:leave_create", args=[upcoming.pk]) in upcoming_html
    past_html = page.split('id="past"')[1]
    assert "五月支委扩大会" in past_html and "无故缺席" in past_html
    assert "取消的会" in past_html and "会议已取消" in past_html


@pytest.mark.django_db
def test_my_meetings_offers_check_in_while_the_window_is_open(client, upcoming, member):
    with time_machine.travel(upcoming.planned_start - dt.timedelta(minutes=10), tick=False):
        response = client_for(client, member).get(reverse("meetings:my_meetings"))
    assert reverse("meetings:checkin", args=[upcoming.pk]) in response.text
    assert reverse("meetings:leave_create", args=[upcoming.pk]) in response.text


@pytest.mark.django_db
def test_my_meetings_shows_a_pending_leave_instead_of_the_leave_link(client, upcoming, member):
    LeaveRequest.objects.create(meeting=upcoming, member=member.member, reason="井下当班", created_at=NOW)
    with time_machine.travel(NOW, tick=False):
        response = client_for(client, member).get(reverse("meetings:my_meetings"))
    assert "请假待审批" in response.text
    assert reverse("meetings:leave_create", args=[upcoming.pk]) not in response.text


@pytest.mark.django_db
def test_my_meetings_shows_nothing_of_other_members_or_branches(client, other_branch, other_secretary, member):
    past_meeting(
        other_branch, {other_secretary: "absent"}, start=dt.datetime(2026, 4, 1, 15, tzinfo=TZ), topic="别人的会"
    )
    with time_machine.travel(NOW, tick=False):
        response = client_for(client, member).get(reverse("meetings:my_meetings"))
    assert "别人的会" not in response.text
    assert "近期没有需要您参加的会议" in response.text


# --- My attendance ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_attendance_counts_each_month_and_the_year(client, history, upcoming, member):
    with time_machine.travel(NOW, tick=False):
        response = client_for(client, member).get(reverse("meetings:my_attendance"))
    assert response.status_code == 200
    months = {t.label: t for t in response.context["months"]}
    assert list(months) == ["3月", "4月", "5月"]
    assert (months["3月"].expected, months["3月"].attended, months["3月"].late) == (2, 2, 1)
    assert (months["4月"].leave, months["5月"].absent) == (1, 1)
    total = response.context["year_totals"]
    assert (total.expected, total.attended, total.leave, total.absent) == (4, 2, 1, 1)
    assert total.rate == 50.0
    assert (
        '<tr class="fw-bold" id="year-totals"><td>2026年合计</td><td>4</td><td>2</td><td>1</td><td>1</td><td>1</td>'
        in response.text
    )
    assert "50%" in response.text
    rows_html = response.text.split('id="attendance-rows"')[1]
    # The upcoming meeting has not begun, the cancelled one did not happen, last year is another page.
    for absent_topic in ("六月主题党日", "取消的会", "去年组织生活会"):
        assert absent_topic not in rows_html
    assert "请假（出差）" in rows_html


@pytest.mark.django_db
def test_my_attendance_of_another_year(client, history, member):
    with time_machine.travel(NOW, tick=False):
        response = client_for(client, member).get(reverse("meetings:my_attendance"), {"year": 2025})
    assert "去年组织生活会" in response.text
    assert response.context["year_totals"].attended == 1


@pytest.mark.django_db
def test_my_attendance_does_not_count_another_members_absence(client, history, secretary):
    with time_machine.travel(NOW, tick=False):
        response = client_for(client, secretary).get(reverse("meetings:my_attendance"))
    total = response.context["year_totals"]
    # The secretary was absent once (March) and present three times; the member's absences are not theirs.
    assert (total.expected, total.attended, total.absent, total.leave) == (4, 3, 1, 0)


@pytest.mark.django_db
def test_a_meeting_not_yet_recorded_is_not_counted_against_me(client, branch, member):
    past_meeting(branch, {member: ""}, start=dt.datetime(2026, 5, 19, 15, tzinfo=TZ), topic="昨天的会", status="held")
    with time_machine.travel(NOW, tick=False):
        response = client_for(client, member).get(reverse("meetings:my_attendance"))
    total = response.context["year_totals"]
    assert (total.expected, total.unrecorded, total.rate) == (1, 1, None)
    assert "未登记" in response.text


# --- My leave ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_leave_lists_my_requests_with_their_status(client, upcoming, member, secretary, other_secretary):
    LeaveRequest.objects.create(
        meeting=upcoming,
        member=member.member,
        reason="井下当班",
        created_at=NOW,
        status=LeaveRequest.Status.APPROVED,
        decided_by=secretary,
        decided_at=NOW,
        decision_note="同意",
    )
    LeaveRequest.objects.create(meeting=upcoming, member=secretary.member, reason="书记自己的事", created_at=NOW)
    with time_machine.travel(NOW, tick=False):
        response = client_for(client, member).get(reverse("meetings:my_leave"))
    assert response.status_code == 200
    assert "井下当班" in response.text and "已批准" in response.text and "王书记" in response.text
    assert "书记自己的事" not in response.text


# --- Everyone else -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["meetings:my_meetings", "meetings:my_attendance", "meetings:my_leave"])
def test_a_login_without_a_member_record_sees_an_explanation(client, supervisor, name):
    response = client_for(client, supervisor).get(reverse(name))
    assert response.status_code == 200
    assert "没有关联党员档案" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["meetings:my_meetings", "meetings:my_attendance", "meetings:my_leave"])
def test_my_pages_ask_anonymous_visitors_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["meetings:my_meetings", "meetings:my_attendance", "meetings:my_leave"])
def test_my_pages_make_the_same_queries_for_one_or_many_rows(client, branch, member, name, django_assert_num_queries):
    def add(i):
        start = dt.datetime(2026, 1, 5, 15, tzinfo=TZ) + dt.timedelta(days=7 * i)
        meeting = past_meeting(branch, {member: "present"}, start=start, topic=f"会议{i}")
        LeaveRequest.objects.create(
            meeting=meeting, member=member.member, reason="事由", created_at=start, decided_by=member, decided_at=start
        )

    add(0)
    client_for(client, member)
    with time_machine.travel(NOW, tick=False):
        with CaptureQueriesContext(connection) as one:
            client.get(reverse(name))
        for i in range(1, 10):
            add(i)
        with django_assert_num_queries(len(one)):
            response = client.get(reverse(name))
    assert response.status_code == 200


@pytest.mark.django_db
def test_the_plain_signed_in_page_reads_the_scope_once_a_minute_and_never_writes_the_session(client, member, settings):
    settings.SCOPE_CACHE_SECONDS = 60
    # 我的请假, the page the load runner interleaves: before org.sessions and the scope cache it
    # made 11 SELECTs and an UPDATE of the session on every request.
    client_for(client, member)
    with time_machine.travel(NOW, tick=False):
        client.get(reverse("meetings:my_leave"))  # warms the scope cache and touches the session
        with CaptureQueriesContext(connection) as warm:
            response = client.get(reverse("meetings:my_leave"))
    assert response.status_code == 200
    statements = [q["sql"] for q in warm.captured_queries]
    assert not [sql for sql in statements if not sql.startswith("SELECT")], statements
    assert not [sql for sql in statements if "org_staffrole" in sql or "org_post" in sql], statements
    assert len(statements) == PLAIN_PAGE_QUERIES, "\n".join(statements)


@pytest.mark.django_db
def test_a_new_post_is_seen_on_the_next_page_despite_the_scope_cache(client, branch, member, settings):
    from org.models import Post
    from org.scope import get_scope

    settings.SCOPE_CACHE_SECONDS = 60
    client_for(client, member)
    client.get(reverse("meetings:my_leave"))
    fresh = type(member).objects.get  # a new user object each request, as the middleware loads it
    assert branch.pk not in get_scope(fresh(pk=member.pk)).secretary_branch_ids

    Post.objects.create(
        member=member.member, organization=branch, role=Post.Role.SECRETARY, started_on=dt.date(2020, 1, 1)
    )

    assert branch.pk in get_scope(fresh(pk=member.pk)).secretary_branch_ids
