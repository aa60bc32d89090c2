"""One way of writing dates, periods and quoted titles in every message: no title quoted or prefixed twice."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bulletin.models import Announcement, Notification
from bulletin.services import announcement_publish
from meetings import services as meetings
from meetings.compliance import period_label
from meetings.models import CadenceRule, Meeting
from org.clock import date_label, datetime_label, quarter_label, time_range_label
from org.texts import prefixed, quoted
from tests.factories import MeetingFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_title_is_quoted_once_and_inner_quotes_become_single_quotes():
    assert quoted("安全我先行") == "“安全我先行”"
    assert quoted("“安全我先行”") == "“安全我先行”"
    assert quoted("“安全我先行”：观看事故警示片") == "“‘安全我先行’：观看事故警示片”"
    assert "““" not in quoted("“安全我先行”：观看事故警示片")


def test_a_prefix_is_not_added_to_a_title_that_already_has_it():
    assert prefixed("学习资料", "《支部工作条例》") == "学习资料：《支部工作条例》"
    assert prefixed("学习资料", "学习资料：《支部工作条例》") == "学习资料：《支部工作条例》"
    # Only the whole prefix counts: a title that merely starts with the same characters keeps it.
    assert prefixed("学习", "学习资料：《条例》") == "学习：学习资料：《条例》"


def test_dates_and_periods_are_written_one_way_in_the_mines_time_zone():
    # 23:59 and 00:00 at the mine fall on different days whatever the server's zone.
    assert date_label(dt.datetime(2027, 1, 1, 23, 59, tzinfo=SHANGHAI)) == "2027年1月1日"
    assert date_label(dt.datetime(2027, 1, 1, 16, 0, tzinfo=dt.UTC)) == "2027年1月2日"
    assert datetime_label(dt.datetime(2027, 1, 2, 9, 5, tzinfo=SHANGHAI)) == "2027年1月2日 09:05"
    start = dt.datetime(2027, 1, 2, 9, 0, tzinfo=SHANGHAI)
    assert time_range_label(start, start + dt.timedelta(hours=1, minutes=30)) == "2027年1月2日 09:00–10:30"
    assert time_range_label(start, start + dt.timedelta(days=1)) == "2027年1月2日 09:00 至 2027年1月3日 09:00"
    assert quarter_label(dt.date(2026, 9, 30)) == "2026年第三季度"
    assert quarter_label(dt.date(2026, 10, 1)) == "2026年第四季度"
    assert period_label(CadenceRule.Period.QUARTER, dt.date(2026, 7, 1)) == "2026年第三季度"
    assert period_label(CadenceRule.Period.HALF_YEAR, dt.date(2026, 7, 1)) == "2026年下半年"


@pytest.mark.django_db
def test_a_study_material_titled_with_its_kind_is_announced_without_the_prefix_twice(supervisor, member):
    now = dt.datetime(2026, 5, 1, 9, 0, tzinfo=SHANGHAI)
    announcement_publish(
        author=supervisor,
        title="学习资料：《中国共产党支部工作条例（试行）》",
        body="请各支部组织学习。",
        kind=Announcement.Kind.STUDY,
        organization=None,
        published_at=None,
        pinned=False,
        now=now,
    )
    subjects = set(Notification.objects.values_list("subject", flat=True))
    assert subjects == {"学习资料：《中国共产党支部工作条例（试行）》"}


@pytest.mark.django_db
def test_a_meeting_notice_with_a_quoted_topic_reads_once_quoted_with_the_one_date_format(branch, secretary, member):
    start = dt.datetime(2026, 9, 18, 9, 0, tzinfo=SHANGHAI)
    meeting = MeetingFactory(
        branch=branch,
        types=["general_meeting"],
        topic="“安全我先行”：观看事故警示片",
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1, minutes=30),
    )
    meetings.meeting_publish_notice(meeting=meeting, user=secretary, now=start - dt.timedelta(days=3))
    meetings.leave_request(
        meeting=Meeting.objects.get(pk=meeting.pk),
        member=member.member,
        reason="下井值班",
        now=start - dt.timedelta(days=1),
    )

    inbox = Notification.objects.filter(channel=Notification.Channel.INBOX)
    notice = inbox.filter(dedupe_key=f"meeting:{meeting.pk}:notice").first()
    leave = inbox.get(dedupe_key__startswith="leave:")
    assert "时间：2026年9月18日 09:00–10:30" in notice.body
    assert leave.body == "李党员 申请不参加“‘安全我先行’：观看事故警示片”，事由：下井值班"
    assert not Notification.objects.filter(body__contains="““").exists()
