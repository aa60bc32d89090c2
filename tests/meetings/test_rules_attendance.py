"""Attendance rules at their boundaries: 应到 on the meeting date, leave, chair and recorder,
votes against the attendance they were taken with, the check-in window and page."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from meetings import checkin as checkin_service
from meetings import services
from meetings.models import Attendance, LeaveRequest, Meeting, MeetingPolicy
from org.models import Membership, Post
from tests.conftest import client_for
from tests.factories import GroupFactory, MeetingFactory, MemberFactory, MembershipFactory, member_with_login

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 3, 10, 15, 0, tzinfo=TZ)  # the meeting date is 10 March
NOTICE = dt.datetime(2026, 3, 5, 9, 0, tzinfo=TZ)
MEETING_DATE = START.date()


def notified_meeting(branch, user, **kwargs):
    kwargs.setdefault("types", ["general_meeting"])
    meeting = MeetingFactory(
        branch=branch, planned_start=START, planned_end=START + dt.timedelta(hours=1, minutes=30), **kwargs
    )
    return services.meeting_publish_notice(meeting=meeting, user=user, now=NOTICE)


def record_minutes(meeting, *, chair, recorder, user):
    return services.meeting_record_minutes(
        meeting=meeting,
        user=user,
        now=START + dt.timedelta(hours=3),
        actual_start=START,
        actual_end=START + dt.timedelta(hours=1),
        place="三楼党员活动室",
        chair=chair,
        recorder=recorder,
    )


def expected_ids(meeting):
    return set(meeting.attendances.values_list("member_id", flat=True))


def branch_member(branch, **kwargs):
    member = MemberFactory(**{k: v for k, v in kwargs.items() if k in ("name", "category", "full_member_on")})
    MembershipFactory(member=member, organization=branch, started_on=kwargs.get("started_on", dt.date(2020, 1, 1)))
    return member


# --- 应到 is the membership on the meeting date -------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ended_on", "still_expected"),
    [
        (dt.date(2026, 3, 6), False),  # transferred out the day after the notice
        (MEETING_DATE, False),  # on the meeting date (ended_on is exclusive)
        (MEETING_DATE + dt.timedelta(days=1), True),  # the day after the meeting
    ],
)
def test_a_member_transferred_out_after_the_notice_is_expected_only_if_still_a_member_on_the_meeting_date(
    branch, secretary, member, ended_on, still_expected
):
    leaver = branch_member(branch, name="转出的")
    meeting = notified_meeting(branch, secretary)
    assert leaver.pk in expected_ids(meeting)

    Membership.objects.filter(member=leaver).update(ended_on=ended_on)
    record_minutes(meeting, chair=secretary.member, recorder=member.member, user=secretary)

    assert (leaver.pk in expected_ids(meeting)) is still_expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("started_on", "expected"), [(MEETING_DATE, True), (MEETING_DATE + dt.timedelta(days=1), False)]
)
def test_a_member_transferred_in_after_the_notice_is_expected_from_the_transfer_date(
    branch, secretary, member, started_on, expected
):
    meeting = notified_meeting(branch, secretary)
    newcomer = branch_member(branch, name="转入的", started_on=started_on)
    assert newcomer.pk not in expected_ids(meeting)

    record_minutes(meeting, chair=secretary.member, recorder=member.member, user=secretary)

    assert (newcomer.pk in expected_ids(meeting)) is expected


@pytest.mark.django_db
def test_saving_attendance_and_submitting_re_derive_the_list(branch, secretary, member):
    meeting = notified_meeting(branch, secretary)
    record_minutes(meeting, chair=secretary.member, recorder=member.member, user=secretary)
    newcomer = branch_member(branch, name="转入的", started_on=MEETING_DATE)
    now = START + dt.timedelta(hours=3)

    services.attendance_record(
        meeting=meeting, entries={secretary.member.pk: "present", member.member.pk: "present"}, user=secretary, now=now
    )
    assert newcomer.pk in expected_ids(meeting)
    assert any("还有 1 人未登记" in p for p in services.submission_problems(meeting))

    # The transfer turns out to date from the day after: submitting counts without them.
    Membership.objects.filter(member=newcomer).update(started_on=MEETING_DATE + dt.timedelta(days=1))
    with pytest.raises(ValidationError) as excinfo:  # still blocked: no agenda yet
        services.meeting_submit(meeting=meeting, user=secretary, now=now)
    assert not any("未登记" in m for m in excinfo.value.messages)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("full_member_on", "can_vote"),
    [
        (MEETING_DATE - dt.timedelta(days=1), True),
        (MEETING_DATE, True),
        (MEETING_DATE + dt.timedelta(days=1), False),
    ],
)
def test_the_vote_right_follows_the_full_membership_date_against_the_meeting_date(
    branch, secretary, member, full_member_on, can_vote
):
    candidate = branch_member(branch, name="预备转正", category="probationary")
    meeting = notified_meeting(branch, secretary)
    row = meeting.attendances.get(member=candidate)
    assert row.is_probationary and not row.can_vote  # as it was on the day of the notice

    candidate.category = "full"
    candidate.full_member_on = full_member_on
    candidate.save()
    record_minutes(meeting, chair=secretary.member, recorder=member.member, user=secretary)

    row.refresh_from_db()
    assert row.can_vote is can_vote
    assert row.is_probationary is not can_vote


@pytest.mark.django_db
def test_re_deriving_keeps_what_was_recorded_for_those_still_expected(branch, secretary, member):
    meeting = notified_meeting(branch, secretary)
    record_minutes(meeting, chair=secretary.member, recorder=member.member, user=secretary)
    services.attendance_record(
        meeting=meeting,
        entries={secretary.member.pk: "present", member.member.pk: "late"},
        user=secretary,
        now=START + dt.timedelta(hours=3),
    )
    branch_member(branch, name="转入的", started_on=MEETING_DATE)

    services.meeting_sync_expected(meeting=meeting)

    assert meeting.attendances.get(member=member.member).status == Attendance.Status.LATE


# --- Leave ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_leave_may_be_asked_one_minute_before_the_start(branch, secretary, member):
    meeting = notified_meeting(branch, secretary)

    leave = services.leave_request(
        meeting=meeting, member=member.member, reason="井下当班", now=START - dt.timedelta(minutes=1)
    )

    assert leave.status == LeaveRequest.Status.PENDING


@pytest.mark.django_db
def test_leave_asked_at_the_start_is_refused(branch, secretary, member):
    meeting = notified_meeting(branch, secretary)

    with pytest.raises(ValidationError) as excinfo:
        services.leave_request(meeting=meeting, member=member.member, reason="井下当班", now=START)

    assert excinfo.value.messages == ["请假须在会议开始前提出；会议开始后未到会的记为缺席。"]
    assert not LeaveRequest.objects.exists()


@pytest.mark.django_db
def test_the_secretary_registers_leave_before_the_start_recorded_as_on_behalf(branch, secretary, member):
    meeting = notified_meeting(branch, secretary)
    at = START - dt.timedelta(minutes=1)

    leave = services.leave_register(meeting=meeting, member=member.member, reason="井下当班", user=secretary, now=at)

    assert leave.status == LeaveRequest.Status.APPROVED
    assert (leave.registered_by, leave.created_at, leave.decided_by) == (secretary, at, secretary)
    assert meeting.attendances.get(member=member.member).status == Attendance.Status.LEAVE


@pytest.mark.django_db
def test_registering_leave_at_the_start_is_refused(branch, secretary, member):
    meeting = notified_meeting(branch, secretary)

    with pytest.raises(ValidationError):
        services.leave_register(meeting=meeting, member=member.member, reason="井下当班", user=secretary, now=START)

    assert not LeaveRequest.objects.exists()


@pytest.mark.django_db
def test_the_register_page_after_the_start_refuses_and_says_why(client, branch, secretary, member):
    meeting = notified_meeting(branch, secretary)
    with time_machine.travel(START, tick=False):
        response = client_for(client, secretary).post(
            reverse("meetings:leave_register", args=[meeting.pk]), {"member": member.member.pk, "reason": "当班"}
        )
    assert response.status_code == 302
    assert not LeaveRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Post.Role.ORGANIZATION, Post.Role.DEPUTY_SECRETARY])
def test_a_committee_member_who_is_not_the_secretary_cannot_approve_leave(client, branch, secretary, member, role):
    committee = member_with_login(branch=branch, username="committee", role=role, name="委员")
    meeting = notified_meeting(branch, secretary)
    leave = services.leave_request(meeting=meeting, member=member.member, reason="出差", now=NOTICE)

    with pytest.raises(ValidationError):
        services.leave_decide(leave=leave, approve=True, user=committee, now=NOTICE)
    response = client_for(client, committee).post(
        reverse("meetings:leave_decide", args=[leave.pk]), {"decision": "approve"}
    )

    assert response.status_code == 403
    leave.refresh_from_db()
    assert leave.status == LeaveRequest.Status.PENDING


@pytest.mark.django_db
def test_the_secretary_approves_leave(branch, secretary, member):
    meeting = notified_meeting(branch, secretary)
    leave = services.leave_request(meeting=meeting, member=member.member, reason="出差", now=NOTICE)

    services.leave_decide(leave=leave, approve=True, user=secretary, now=NOTICE)

    assert meeting.attendances.get(member=member.member).status == Attendance.Status.LEAVE


@pytest.mark.django_db
def test_a_group_leader_approves_leave_for_a_group_meeting_of_the_own_group_only(branch, group, secretary, member):
    leader = member_with_login(branch=branch, group=group, username="leader", role=Post.Role.GROUP_LEADER)
    other_group = GroupFactory(name="第二党小组", parent=branch)
    other_leader = member_with_login(branch=branch, group=other_group, username="leader2", role=Post.Role.GROUP_LEADER)
    meeting = notified_meeting(branch, secretary, types=["group_meeting"], group=group)
    leave = services.leave_request(meeting=meeting, member=member.member, reason="出差", now=NOTICE)

    for refused in (other_leader, secretary):  # a 党小组会's leave is its 党小组长's to decide
        with pytest.raises(ValidationError):
            services.leave_decide(leave=leave, approve=True, user=refused, now=NOTICE)
    services.leave_decide(leave=leave, approve=True, user=leader, now=NOTICE)

    leave.refresh_from_db()
    assert (leave.status, leave.decided_by) == (LeaveRequest.Status.APPROVED, leader)


@pytest.mark.django_db
def test_leave_approved_but_asked_after_the_start_does_not_stand_in_attendance(branch, secretary, member):
    meeting = notified_meeting(branch, secretary)
    record_minutes(meeting, chair=secretary.member, recorder=secretary.member, user=secretary)
    LeaveRequest.objects.create(
        meeting=meeting, member=member.member, reason="补请", status=LeaveRequest.Status.APPROVED, created_at=START
    )

    with pytest.raises(ValidationError) as excinfo:
        services.attendance_record(
            meeting=meeting,
            entries={secretary.member.pk: "present", member.member.pk: "leave"},
            user=secretary,
            now=START + dt.timedelta(hours=3),
        )

    assert "李党员：没有会前获批的请假申请" in excinfo.value.messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Attendance.Status.LEAVE, Attendance.Status.ABSENT])
@pytest.mark.parametrize("officer", ["chair", "recorder"])
def test_the_chair_and_the_recorder_cannot_be_on_leave_or_absent(branch, secretary, member, status, officer):
    meeting = notified_meeting(branch, secretary)
    services.leave_register(
        meeting=meeting, member=member.member, reason="出差", user=secretary, now=START - dt.timedelta(hours=1)
    )
    people = {"chair": secretary.member, "recorder": secretary.member, officer: member.member}
    with pytest.raises(ValidationError) as minutes_error:  # the leave is already in the list
        record_minutes(meeting, chair=people["chair"], recorder=people["recorder"], user=secretary)
    record_minutes(meeting, chair=secretary.member, recorder=secretary.member, user=secretary)
    Meeting.objects.filter(pk=meeting.pk).update(**{f"{officer}_id": member.member.pk})

    with pytest.raises(ValidationError) as excinfo:
        services.attendance_record(
            meeting=meeting,
            entries={secretary.member.pk: "present", member.member.pk: status},
            user=secretary,
            now=START + dt.timedelta(hours=3),
        )

    label = {"chair": "主持人", "recorder": "记录人"}[officer]
    assert minutes_error.value.messages[0].startswith(f"{label}不能登记为请假")
    assert any(m.startswith(f"{label}不能登记为") for m in excinfo.value.messages)


# --- A vote stands on the attendance it was taken with ---------------------------------------


@pytest.mark.django_db
def test_a_vote_passed_with_six_of_ten_present_blocks_submission_once_attendance_says_five(branch, secretary, member):
    others = [branch_member(branch, name=f"党员{i}") for i in range(8)]
    meeting = notified_meeting(branch, secretary)
    record_minutes(meeting, chair=secretary.member, recorder=member.member, user=secretary)
    people = [secretary.member, member.member, *others]
    now = START + dt.timedelta(hours=3)
    present = {p.pk: "present" if i < 6 else "absent" for i, p in enumerate(people)}
    services.attendance_record(meeting=meeting, entries=present, user=secretary, now=now)
    vote = services.vote_record(
        meeting=meeting, kind="motion", motion="年度党建计划", yes=6, no=0, abstain=0, user=secretary, now=now
    )
    assert (vote.passed, vote.voting_present, vote.voting_expected) == (True, 6, 10)
    assert not any("年度党建计划" in p for p in services.submission_problems(meeting))

    services.attendance_record(meeting=meeting, entries={people[5].pk: "absent"}, user=secretary, now=now)
    with pytest.raises(ValidationError) as excinfo:
        services.meeting_submit(meeting=meeting, user=secretary, now=now)

    vote_problems = [m for m in excinfo.value.messages if "年度党建计划" in m]
    assert len(vote_problems) == 1
    assert "应到有表决权 10 人、实到 6 人" in vote_problems[0]
    assert "应到 10 人、实到 5 人" in vote_problems[0]
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD


@pytest.mark.django_db
def test_a_vote_whose_result_would_change_with_the_expected_list_blocks_submission(branch, secretary, member):
    others = [branch_member(branch, name=f"党员{i}") for i in range(8)]
    meeting = notified_meeting(branch, secretary)
    record_minutes(meeting, chair=secretary.member, recorder=member.member, user=secretary)
    people = [secretary.member, member.member, *others]
    now = START + dt.timedelta(hours=3)
    entries = {p.pk: "present" if i < 7 else "absent" for i, p in enumerate(people)}
    services.attendance_record(meeting=meeting, entries=entries, user=secretary, now=now)
    vote = services.vote_record(
        meeting=meeting, kind="motion", motion="年度党建计划", yes=6, no=1, abstain=0, user=secretary, now=now
    )
    assert vote.passed  # 6 yes of 10 expected

    # Two members transferred in on the meeting date: 6 yes of 12 expected is exactly half.
    newcomers = [branch_member(branch, name=f"转入{i}", started_on=MEETING_DATE) for i in range(2)]
    services.meeting_sync_expected(meeting=meeting)
    services.attendance_record(meeting=meeting, entries={n.pk: "absent" for n in newcomers}, user=secretary, now=now)

    problems = [p for p in services.submission_problems(meeting) if "年度党建计划" in p]
    assert len(problems) == 1 and "按现在的人数表决结果应为“未通过”" in problems[0]


# --- Check-in closes when the meeting ends; late after late_after_minutes ------------------------


@pytest.fixture
def policy(db):
    return MeetingPolicy.current()


def check_in(meeting, user, now, policy):
    return checkin_service.checkin_member(
        meeting=meeting,
        member=user.member,
        token=checkin_service.current_token(meeting, now=now, policy=policy),
        device="d" * 20,
        now=now,
        policy=policy,
    )


@pytest.mark.django_db
def test_check_in_one_minute_before_the_planned_end_is_taken(branch, secretary, member, policy):
    meeting = notified_meeting(branch, secretary)

    row = check_in(meeting, member, meeting.planned_end - dt.timedelta(minutes=1), policy)

    assert row.status == Attendance.Status.LATE


@pytest.mark.django_db
@pytest.mark.parametrize("after", [dt.timedelta(0), dt.timedelta(seconds=1)])
def test_check_in_at_or_after_the_end_is_refused(branch, secretary, member, policy, after):
    meeting = notified_meeting(branch, secretary)

    with pytest.raises(checkin_service.CheckinError) as excinfo:
        check_in(meeting, member, meeting.planned_end + after, policy)

    assert excinfo.value.code == "ended"


@pytest.mark.django_db
@pytest.mark.parametrize(("offset", "status"), [(dt.timedelta(0), "present"), (dt.timedelta(seconds=1), "late")])
def test_late_starts_just_after_late_after_minutes(branch, secretary, member, policy, offset, status):
    meeting = notified_meeting(branch, secretary)

    row = check_in(meeting, member, START + dt.timedelta(minutes=policy.late_after_minutes) + offset, policy)

    assert row.status == status


# --- The check-in page without a code ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "status"),
    [("member", 200), ("secretary", 200), ("other_secretary", 404), ("supervisor", 404)],
)
def test_the_check_in_page_without_a_code_is_refused_to_who_is_not_expected_and_does_not_manage(
    client, branch, people, name, status
):
    meeting = notified_meeting(branch, people["secretary"], types=["committee_meeting"])
    member = people["member"]
    if name == "member":  # a 支委会: make the member expected as a committee member
        Post.objects.create(
            member=member.member, organization=branch, role=Post.Role.ORGANIZATION, started_on=dt.date(2020, 1, 1)
        )
        services.meeting_sync_expected(meeting=meeting)

    with time_machine.travel(START - dt.timedelta(minutes=5), tick=False):
        response = client_for(client, people[name]).get(reverse("meetings:checkin", args=[meeting.pk]))

    assert response.status_code == status
    if status == 404:
        assert meeting.topic not in response.content.decode()


@pytest.mark.django_db
def test_a_member_of_the_branch_not_expected_at_a_committee_meeting_is_refused_without_a_code(
    client, branch, secretary, member
):
    meeting = notified_meeting(branch, secretary, types=["committee_meeting"])
    assert member.member.pk not in expected_ids(meeting)

    response = client_for(client, member).get(reverse("meetings:checkin", args=[meeting.pk]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_with_a_valid_code_anyone_signed_in_sees_the_page_and_is_told_they_are_not_expected(
    client, branch, secretary, other_secretary, policy
):
    meeting = notified_meeting(branch, secretary)
    now = START - dt.timedelta(minutes=5)

    with time_machine.travel(now, tick=False):
        response = client_for(client, other_secretary).get(
            checkin_service.checkin_path(meeting, now=now, policy=policy)
        )

    assert response.status_code == 200
    assert "您不是本次会议的应到人员" in response.content.decode()


# --- 全部出席 --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_all_present_marks_everyone_without_approved_leave_and_saves_nothing(client, branch, secretary, member, policy):
    shift = branch_member(branch, name="当班的")
    late = member_with_login(branch=branch, username="late", name="迟到的")
    meeting = notified_meeting(branch, secretary)
    services.leave_register(meeting=meeting, member=shift, reason="井下当班", user=secretary, now=NOTICE)
    check_in(meeting, late, START + dt.timedelta(minutes=30), policy)
    record_minutes(meeting, chair=secretary.member, recorder=member.member, user=secretary)
    c = client_for(client, secretary)
    ids = ",".join(str(i) for i in sorted(expected_ids(meeting)))
    shown = {f"status_{a.member_id}": a.status for a in meeting.attendances.all()}  # what the browser sends

    response = c.post(
        reverse("meetings:meeting_attendance", args=[meeting.pk]), {"member_ids": ids, **shown, "all_present": "1"}
    )

    form = response.context["form"]
    statuses = {r.member_id: form[f"status_{r.member_id}"].value() for r in form.rows}
    assert statuses == {
        secretary.member.pk: "present",
        member.member.pk: "present",
        shift.pk: "leave",
        late.member.pk: "late",
    }
    assert "已将 2 人标为出席" in next(str(m) for m in response.context["messages"])
    assert set(meeting.attendances.values_list("status", flat=True)) == {"", "leave", "late"}

    saved = c.post(
        reverse("meetings:meeting_attendance", args=[meeting.pk]),
        {"member_ids": ids, **{f"status_{pk}": v for pk, v in statuses.items()}},
    )
    assert saved.status_code == 302
    assert services.attendance_summary(meeting).adds_up
