"""Six consecutive months: months in which a member was expected at a required meeting and attended none."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bulletin.models import Notification
from meetings import reminders
from meetings.models import Attendance, CadenceRule, Meeting
from tests.factories import MeetingFactory, member_with_login

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 7, 10, 10, 0, tzinfo=SHANGHAI)  # June is the last complete month
ABSENT, PRESENT, LEAVE = Attendance.Status.ABSENT, Attendance.Status.PRESENT, Attendance.Status.LEAVE


def at(year, month, day=15, hour=15, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def meeting_with(branch, start, rows, types=("theme_day",)):
    meeting = MeetingFactory(
        branch=branch,
        types=list(types),
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        actual_start=start,
        actual_end=start + dt.timedelta(hours=1),
        status=Meeting.Status.APPROVED,
        counts_for=start.date(),
    )
    for user, status in rows.items():
        Attendance.objects.create(
            meeting=meeting, member=user.member, status=status, leave_reason="井下值班" if status == LEAVE else ""
        )
    return meeting


def absent_in(branch, user, months, *, year=2026):
    for month in months:
        meeting_with(branch, at(year, month), {user: ABSENT})


def streaks():
    return reminders.absence_streaks(now=NOW, lookback_months=12)


def test_six_complete_months_absent_are_six_and_five_are_five(branch, member, secretary):
    absent_in(branch, member, [1, 2, 3, 4, 5, 6])
    five = member_with_login(branch=branch, username="five")
    absent_in(branch, five, [2, 3, 4, 5, 6])

    assert streaks()[member.member.pk] == 6
    assert streaks()[five.member.pk] == 5
    warning, escalation = reminders.absent_members(now=NOW, warning_months=2, escalation_months=6)
    assert member.member.pk in escalation and member.member.pk not in warning
    assert five.member.pk in warning and five.member.pk not in escalation


def test_a_member_who_joined_three_months_ago_is_not_reported_under_the_six_month_rule(branch, secretary):
    newcomer = member_with_login(branch=branch, username="newcomer")
    absent_in(branch, newcomer, [4, 5, 6])  # rows exist only since joining in April

    warning, escalation = reminders.absent_members(now=NOW, warning_months=2, escalation_months=6)

    assert newcomer.member.pk not in escalation
    assert newcomer.member.pk in warning, "three months absent is still worth the 2-month warning"


def test_a_month_with_approved_leave_ends_the_run(branch, member):
    absent_in(branch, member, [1, 2, 4, 5, 6])
    meeting_with(branch, at(2026, 3), {member: LEAVE})

    assert streaks()[member.member.pk] == 3


def test_attending_one_meeting_of_a_month_ends_the_run_even_if_absent_from_another(branch, member):
    absent_in(branch, member, [1, 2, 3, 4, 5, 6])
    meeting_with(branch, at(2026, 3, 20), {member: PRESENT})

    assert streaks()[member.member.pk] == 3


def test_a_month_without_any_meeting_neither_counts_nor_breaks(branch, member):
    absent_in(branch, member, [12], year=2025)
    absent_in(branch, member, [1, 2, 4, 5, 6])  # the branch held nothing in March

    assert streaks()[member.member.pk] == 6


def test_attending_this_month_clears_the_run_at_once_and_absence_this_month_waits_for_its_end(branch, member):
    absent_in(branch, member, [1, 2, 3, 4, 5, 6])
    other = member_with_login(branch=branch, username="other")
    absent_in(branch, other, [1, 2, 3, 4, 5, 6])
    meeting_with(branch, at(2026, 7, 3), {member: PRESENT, other: ABSENT})

    result = streaks()
    assert member.member.pk not in result
    assert result[other.member.pk] == 6, "July is not over: it does not count yet"


def test_meetings_of_types_no_active_rule_requires_do_not_count(branch, member):
    absent_in(branch, member, [3, 4, 5, 6])
    CadenceRule.objects.filter(types__code="theme_day").update(is_active=False)

    assert member.member.pk not in streaks()


def test_the_month_is_the_mines_month_at_its_last_minute(branch, member):
    # 23:59 on 31 May in Shanghai is May (15:59 UTC); 00:00 on 1 June is June.
    meeting_with(branch, at(2026, 5, 31, 23, 59), {member: ABSENT})
    meeting_with(branch, at(2026, 6, 1, 0, 0), {member: PRESENT})
    assert member.member.pk not in streaks()

    Attendance.objects.filter(status=PRESENT).update(status=ABSENT)
    assert streaks()[member.member.pk] == 2


def test_six_months_reaches_the_supervisors_and_five_only_the_secretary(branch, member, secretary, supervisor):
    absent_in(branch, member, [1, 2, 3, 4, 5, 6])
    five = member_with_login(branch=branch, username="five")
    absent_in(branch, five, [2, 3, 4, 5, 6])

    assert reminders.send_absence_reminders(now=NOW) == 2
    six_key, two_key = f"absence:{member.member.pk}:6m:2026-07", f"absence:{five.member.pk}:2m:2026-07"
    recipients = {
        key: set(
            Notification.objects.filter(dedupe_key=key, channel="inbox").values_list("recipient__username", flat=True)
        )
        for key in (six_key, two_key)
    }
    assert recipients == {six_key: {"secretary", supervisor.username}, two_key: {"secretary"}}
