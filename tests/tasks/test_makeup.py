"""补学: one task per member on leave or absent from a meeting whose type asks for it, created when the
record is submitted, once; done after reading the record and a long enough reflection; never attendance."""

import datetime as dt

import pytest
from django.urls import reverse

from assessment.models import BranchScore, Deduction, ItemScore, MemberScore
from assessment.participation import rate_between
from assessment.services import run_compute, run_create
from meetings import services
from meetings.compliance import compliance
from meetings.models import Attendance, Meeting
from supervision.services.review import review_return
from tasks.follow import makeup_report_problems, reflection_length
from tasks.models import MakeupRule, MakeupSkip, MakeupStudy, Task

from ..conftest import client_for
from ..factories import MeetingFactory, MemberFactory, MembershipFactory, approved_leave, member_with_login
from .follow_helpers import NOW, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def absentee(branch, group):
    return member_with_login(branch=branch, group=group, username="absentee", name="孙缺席")


@pytest.fixture
def latecomer(branch, group):
    return member_with_login(branch=branch, group=group, username="latecomer", name="周迟到")


def general_meeting(branch, member, *, types=("general_meeting",)):
    meeting = MeetingFactory(branch=branch, types=list(types), planned_start=NOW - dt.timedelta(hours=3))
    approved_leave(meeting, member.member)
    return meeting


def submitted(branch, secretary, member, absentee, latecomer=None, **kwargs):
    meeting = general_meeting(branch, member, **kwargs)
    statuses = {member.member.pk: "leave", absentee.member.pk: "absent"}
    if latecomer is not None:
        statuses[latecomer.member.pk] = "late"
    meeting = record(meeting, secretary, statuses=statuses)
    services.meeting_submit(meeting=meeting, user=secretary, now=NOW)
    return meeting


def makeup_owners(meeting):
    return sorted(Task.objects.filter(meeting=meeting, source=Task.Source.MAKEUP).values_list("owner__name", flat=True))


def test_a_member_on_leave_and_one_absent_each_get_one_makeup_task(branch, secretary, member, absentee, latecomer):
    meeting = submitted(branch, secretary, member, absentee, latecomer)

    assert makeup_owners(meeting) == ["孙缺席", "李党员"]  # not the secretary (present) nor the latecomer
    task = Task.objects.get(meeting=meeting, owner=member.member)
    assert task.title == f"补学：{meeting.topic}"
    assert task.due_text == "2026年3月24日 24:00"  # 14 days from the submission on 10 March
    assert "补学不改变当次会议的出席记录" in task.description
    assert task.makeup.min_reflection_chars == 100
    assert task.makeup.minutes_opened_at is None


def test_returning_and_resubmitting_makes_no_second_makeup_task(branch, secretary, member, absentee, supervisor):
    meeting = submitted(branch, secretary, member, absentee)
    review_return(meeting=meeting, comment="请补充照片。", user=supervisor, now=NOW)
    services.meeting_submit(meeting=meeting, user=secretary, now=NOW + dt.timedelta(hours=1))

    assert makeup_owners(meeting) == ["孙缺席", "李党员"]
    assert MakeupStudy.objects.filter(task__meeting=meeting).count() == 2


def test_no_makeup_when_the_types_rule_is_off(branch, secretary, member, absentee):
    MakeupRule.objects.filter(meeting_type__code="general_meeting").update(is_enabled=False)
    meeting = submitted(branch, secretary, member, absentee)
    assert makeup_owners(meeting) == []


def test_the_shipped_rules_are_on_for_the_general_meeting_lesson_and_theme_day_only():
    on = sorted(MakeupRule.objects.filter(is_enabled=True).values_list("meeting_type__code", flat=True))
    assert on == ["general_meeting", "party_lesson", "theme_day"]
    assert set(MakeupRule.objects.values_list("due_days", "min_reflection_chars")) == {(14, 100)}


def test_a_combined_meeting_takes_the_strictest_enabled_rule(branch, secretary, member, absentee):
    MakeupRule.objects.filter(meeting_type__code="theme_day").update(due_days=7, min_reflection_chars=150)
    meeting = submitted(branch, secretary, member, absentee, types=("general_meeting", "theme_day"))
    task = Task.objects.get(meeting=meeting, owner=member.member)
    assert (task.due_text, task.makeup.min_reflection_chars) == ("2026年3月17日 24:00", 150)


def test_a_member_without_an_account_gets_no_task_and_the_reason_is_kept(branch, secretary, member, absentee):
    offline = MemberFactory(name="井下老张", user=None)
    MembershipFactory(member=offline, organization=branch)
    meeting = general_meeting(branch, member)
    meeting = record(
        meeting, secretary, statuses={member.member.pk: "leave", absentee.member.pk: "absent", offline.pk: "absent"}
    )
    services.meeting_submit(meeting=meeting, user=secretary, now=NOW)

    assert makeup_owners(meeting) == ["孙缺席", "李党员"]
    skip = MakeupSkip.objects.get(meeting=meeting)
    assert (skip.member, skip.reason) == (offline, "井下老张还没有登录账号，不能作为责任人。")


def test_opening_the_record_is_kept_once_for_the_member_who_missed_it(client, branch, secretary, member, absentee):
    meeting = submitted(branch, secretary, member, absentee)
    url = reverse("meetings:meeting_detail", args=[meeting.pk])

    client_for(client, secretary).get(url)  # someone else reading it is not the member's reading
    assert MakeupStudy.objects.filter(minutes_opened_at__isnull=False).count() == 0
    client_for(client, member).get(url)
    study = MakeupStudy.objects.get(task__owner=member.member)
    first = study.minutes_opened_at
    assert first is not None
    client.get(url)
    study.refresh_from_db()
    assert study.minutes_opened_at == first
    assert MakeupStudy.objects.get(task__owner=absentee.member).minutes_opened_at is None


def test_the_reflection_rule_at_its_boundary(branch, secretary, member, absentee):
    meeting = submitted(branch, secretary, member, absentee)
    task = Task.objects.get(meeting=meeting, owner=member.member)
    ninety_nine = "学" * 90 + " \n" + "习" * 9
    hundred = ninety_nine + "悟"
    assert (reflection_length(ninety_nine), reflection_length(hundred)) == (99, 100)

    assert makeup_report_problems(task, hundred, ()) == ["请先打开并阅读本次会议的会议记录，再提交补学心得。"]
    MakeupStudy.objects.filter(task=task).update(minutes_opened_at=NOW + dt.timedelta(hours=1))
    assert makeup_report_problems(task, ninety_nine, ()) == ["学习心得至少 100 字（不计空格和换行），现在 99 字。"]
    assert makeup_report_problems(task, hundred, ()) == []


def _figures(branch, meeting, *, now, user):
    """Everything counted of the meeting and the quarter: attendance rows, compliance, participation, scores."""
    run = run_compute(run=run_create(kind="quarter", period_start=dt.date(2026, 1, 1), user=user, now=now), now=now)
    result = compliance(branches=[branch], start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31), now=now)
    figures = {
        "attendance": sorted(Attendance.objects.filter(meeting=meeting).values_list("member_id", "status")),
        "summary": services.attendance_summary(Meeting.objects.get(pk=meeting.pk)),
        "rate": rate_between(start=dt.date(2026, 1, 1), end=dt.date(2026, 4, 1), branch_id=branch.pk),
        "compliance": repr(result),
        "branch": sorted(BranchScore.objects.filter(run=run).values_list("branch_id", "total", "grade")),
        "items": sorted(ItemScore.objects.filter(branch_score__run=run).values_list("item_id", "points")),
        "deductions": sorted(
            Deduction.objects.filter(item_score__branch_score__run=run).values_list("points", "reason")
        ),
        "members": sorted(
            MemberScore.objects.filter(run=run).values_list("member_id", "attended", "on_leave", "absent", "points")
        ),
    }
    run.delete()
    return figures


def test_a_completed_makeup_changes_no_attendance_compliance_or_assessment_figure(
    branch, secretary, member, absentee, supervisor
):
    meeting = submitted(branch, secretary, member, absentee)
    later = NOW + dt.timedelta(days=2)
    before = _figures(branch, meeting, now=later, user=supervisor)

    for task in Task.objects.filter(meeting=meeting, source=Task.Source.MAKEUP):
        MakeupStudy.objects.filter(task=task).update(minutes_opened_at=later)
        Task.objects.filter(pk=task.pk).update(
            status=Task.Status.DONE, submitted_at=later, completed_at=later, completed_by=secretary
        )
    after = _figures(branch, meeting, now=later, user=supervisor)

    assert before["branch"] and before["members"] and before["items"]  # there are figures to compare
    assert after == before
    assert ("leave" in {s for _, s in after["attendance"]}) and ("absent" in {s for _, s in after["attendance"]})


def test_the_meeting_page_tells_the_secretary_who_got_no_makeup_task(client, branch, secretary, member, absentee):
    offline = MemberFactory(name="井下老张", user=None)
    MembershipFactory(member=offline, organization=branch)
    meeting = record(
        general_meeting(branch, member),
        secretary,
        statuses={member.member.pk: "leave", absentee.member.pk: "absent", offline.pk: "absent"},
    )
    services.meeting_submit(meeting=meeting, user=secretary, now=NOW)
    url = reverse("meetings:meeting_detail", args=[meeting.pk])

    page = client_for(client, secretary).get(url).content.decode()
    assert "井下老张：井下老张还没有登录账号，不能作为责任人。" in page
    assert "makeup-skips" not in client_for(client, member).get(url).content.decode()


def test_a_makeup_is_reported_on_its_page_returned_by_the_secretary_and_confirmed(
    client, branch, secretary, member, absentee
):
    from tasks.services import task_accept, task_return

    meeting = submitted(branch, secretary, member, absentee)
    task = Task.objects.get(meeting=meeting, owner=member.member)
    c = client_for(client, member)
    report_url = reverse("tasks:report", args=[task.pk])
    reflection = "学习了本次党员大会传达的安全生产会议精神，" * 10  # 200 characters

    # Not read yet: refused on the report page, in Chinese, nothing stored.
    response = c.post(report_url, {"text": reflection, "token": "a"})
    assert "请先打开并阅读本次会议的会议记录，再提交补学心得。" in response.content.decode()
    assert Task.objects.get(pk=task.pk).status == Task.Status.TODO

    c.get(reverse("meetings:meeting_detail", args=[meeting.pk]))
    response = c.post(report_url, {"text": "学" * 99, "token": "b"})
    assert "学习心得至少 100 字（不计空格和换行），现在 99 字。" in response.content.decode()
    c.post(report_url, {"text": reflection, "token": "c"})
    assert Task.objects.get(pk=task.pk).status == Task.Status.SUBMITTED

    task_return(task=task, user=secretary, reason="请结合本岗位写体会。", now=NOW + dt.timedelta(days=1))
    c.post(report_url, {"text": reflection + "结合采煤一线岗位，做到安全第一。", "token": "d"})
    task_accept(task=task, user=secretary, now=NOW + dt.timedelta(days=2))

    task.refresh_from_db()
    assert (task.status, task.return_count, task.completed_by) == (Task.Status.DONE, 1, secretary)
    # Still on leave in the record: 补学 never turns an absence into attendance.
    assert Attendance.objects.get(meeting=meeting, member=member.member).status == Attendance.Status.LEAVE
    page = client_for(client, member).get(reverse("assessment:my_participation")).content.decode()
    assert "补学" in page and "按期完成" in page
