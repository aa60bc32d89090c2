"""The meeting list and detail pages make a fixed number of queries, however many rows they show."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import LeaveRequest
from tests.conftest import client_for
from tests.factories import MeetingFactory, member_with_login

# Every page: session read and save, user, scope (4), inbox badge, the navbar's member name and
# permission checks of base.html (2), about 10. The list adds the type choices, page and the
# page's types (no count: the list has no total, org/paging.py; the supervisor's branch filter
# is a search box, no choices to load); the detail adds the meeting, types, theme tags, attendances, agenda items,
# speeches, votes, leave requests, the committee of the summary (detail and checklist) and
# the devices that checked in several members, and (on a complete record) whether it has its photo.
LIST_QUERIES = 13
SUPERVISOR_LIST_QUERIES = 9
DETAIL_QUERIES = 22


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
def test_the_meeting_list_makes_the_same_queries_for_1_or_30_meetings(
    client, branch, group, secretary, django_assert_num_queries, count
):
    for i in range(count):
        MeetingFactory(branch=branch, group=group if i % 2 else None, types=["general_meeting", "theme_day"])
    c = client_for(client, secretary)

    with django_assert_num_queries(LIST_QUERIES):
        response = c.get(reverse("meetings:meeting_list"))

    assert response.content.decode().count('class="list-group-item list-group-item-action meeting-row"') == min(
        count, 20
    )


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
def test_the_meeting_list_of_a_supervisor_makes_the_same_queries_for_1_or_30_meetings(
    client, branch, other_branch, supervisor, django_assert_num_queries, count
):
    for i in range(count):
        MeetingFactory(branch=branch if i % 2 else other_branch)
    c = client_for(client, supervisor)

    # No member behind the login (fewer scope queries); the branch filter is a search box.
    with django_assert_num_queries(SUPERVISOR_LIST_QUERIES):
        c.get(reverse("meetings:meeting_list"), {"status": "planned"})


def held_meeting_with(branch, secretary, extra_members: int):
    others = [
        member_with_login(branch=branch, username=f"m{i}", name=f"党员{i:02d}").member for i in range(extra_members)
    ]
    meeting = MeetingFactory(branch=branch, types=["general_meeting"])
    now = timezone.now()
    services.meeting_publish_notice(meeting=meeting, user=secretary, now=now)
    for m in others[:2]:
        leave = LeaveRequest.objects.create(meeting=meeting, member=m, reason="出差", created_at=now)
        services.leave_decide(leave=leave, approve=False, user=secretary, now=now)
    start = now - dt.timedelta(hours=2)
    services.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=now,
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        place="活动室",
        chair=secretary.member,
        recorder=secretary.member,
        resolutions="通过。",
    )
    entries = {a.member_id: "present" for a in meeting.attendances.all()}
    services.attendance_record(meeting=meeting, entries=entries, user=secretary, now=now)
    speakers = [secretary.member, *others]
    services.meeting_save_agenda(
        meeting=meeting,
        user=secretary,
        now=now,
        items=[
            services.AgendaItemData(
                title=f"议题{n}", speeches=[services.SpeechData(speaker=s, points="同意。") for s in speakers]
            )
            for n in range(2)
        ],
    )
    services.vote_record(
        meeting=meeting, kind="motion", motion="计划", yes=len(entries), no=0, abstain=0, user=secretary, now=now
    )
    return meeting


@pytest.mark.django_db
@pytest.mark.parametrize("extra_members", [1, 25])
def test_the_meeting_detail_makes_the_same_queries_for_few_or_many_attendees(
    client, branch, secretary, member, django_assert_num_queries, extra_members
):
    meeting = held_meeting_with(branch, secretary, extra_members)
    c = client_for(client, secretary)

    with django_assert_num_queries(DETAIL_QUERIES):
        response = c.get(reverse("meetings:meeting_detail", args=[meeting.pk]))

    html = response.content.decode()
    assert f'data-count="expected">{extra_members + 2}<' in html
    assert html.count("同意。") == 2 * (extra_members + 1)
