"""Every meeting page for every role: who gets it, who is refused (403 or 404), and that a refusal changes nothing."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from bulletin.models import Announcement
from meetings import services
from meetings.models import Attendance, LeaveRequest, Meeting, Vote
from org.models import Post
from tests.conftest import client_for
from tests.factories import GroupFactory, MeetingFactory, member_with_login

ROLES = ["secretary", "member", "other_secretary", "supervisor", "anonymous"]

# page -> roles that get it (200); the other signed-in roles get 403 when they may see the meeting
# (the member and the supervisor) and 404 when they may not (the other branch's secretary).
EDIT_PAGES = [
    "meetings:meeting_edit",
    "meetings:meeting_minutes",
    "meetings:meeting_agenda",
    "meetings:meeting_attendance",
    "meetings:meeting_votes",
    "meetings:meeting_cancel",
]
ALLOWED = {
    "meetings:meeting_detail": {"secretary", "member", "supervisor"},
    **{page: {"secretary"} for page in EDIT_PAGES},
}
SEES_MEETING = {"secretary", "member", "supervisor"}


@pytest.fixture
def planned(branch, secretary, member):
    return MeetingFactory(branch=branch, types=["general_meeting"])


def expected_refusal(role):
    return 403 if role in SEES_MEETING else 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(ALLOWED))
def test_each_meeting_page_is_open_to_its_roles_and_refused_to_the_others(client, people, planned, page, role):
    url = reverse(page, args=[planned.pk])

    response = client_for(client, people[role]).get(url)

    if role == "anonymous":
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"
    elif role in ALLOWED[page]:
        assert response.status_code == 200
        assert planned.topic in response.content.decode()
    else:
        assert response.status_code == expected_refusal(role)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_list_shows_each_role_only_the_meetings_it_may_see(client, people, planned, other_branch, role):
    theirs = MeetingFactory(branch=other_branch, topic="掘进二队的会议")
    url = reverse("meetings:meeting_list")

    response = client_for(client, people[role]).get(url)

    if role == "anonymous":
        assert response.status_code == 302
        return
    html = response.content.decode()
    assert (planned.topic in html) == (role in SEES_MEETING)
    assert (theirs.topic in html) == (role in {"other_secretary", "supervisor"})


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [("member", 403), ("supervisor", 403), ("other_secretary", 404)])
def test_only_those_who_may_plan_in_a_branch_open_its_plan_form(client, people, branch, role, status):
    response = client_for(client, people[role]).get(reverse("meetings:meeting_create") + f"?branch={branch.pk}")
    assert response.status_code == status


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in_from_the_plan_form(client, branch):
    url = reverse("meetings:meeting_create") + f"?branch={branch.pk}"
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- Writes refused: each POST by a role that may not make it, and the meeting unchanged -------


def _held(meeting, secretary, member):
    now = timezone.now()
    services.meeting_publish_notice(meeting=meeting, user=secretary, now=now)
    start = now - dt.timedelta(hours=2)
    services.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=now,
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        place="党员活动室",
        chair=secretary.member,
        recorder=secretary.member,
    )
    meeting.refresh_from_db()
    return meeting


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def snapshot(meeting):
    meeting = Meeting.objects.get(pk=meeting.pk)
    return (
        meeting.status,
        meeting.topic,
        meeting.cancel_reason,
        meeting.actual_start,
        meeting.chair_id,
        meeting.submitted_at,
        sorted(meeting.attendances.values_list("member_id", "status")),
        list(meeting.agenda_items.values_list("title", flat=True)),
        list(meeting.votes.values_list("pk", flat=True)),
        sorted(LeaveRequest.objects.filter(meeting=meeting).values_list("pk", "status")),
        Announcement.objects.count(),
    )


def write_requests(meeting, secretary, member):
    """(name, url, data) of every write, made valid so that only the permission refuses it."""
    vote = Vote.objects.filter(meeting=meeting).first()
    leave = LeaveRequest.objects.filter(meeting=meeting).first()
    return [
        ("publish", reverse("meetings:meeting_publish", args=[meeting.pk]), {}),
        ("submit", reverse("meetings:meeting_submit", args=[meeting.pk]), {}),
        ("cancel", reverse("meetings:meeting_cancel", args=[meeting.pk]), {"reason": "改期"}),
        (
            "edit",
            reverse("meetings:meeting_edit", args=[meeting.pk]),
            {
                "types": [t.pk for t in meeting.types.all()],
                "topic": "改过的主题",
                "planned_start": _local(meeting.planned_start),
                "planned_end": _local(meeting.planned_end),
                "place": "别处",
            },
        ),
        (
            "minutes",
            reverse("meetings:meeting_minutes", args=[meeting.pk]),
            {
                "actual_start": _local(timezone.now() - dt.timedelta(hours=3)),
                "actual_end": _local(timezone.now() - dt.timedelta(hours=1)),
                "place": "别处",
                "chair": member.member.pk,
                "recorder": member.member.pk,
            },
        ),
        (
            "attendance",
            reverse("meetings:meeting_attendance", args=[meeting.pk]),
            {
                "member_ids": ",".join(str(i) for i in sorted(meeting.attendances.values_list("member_id", flat=True))),
                **{f"status_{a.member_id}": "absent" for a in meeting.attendances.all()},
            },
        ),
        (
            "agenda",
            reverse("meetings:meeting_agenda", args=[meeting.pk]),
            {
                "items-TOTAL_FORMS": "1",
                "items-INITIAL_FORMS": "0",
                "items-0-title": "别的议题",
                "speeches-TOTAL_FORMS": "0",
                "speeches-INITIAL_FORMS": "0",
            },
        ),
        (
            "vote",
            reverse("meetings:meeting_votes", args=[meeting.pk]),
            {"kind": "motion", "motion": "别的事项", "yes": 1, "no": 0, "abstain": 0, "form_token": "x"},
        ),
        ("vote delete", reverse("meetings:vote_delete", args=[meeting.pk, vote.pk]), {}),
        ("leave decide", reverse("meetings:leave_decide", args=[leave.pk]), {"decision": "approve"}),
    ]


@pytest.fixture
def full_meeting(branch, secretary, member):
    """A held meeting with attendance, a vote and a pending leave request of a third member."""
    meeting = MeetingFactory(branch=branch, types=["general_meeting"])
    absentee = member_with_login(branch=branch, username="absentee", name="缺席者")
    meeting = _held(meeting, secretary, member)
    now = timezone.now()
    services.attendance_record(
        meeting=meeting,
        user=secretary,
        now=now,
        entries={secretary.member.pk: "present", member.member.pk: "present", absentee.member.pk: ""},
    )
    # A leave request the member filed before the meeting, still pending.
    LeaveRequest.objects.create(meeting=meeting, member=absentee.member, reason="出差", created_at=now)
    services.attendance_record(meeting=meeting, user=secretary, now=now, entries={absentee.member.pk: "absent"})
    services.vote_record(
        meeting=meeting, kind="motion", motion="年度计划", yes=2, no=0, abstain=0, user=secretary, now=now
    )
    return meeting


WRITES = [
    "publish",
    "submit",
    "cancel",
    "edit",
    "minutes",
    "attendance",
    "agenda",
    "vote",
    "vote delete",
    "leave decide",
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["member", "other_secretary", "supervisor", "anonymous"])
@pytest.mark.parametrize("write", WRITES)
def test_a_write_by_a_role_that_may_not_make_it_is_refused_and_changes_nothing(
    client, people, full_meeting, secretary, member, write, role
):
    url, data = next((u, d) for name, u, d in write_requests(full_meeting, secretary, member) if name == write)
    before = snapshot(full_meeting)

    response = client_for(client, people[role]).post(url, data)

    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    else:
        assert response.status_code == expected_refusal(role)
    assert snapshot(full_meeting) == before


# --- Group leaders and recorders ----------------------------------------------------------


@pytest.fixture
def leader(branch, group):
    return member_with_login(branch=branch, group=group, username="leader", role=Post.Role.GROUP_LEADER, name="组长")


def _plan_data(**overrides):
    start = timezone.localtime(timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    data = {
        "topic": "学习安全规程",
        "planned_start": start.strftime("%Y-%m-%dT%H:%M"),
        "planned_end": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "place": "班组会议室",
    }
    data.update(overrides)
    return data


def _token(client, branch):
    response = client.get(reverse("meetings:meeting_create") + f"?branch={branch.pk}")
    return response.context["form"].initial["form_token"]


@pytest.mark.django_db
def test_a_group_leader_plans_a_meeting_of_their_own_group(client, branch, group, leader):
    from tests.factories import meeting_type

    c = client_for(client, leader)
    data = _plan_data(types=[meeting_type("group_meeting").pk], group=group.pk, form_token=_token(c, branch))

    response = c.post(reverse("meetings:meeting_create") + f"?branch={branch.pk}", data)

    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("meetings:meeting_detail", args=[meeting.pk])
    assert meeting.group == group
    assert meeting.type_codes() == {"group_meeting"}


@pytest.mark.django_db
def test_a_group_leader_cannot_plan_for_another_group_or_a_branch_meeting(client, branch, group, leader):
    from tests.factories import meeting_type

    other_group = GroupFactory(name="综采一队第二党小组", parent=branch)
    c = client_for(client, leader)
    url = reverse("meetings:meeting_create") + f"?branch={branch.pk}"

    r1 = c.post(
        url, _plan_data(types=[meeting_type("group_meeting").pk], group=other_group.pk, form_token=_token(c, branch))
    )
    r2 = c.post(
        url, _plan_data(types=[meeting_type("general_meeting").pk], group=group.pk, form_token=_token(c, branch))
    )

    assert r1.status_code == r2.status_code == 200
    assert "选择一个有效的选项" in r1.context["form"].errors["group"][0]
    assert "选择一个有效的选项" in r2.context["form"].errors["types"][0]
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_a_group_leader_manages_their_group_meeting_but_not_the_branch_meetings(client, branch, group, leader):
    own = MeetingFactory(branch=branch, group=group, types=["group_meeting"])
    branch_meeting = MeetingFactory(branch=branch, types=["general_meeting"])
    c = client_for(client, leader)

    assert c.get(reverse("meetings:meeting_edit", args=[own.pk])).status_code == 200
    assert c.get(reverse("meetings:meeting_edit", args=[branch_meeting.pk])).status_code == 403
    c.post(reverse("meetings:meeting_publish", args=[branch_meeting.pk]))
    c.post(reverse("meetings:meeting_publish", args=[own.pk]))

    branch_meeting.refresh_from_db()
    own.refresh_from_db()
    assert branch_meeting.status == Meeting.Status.PLANNED
    assert own.status == Meeting.Status.NOTIFIED


@pytest.mark.django_db
def test_the_recorder_may_enter_the_minutes_but_not_submit(client, branch, secretary, member):
    meeting = _held(MeetingFactory(branch=branch), secretary, member)
    Meeting.objects.filter(pk=meeting.pk).update(recorder=member.member)
    c = client_for(client, member)
    start = timezone.now() - dt.timedelta(hours=3)

    response = c.post(
        reverse("meetings:meeting_minutes", args=[meeting.pk]),
        {
            "actual_start": _local(start),
            "actual_end": _local(start + dt.timedelta(hours=1)),
            "place": "会议室二",
            "chair": secretary.member.pk,
            "recorder": member.member.pk,
            "resolutions": "通过年度计划。",
        },
    )

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.place == "会议室二"
    assert meeting.resolutions == "通过年度计划。"
    assert c.post(reverse("meetings:meeting_submit", args=[meeting.pk])).status_code == 403
    assert Attendance.objects.filter(meeting=meeting).exists()
