"""Less typing for the secretary (issue 16): the plan's agenda becomes the minutes' items, speakers
are chosen from those present, chair and recorder come preselected from the posts."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import selectors, services
from org.models import Post
from tests.conftest import client_for
from tests.factories import GroupFactory, MeetingFactory, MemberFactory, MembershipFactory, PostFactory, approved_leave


def past_meeting(branch, **kwargs):
    start = timezone.now() - dt.timedelta(hours=3)
    return MeetingFactory(branch=branch, planned_start=start, planned_end=start + dt.timedelta(hours=1), **kwargs)


# --- The plan's agenda ---------------------------------------------------------------------------


def test_numbered_agenda_lines_become_item_titles():
    agenda = "一、传达上级文件精神\n\n2. 讨论本月安全隐患\n（3）研究发展党员工作\n- 其他事项\n第五项：总结"

    assert selectors.planned_agenda_titles(agenda) == [
        "传达上级文件精神",
        "讨论本月安全隐患",
        "研究发展党员工作",
        "其他事项",
        "总结",
    ]


@pytest.mark.django_db
def test_the_agenda_page_prefills_the_items_from_the_plan_when_the_minutes_have_none(client, branch, secretary):
    meeting = past_meeting(branch, agenda="一、学习安全生产责任制\n二、排查本班组隐患")

    response = client_for(client, secretary).get(reverse("meetings:meeting_agenda", args=[meeting.pk]))

    titles = [f.initial.get("title") for f in response.context["items_fs"].forms if f.initial]
    assert titles == ["学习安全生产责任制", "排查本班组隐患"]
    assert "已按会议计划的议程预填议题" in response.content.decode()


@pytest.mark.django_db
def test_the_agenda_page_shows_the_saved_items_not_the_plan_once_there_are_some(client, branch, secretary):
    meeting = past_meeting(branch, agenda="一、学习安全生产责任制\n二、排查本班组隐患")
    services.meeting_save_agenda(
        meeting=meeting, items=[services.AgendaItemData(title="实际讨论的议题")], user=secretary, now=timezone.now()
    )

    response = client_for(client, secretary).get(reverse("meetings:meeting_agenda", args=[meeting.pk]))

    titles = [f.initial.get("title") for f in response.context["items_fs"].forms if f.initial]
    assert titles == ["实际讨论的议题"]
    assert "已按会议计划的议程预填议题" not in response.content.decode()


# --- Speakers from those present -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_speaker_select_lists_only_members_recorded_present(client, branch, secretary, member):
    late = MemberFactory(name="迟到党员")
    away = MemberFactory(name="请假党员")
    for m in (late, away):
        MembershipFactory(member=m, organization=branch)
    meeting = past_meeting(branch)
    services.meeting_sync_expected(meeting=meeting)
    approved_leave(meeting, away)
    services.attendance_record(
        meeting=meeting,
        user=secretary,
        now=timezone.now(),
        entries={
            secretary.member.pk: "present",
            late.pk: "late",
            away.pk: "leave",
            member.member.pk: "absent",
        },
    )

    response = client_for(client, secretary).get(reverse("meetings:meeting_agenda", args=[meeting.pk]))

    choices = [label for value, label in response.context["speeches_fs"].forms[0].fields["speaker"].choices if value]
    assert choices == sorted(["王书记", "迟到党员"])


@pytest.mark.django_db
def test_a_speaker_not_in_the_list_is_refused_on_save(client, branch, secretary, member):
    meeting = past_meeting(branch)
    services.meeting_sync_expected(meeting=meeting)
    services.attendance_record(
        meeting=meeting,
        user=secretary,
        now=timezone.now(),
        entries={secretary.member.pk: "present", member.member.pk: "absent"},
    )
    data = {
        "items-TOTAL_FORMS": 1,
        "items-INITIAL_FORMS": 0,
        "items-0-title": "学习文件",
        "speeches-TOTAL_FORMS": 1,
        "speeches-INITIAL_FORMS": 0,
        "speeches-0-item": 1,
        "speeches-0-speaker": member.member.pk,
        "speeches-0-points": "我没来但发了言",
    }

    response = client_for(client, secretary).post(reverse("meetings:meeting_agenda", args=[meeting.pk]), data)

    assert response.status_code == 200
    assert response.context["speeches_fs"].forms[0].errors["speaker"]
    assert not meeting.agenda_items.exists()


@pytest.mark.django_db
def test_before_attendance_is_recorded_the_expected_list_stands_in_and_the_page_says_so(
    client, branch, secretary, member
):
    meeting = past_meeting(branch)
    services.meeting_sync_expected(meeting=meeting)

    response = client_for(client, secretary).get(reverse("meetings:meeting_agenda", args=[meeting.pk]))

    choices = [label for value, label in response.context["speeches_fs"].forms[0].fields["speaker"].choices if value]
    assert choices == sorted(["王书记", "李党员"])
    assert "尚未登记出席情况，发言人暂按应到名单列出" in response.content.decode()


# --- Chair and recorder from the posts -----------------------------------------------------------


@pytest.fixture
def organization_member(branch, group):
    m = MemberFactory(name="组织委员")
    MembershipFactory(member=m, organization=branch)
    PostFactory(member=m, organization=branch, role=Post.Role.ORGANIZATION)
    return m


def initial_people(client, user, meeting):
    form = client_for(client, user).get(reverse("meetings:meeting_minutes", args=[meeting.pk])).context["form"]
    return form.initial["chair"], form.initial["recorder"]


@pytest.mark.django_db
def test_a_branch_meeting_is_chaired_by_the_secretary_and_recorded_by_the_organisation_member(
    client, branch, secretary, organization_member
):
    meeting = past_meeting(branch, types=["committee_meeting"])

    assert initial_people(client, secretary, meeting) == (secretary.member, organization_member)


@pytest.mark.django_db
def test_a_group_meeting_is_chaired_by_its_group_leader(client, branch, group, secretary):
    leader = MemberFactory(name="组长")
    MembershipFactory(member=leader, organization=branch)
    MembershipFactory(member=leader, organization=group)
    PostFactory(member=leader, organization=group, role=Post.Role.GROUP_LEADER)
    other_group = GroupFactory(parent=branch)
    PostFactory(member=MemberFactory(), organization=other_group, role=Post.Role.GROUP_LEADER)
    meeting = past_meeting(branch, types=["group_meeting"], group=group)

    assert initial_people(client, secretary, meeting)[0] == leader


@pytest.mark.django_db
def test_a_party_lesson_is_chaired_by_its_lecturer(client, branch, secretary, member, organization_member):
    meeting = past_meeting(branch, types=["party_lesson"], lecturer=member.member, lesson_title="党史一课")

    assert initial_people(client, secretary, meeting) == (member.member, organization_member)


@pytest.mark.django_db
def test_chair_and_recorder_already_entered_are_kept(client, branch, secretary, member, organization_member):
    meeting = past_meeting(branch, types=["committee_meeting"])
    now = timezone.now()
    services.meeting_record_minutes(
        meeting=meeting,
        user=secretary,
        now=now,
        actual_start=now - dt.timedelta(hours=2),
        actual_end=now - dt.timedelta(hours=1),
        place="活动室",
        chair=member.member,
        recorder=secretary.member,
    )

    assert initial_people(client, secretary, meeting) == (member.member, secretary.member)
