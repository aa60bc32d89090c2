import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bulletin.models import Notification
from meetings import reminders, tasks
from meetings.models import Attendance, CadenceRule, Exemption, Meeting
from org.clock import period_bounds
from org.models import Post
from tests.factories import BranchFactory, GroupFactory, MeetingFactory, meeting_type, member_with_login

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


# Mid-month, mid-quarter: no period of the default rules is about to end.
QUIET_DAY = local(2026, 3, 10, 10, 0)


def inbox(key: str) -> list[Notification]:
    return list(
        Notification.objects.filter(dedupe_key=key, channel=Notification.Channel.INBOX).select_related("recipient")
    )


def inbox_users(key: str) -> set[str]:
    return {n.recipient.username for n in inbox(key)}


def notified_meeting(branch, *, start, attendees=(), types=("general_meeting",), **kwargs):
    meeting = MeetingFactory(
        branch=branch,
        types=list(types),
        planned_start=start,
        status=Meeting.Status.NOTIFIED,
        notice_published_at=start - dt.timedelta(days=3),
        **kwargs,
    )
    for user in attendees:
        Attendance.objects.create(meeting=meeting, member=user.member)
    return meeting


def held_meeting(branch, *, at, attendance=None, status=Meeting.Status.SUBMITTED, types=("general_meeting",), **kwargs):
    """A meeting held at ``at``; ``attendance`` maps a login to its status there."""
    meeting = MeetingFactory(
        branch=branch,
        types=list(types),
        planned_start=at,
        actual_start=at,
        actual_end=at + dt.timedelta(hours=1),
        counts_for=at.astimezone(SHANGHAI).date(),
        status=status,
        **kwargs,
    )
    for user, state in (attendance or {}).items():
        Attendance.objects.create(
            meeting=meeting,
            member=user.member,
            status=state,
            leave_reason="井下值班" if state == Attendance.Status.LEAVE else "",
        )
    return meeting


# --- The eve of a meeting ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_eve_reminder_reaches_every_expected_attendee_once_when_the_task_runs_twice(branch, secretary, member):
    now = QUIET_DAY
    meeting = notified_meeting(branch, start=now + dt.timedelta(hours=20), attendees=[secretary, member])

    assert reminders.send_due_reminders(now=now)["eve"] == 1
    assert reminders.send_due_reminders(now=now + dt.timedelta(minutes=15))["eve"] == 0

    assert inbox_users(f"meeting:{meeting.pk}:eve") == {"secretary", "member"}
    # inbox and e-mail, once each, for each of the two
    assert Notification.objects.filter(dedupe_key=f"meeting:{meeting.pk}:eve").count() == 4
    assert "三楼党员活动室" in inbox(f"meeting:{meeting.pk}:eve")[0].body


@pytest.mark.django_db
def test_the_eve_reminder_is_sent_only_for_meetings_starting_within_the_next_day(branch, secretary, member):
    now = QUIET_DAY
    in_three_days = notified_meeting(branch, start=now + dt.timedelta(days=3), attendees=[member])
    started = notified_meeting(branch, start=now - dt.timedelta(hours=1), attendees=[member])
    only_planned = MeetingFactory(branch=branch, planned_start=now + dt.timedelta(hours=5))
    Attendance.objects.create(meeting=only_planned, member=member.member)

    assert reminders.send_eve_reminders(now=now) == 0
    assert not Notification.objects.filter(dedupe_key__endswith=":eve").exists()

    two_days_later = now + dt.timedelta(days=2, hours=1)
    assert reminders.send_eve_reminders(now=two_days_later) == 1
    assert inbox_users(f"meeting:{in_three_days.pk}:eve") == {"member"}
    assert not inbox(f"meeting:{started.pk}:eve")


@pytest.mark.django_db
def test_the_eve_reminder_skips_members_on_leave_and_a_notice_that_was_itself_the_day_before(branch, secretary, member):
    now = QUIET_DAY
    meeting = notified_meeting(branch, start=now + dt.timedelta(hours=10), attendees=[secretary])
    Attendance.objects.create(meeting=meeting, member=member.member, status="leave", leave_reason="探亲")
    late_notice = notified_meeting(branch, start=now + dt.timedelta(hours=12), attendees=[secretary, member])
    Meeting.objects.filter(pk=late_notice.pk).update(notice_published_at=now - dt.timedelta(hours=1))

    reminders.send_eve_reminders(now=now)

    assert inbox_users(f"meeting:{meeting.pk}:eve") == {"secretary"}
    assert not inbox(f"meeting:{late_notice.pk}:eve")


# --- A period ending ---------------------------------------------------------------------


@pytest.fixture
def committee_rule(db):
    """The only active rule: a 支委会 each month, per branch."""
    CadenceRule.objects.update(is_active=False)
    rule = CadenceRule.objects.create(name="支部委员会每月至少1次", period="month", scope="branch", min_count=1)
    rule.types.set([meeting_type("committee_meeting")])
    return rule


@pytest.fixture
def group_rule(db):
    CadenceRule.objects.update(is_active=False)
    rule = CadenceRule.objects.create(name="党小组会每月至少1次", period="month", scope="group", min_count=1)
    rule.types.set([meeting_type("group_meeting")])
    return rule


def period_key(rule, branch, start, days, group=None):
    return f"period:{rule.pk}:{branch.pk}:{group.pk if group else 0}:{start}:{days}"


MARCH = dt.date(2026, 3, 1)


@pytest.mark.django_db
def test_a_period_ending_reminds_the_secretary_at_seven_and_at_two_days_once_each(
    committee_rule, branch, secretary, member
):
    assert reminders.send_period_end_reminders(now=local(2026, 3, 23, 9)) == 0  # 8 days left

    for day in (24, 24, 26, 29, 29, 30):  # 7 days left, again, 5, 2, again, 1
        reminders.send_due_reminders(now=local(2026, 3, day, 9))

    seven = inbox(period_key(committee_rule, branch, MARCH, 7))
    two = inbox(period_key(committee_rule, branch, MARCH, 2))
    assert [n.recipient.username for n in seven] == ["secretary"]
    assert [n.recipient.username for n in two] == ["secretary"]
    assert seven[0].created_at == local(2026, 3, 24, 9)
    assert two[0].created_at == local(2026, 3, 29, 9)
    assert "综采一队党支部本月支部委员会尚未召开" in seven[0].subject
    assert "还有 7 天" in seven[0].body
    assert Notification.objects.filter(dedupe_key__startswith="period:", channel="inbox").count() == 2


@pytest.mark.django_db
def test_a_missed_beat_still_sends_the_reminder_late_but_never_two_at_once(committee_rule, branch, secretary):
    reminders.send_period_end_reminders(now=local(2026, 3, 27, 9))  # 4 days left: the 7-day one, late
    reminders.send_period_end_reminders(now=local(2026, 3, 31, 9))  # last day: the 2-day one only

    assert inbox_users(period_key(committee_rule, branch, MARCH, 7)) == {"secretary"}
    assert inbox_users(period_key(committee_rule, branch, MARCH, 2)) == {"secretary"}

    other = BranchFactory(name="机电队党支部")
    member_with_login(branch=other, username="jd_secretary", role=Post.Role.SECRETARY)
    reminders.send_period_end_reminders(now=local(2026, 4, 29, 9))  # first seen at 2 days left
    april = dt.date(2026, 4, 1)
    assert inbox_users(period_key(committee_rule, other, april, 2)) == {"jd_secretary"}
    assert not inbox(period_key(committee_rule, other, april, 7))


@pytest.mark.django_db
def test_no_period_reminder_when_a_meeting_is_held_or_planned_in_the_period(committee_rule, branch, secretary):
    held_branch = BranchFactory(name="通风队党支部")
    member_with_login(branch=held_branch, username="held_secretary", role=Post.Role.SECRETARY)
    held_meeting(held_branch, at=local(2026, 3, 5, 14), types=["committee_meeting"])
    planned_branch = BranchFactory(name="运输队党支部")
    member_with_login(branch=planned_branch, username="planned_secretary", role=Post.Role.SECRETARY)
    MeetingFactory(branch=planned_branch, types=["committee_meeting"], planned_start=local(2026, 3, 28, 14))
    # Neither next month's meeting, nor a cancelled one, nor another type counts for March.
    MeetingFactory(branch=branch, types=["committee_meeting"], planned_start=local(2026, 4, 2, 14))
    MeetingFactory(
        branch=branch,
        types=["committee_meeting"],
        planned_start=local(2026, 3, 27, 14),
        status=Meeting.Status.CANCELLED,
        cancel_reason="停电",
    )
    held_meeting(branch, at=local(2026, 3, 6, 14), types=["general_meeting"])

    reminders.send_period_end_reminders(now=local(2026, 3, 24, 9))

    assert Notification.objects.filter(dedupe_key__startswith="period:", channel="inbox").count() == 1
    assert inbox_users(period_key(committee_rule, branch, MARCH, 7)) == {"secretary"}


@pytest.mark.django_db
def test_a_combined_meeting_counts_for_each_of_its_types(committee_rule, branch, secretary):
    held_meeting(branch, at=local(2026, 3, 5, 14), types=["general_meeting", "committee_meeting"])

    assert reminders.send_period_end_reminders(now=local(2026, 3, 24, 9)) == 0


@pytest.mark.django_db
def test_no_period_reminder_for_a_branch_with_an_exemption(committee_rule, branch, secretary, supervisor):
    Exemption.objects.create(
        branch=branch,
        rule=committee_rule,
        period_start=MARCH,
        reason="支部新组建",
        approved_by=supervisor,
        approved_at=local(2026, 3, 2, 9),
    )

    assert reminders.send_period_end_reminders(now=local(2026, 3, 24, 9)) == 0
    # The exemption is for March only.
    assert reminders.send_period_end_reminders(now=local(2026, 4, 24, 9)) == 1


@pytest.mark.django_db
def test_a_group_scope_rule_reminds_the_branch_secretary_of_each_group_short_of_meetings(
    group_rule, branch, group, secretary
):
    second = GroupFactory(name="综采一队第二党小组", parent=branch)
    held_meeting(branch, group=group, at=local(2026, 3, 12, 19), types=["group_meeting"])

    reminders.send_due_reminders(now=local(2026, 3, 24, 9))
    reminders.send_due_reminders(now=local(2026, 3, 24, 9, 15))

    assert not inbox(period_key(group_rule, branch, MARCH, 7, group=group))
    [sent] = inbox(period_key(group_rule, branch, MARCH, 7, group=second))
    assert sent.recipient.username == "secretary"
    assert "综采一队第二党小组" in sent.subject
    assert Notification.objects.filter(dedupe_key__startswith="period:", channel="inbox").count() == 1


@pytest.mark.django_db
def test_a_quarterly_rule_counts_the_quarter_in_local_time(branch, secretary):
    CadenceRule.objects.update(is_active=False)
    rule = CadenceRule.objects.create(name="党员大会每季度", period="quarter", scope="branch")
    rule.types.set([meeting_type("general_meeting")])
    # 2026-01-01 00:30 in Shanghai is still 2025 in UTC: it belongs to Q1.
    held_meeting(branch, at=local(2026, 1, 1, 0, 30), types=["general_meeting"])

    assert period_bounds("quarter", dt.date(2026, 2, 14)) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert period_bounds("half_year", dt.date(2026, 8, 1)) == (dt.date(2026, 7, 1), dt.date(2026, 12, 31))
    assert reminders.send_period_end_reminders(now=local(2026, 3, 24, 9)) == 0
    assert reminders.send_period_end_reminders(now=local(2026, 6, 24, 9)) == 1


# --- Minutes overdue ---------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_minutes_flag_the_meeting_once_and_tell_the_secretary_once(branch, secretary, member):
    now = QUIET_DAY  # 10 March: a meeting of 6 March was due by the end of 9 March
    meeting = held_meeting(branch, at=local(2026, 3, 6, 15), status=Meeting.Status.HELD)

    assert reminders.send_due_reminders(now=now)["minutes_overdue"] == 1
    assert reminders.send_due_reminders(now=now + dt.timedelta(minutes=15))["minutes_overdue"] == 0

    meeting.refresh_from_db()
    assert meeting.minutes_overdue_at == now
    [sent] = inbox(f"meeting:{meeting.pk}:minutes-overdue")
    assert sent.recipient.username == "secretary"
    assert "会议记录尚未提交" in sent.body


@pytest.mark.django_db
def test_minutes_are_not_overdue_before_three_days_nor_once_submitted(branch, secretary):
    # Calendar days: held on 7 March, the record is due by the end of 10 March (11 March 00:00).
    now = QUIET_DAY
    recent = held_meeting(branch, at=local(2026, 3, 7, 9), status=Meeting.Status.HELD)
    submitted = held_meeting(branch, at=now - dt.timedelta(days=10), status=Meeting.Status.SUBMITTED)

    assert reminders.flag_overdue_minutes(now=local(2026, 3, 10, 23, 59, 59)) == 0
    assert not Meeting.objects.filter(minutes_overdue_at__isnull=False).exists()

    later = local(2026, 3, 11, 0, 0)
    assert reminders.flag_overdue_minutes(now=later) == 1
    recent.refresh_from_db()
    submitted.refresh_from_db()
    assert recent.minutes_overdue_at == later
    assert submitted.minutes_overdue_at is None
    assert not inbox(f"meeting:{submitted.pk}:minutes-overdue")


@pytest.mark.django_db
def test_a_notified_meeting_with_no_minutes_three_days_after_its_planned_end_is_overdue(branch, secretary):
    now = QUIET_DAY
    meeting = notified_meeting(branch, start=now - dt.timedelta(days=4))

    assert reminders.flag_overdue_minutes(now=now) == 1
    assert inbox_users(f"meeting:{meeting.pk}:minutes-overdue") == {"secretary"}


@pytest.mark.django_db
def test_a_meeting_another_sweep_flagged_first_is_not_notified_again(branch, secretary, monkeypatch):
    now = QUIET_DAY
    meeting = held_meeting(branch, at=now - dt.timedelta(days=5), status=Meeting.Status.HELD)
    real_filter = reminders.Meeting.objects.filter

    def filter_after_a_rival_sweep(*args, **kwargs):
        # The rival flags the meeting between this sweep's read and its update.
        if kwargs.get("pk") == meeting.pk:
            Meeting.objects.all().update(minutes_overdue_at=now - dt.timedelta(minutes=1))
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(reminders.Meeting.objects, "filter", filter_after_a_rival_sweep)
    assert reminders.flag_overdue_minutes(now=now) == 0
    assert not inbox(f"meeting:{meeting.pk}:minutes-overdue")


# --- Long absence ------------------------------------------------------------------------


def absent_at(branch, days_ago, *, absentee, present, now=QUIET_DAY):
    return held_meeting(
        branch,
        at=now - dt.timedelta(days=days_ago),
        attendance={absentee: Attendance.Status.ABSENT, present: Attendance.Status.PRESENT},
    )


@pytest.mark.django_db
def test_two_months_absent_without_leave_warns_the_secretary_only(branch, secretary, member, supervisor):
    absent_at(branch, 50, absentee=member, present=secretary)
    absent_at(branch, 20, absentee=member, present=secretary)

    assert reminders.send_due_reminders(now=QUIET_DAY)["absence"] == 1
    assert reminders.send_due_reminders(now=QUIET_DAY + dt.timedelta(hours=1))["absence"] == 0

    key = f"absence:{member.member.pk}:2m:2026-03"
    [sent] = inbox(key)
    assert sent.recipient.username == "secretary"
    assert "李党员" in sent.subject
    assert Notification.objects.filter(dedupe_key__startswith="absence:", channel="inbox").count() == 1


@pytest.mark.django_db
def test_six_months_absent_without_leave_goes_to_the_secretary_and_every_supervisor(
    branch, secretary, member, supervisor
):
    from org.models import StaffRole
    from tests.factories import staff_user

    discipline = staff_user(username="discipline", role=StaffRole.Role.DISCIPLINE_DEPT)
    staff_user(username="committee_member", role=StaffRole.Role.COMMITTEE)
    for days_ago in (170, 130, 100, 70, 40, 10):
        absent_at(branch, days_ago, absentee=member, present=secretary)

    reminders.send_due_reminders(now=QUIET_DAY)
    reminders.send_due_reminders(now=QUIET_DAY + dt.timedelta(hours=1))

    key = f"absence:{member.member.pk}:6m:2026-03"
    assert inbox_users(key) == {"secretary", supervisor.username, discipline.username}
    assert not inbox(f"absence:{member.member.pk}:2m:2026-03")
    assert "自行脱党" in inbox(key)[0].body

    # A month later, still absent: one more notice, for April.
    absent_at(branch, -20, absentee=member, present=secretary)
    reminders.send_due_reminders(now=QUIET_DAY + dt.timedelta(days=31))
    assert inbox_users(f"absence:{member.member.pk}:6m:2026-04") == {"secretary", "supervisor", "discipline"}


@pytest.mark.django_db
def test_a_member_who_attended_one_meeting_or_asked_for_leave_in_the_window_gets_nothing(branch, secretary, member):
    on_leave = member_with_login(branch=branch, username="on_leave")
    for days_ago in (50, 20):
        held_meeting(
            branch,
            at=QUIET_DAY - dt.timedelta(days=days_ago),
            attendance={member: Attendance.Status.ABSENT, on_leave: Attendance.Status.ABSENT},
        )
    held_meeting(
        branch,
        at=QUIET_DAY - dt.timedelta(days=35),
        attendance={member: Attendance.Status.LATE, on_leave: Attendance.Status.LEAVE},
    )

    assert reminders.send_absence_reminders(now=QUIET_DAY) == 0
    assert not Notification.objects.filter(dedupe_key__startswith="absence:").exists()


@pytest.mark.django_db
def test_a_member_who_missed_only_last_weeks_meeting_has_not_been_absent_for_two_months(branch, secretary, member):
    absent_at(branch, 10, absentee=member, present=secretary)

    assert reminders.absent_members(now=QUIET_DAY, warning_months=2, escalation_months=6) == (set(), set())


# --- Query count -------------------------------------------------------------------------

# Two days before the end of March and of Q1: every monthly and quarterly default rule is due.
MONTH_END = local(2026, 3, 29, 10)


def add_branch(i, *, now, busy):
    """A branch with what every sweep reads; a busy one also has something due for each sweep."""
    branch = BranchFactory(name=f"测试支部{i}")
    group = GroupFactory(name=f"测试党小组{i}", parent=branch)
    secretary = member_with_login(branch=branch, group=group, username=f"sec{i}", role=Post.Role.SECRETARY)
    member = member_with_login(branch=branch, group=group, username=f"mem{i}")
    everyone = {secretary: Attendance.Status.PRESENT, member: Attendance.Status.PRESENT}
    notified_meeting(branch, start=now + dt.timedelta(days=4), attendees=[secretary, member])
    held_meeting(branch, at=now - dt.timedelta(days=200), attendance=everyone)
    if not busy:
        held_meeting(
            branch,
            at=now - dt.timedelta(days=6),
            attendance=everyone,
            types=["general_meeting", "committee_meeting", "party_lesson", "theme_day"],
        )
        held_meeting(branch, group=group, at=now - dt.timedelta(days=7), attendance=everyone, types=["group_meeting"])
        return
    notified_meeting(branch, start=now + dt.timedelta(hours=18), attendees=[secretary, member])
    held_meeting(branch, at=now - dt.timedelta(days=5), status=Meeting.Status.HELD)
    for days_ago in (170, 100, 40, 12):
        absent_at(branch, days_ago, absentee=member, present=secretary, now=now)


def queries_of_a_run(now) -> int:
    with CaptureQueriesContext(connection) as ctx:
        reminders.send_due_reminders(now=now)
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_a_sweep_with_nothing_new_to_send_costs_the_same_for_two_and_for_ten_branches(supervisor):
    for i in range(2):
        add_branch(i, now=MONTH_END, busy=True)
    first = reminders.send_due_reminders(now=MONTH_END)
    assert first["eve"] == first["minutes_overdue"] == first["absence"] == 2
    assert first["period_end"] > 2
    two_branches = queries_of_a_run(MONTH_END)

    for i in range(2, 10):
        add_branch(i, now=MONTH_END, busy=True)
    reminders.send_due_reminders(now=MONTH_END)
    ten_branches = queries_of_a_run(MONTH_END)

    assert two_branches == ten_branches
    assert Notification.objects.filter(dedupe_key__endswith=":eve", channel="inbox").count() == 20
    assert Notification.objects.filter(dedupe_key__endswith=":minutes-overdue", channel="inbox").count() == 10


@pytest.mark.django_db
def test_a_sweep_reads_the_same_number_of_queries_however_many_quiet_branches_there_are(supervisor):
    add_branch(0, now=MONTH_END, busy=True)
    add_branch(1, now=MONTH_END, busy=False)
    two_branches = queries_of_a_run(MONTH_END)
    sent_by_two = Notification.objects.count()

    # Back to before the run, then eight more branches with nothing due.
    Notification.objects.all().delete()
    Meeting.objects.update(minutes_overdue_at=None)
    for i in range(2, 10):
        add_branch(i, now=MONTH_END, busy=False)
    ten_branches = queries_of_a_run(MONTH_END)

    assert Notification.objects.count() == sent_by_two
    assert two_branches == ten_branches


@pytest.mark.django_db
def test_the_beat_task_runs_the_sweep_with_the_clock(branch, secretary, member):
    meeting = notified_meeting(branch, start=QUIET_DAY + dt.timedelta(hours=20), attendees=[member])

    with time_machine.travel(QUIET_DAY, tick=False):
        counts = tasks.send_due_reminders()

    assert counts == {"eve": 1, "period_end": 0, "minutes_overdue": 0, "absence": 0}
    [sent] = inbox(f"meeting:{meeting.pk}:eve")
    assert sent.created_at == QUIET_DAY
