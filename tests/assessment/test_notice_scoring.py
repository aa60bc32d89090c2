"""Rule 12 in the scores: a held meeting without a notice, or noticed later than the rule, costs the records item."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps

from assessment.defaults import NOTICE_RECORDS_DESCRIPTION, OLD_RECORDS_DESCRIPTION, RECORDS_ITEM, upgrade_records_item
from assessment.scoring import compute_scores
from meetings.models import Meeting, MeetingPolicy
from tests.factories import BranchFactory

from .test_scoring import END, NOW, START, meeting, scheme  # noqa: F401 (scheme is a fixture)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 10)  # every meeting here is held at 15:00 on 10 March


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def records(scheme, branch):  # noqa: F811
    result = compute_scores(scheme=scheme, kind="year", branches=[branch], start=START, end=END, now=NOW)
    return next(r for r in result.for_branch(branch.pk).items if r.item.name == RECORDS_ITEM)


def noticed(branch, published_at, types=("committee_meeting",), **fields):
    return meeting(branch, DAY, list(types), notice_published_at=published_at, **fields)


def test_the_default_records_item_counts_half_a_point_per_notice_problem(scheme):  # noqa: F811
    item = scheme.items.get(name=RECORDS_ITEM)

    assert (item.kind, item.per_unit, item.per_notice) == ("returned", Decimal("1"), Decimal("0.5"))
    assert item.description == NOTICE_RECORDS_DESCRIPTION


def test_a_notice_at_23_59_the_day_before_costs_nothing(scheme):  # noqa: F811
    branch = BranchFactory()
    noticed(branch, local(2026, 3, 9, 23, 59))

    result = records(scheme, branch)

    assert result.lines == []
    assert result.points == Decimal("10.00")


def test_a_notice_at_00_00_on_the_meeting_day_costs_half_a_point_naming_the_meeting_and_the_reason(scheme):  # noqa: F811
    branch = BranchFactory()
    late = noticed(branch, local(2026, 3, 10, 0, 0))

    result = records(scheme, branch)

    assert [(ln.points, ln.meeting_id, ln.period_start) for ln in result.lines] == [(Decimal("0.5"), late.pk, DAY)]
    assert result.lines[0].reason == (
        "会议通知不规范：2026-03-10 支部委员会，"
        "会议通知发布于 2026年3月10日，应至少提前 1 天（2026年3月9日 24:00 前）通知党员 −0.5"
    )
    assert result.points == Decimal("9.50")


def test_a_general_meeting_is_noticed_three_days_ahead(scheme):  # noqa: F811
    on_time, late = BranchFactory(), BranchFactory()
    noticed(on_time, local(2026, 3, 7, 23, 59), types=["general_meeting"])
    meeting_late = noticed(late, local(2026, 3, 8, 0, 0), types=["general_meeting", "party_lesson"])

    assert records(scheme, on_time).lines == []
    lines = records(scheme, late).lines
    assert [ln.meeting_id for ln in lines] == [meeting_late.pk]
    assert lines[0].reason.startswith("会议通知不规范：2026-03-10 支部党员大会、党课，会议通知发布于 2026年3月8日，")
    assert "党员大会应至少提前 3 天（2026年3月7日 24:00 前）报党委" in lines[0].reason


def test_the_general_meetings_days_follow_the_meeting_policy(scheme):  # noqa: F811
    MeetingPolicy.objects.update_or_create(pk=1, defaults={"general_meeting_notice_days_before": 5})
    branch = BranchFactory()
    noticed(branch, local(2026, 3, 7, 23, 59), types=["general_meeting"])

    assert "至少提前 5 天（2026年3月5日 24:00 前）" in records(scheme, branch).lines[0].reason


def test_a_held_meeting_without_any_notice_costs_half_a_point(scheme):  # noqa: F811
    branch = BranchFactory()
    unnoticed = noticed(branch, None)

    lines = records(scheme, branch).lines

    assert [(ln.points, ln.meeting_id) for ln in lines] == [(Decimal("0.5"), unnoticed.pk)]
    assert lines[0].reason == "会议通知不规范：2026-03-10 支部委员会，未发布会议通知 −0.5"


def test_a_cancelled_or_planned_meeting_never_counts(scheme):  # noqa: F811
    branch = BranchFactory()
    for status in (Meeting.Status.CANCELLED, Meeting.Status.PLANNED, Meeting.Status.NOTIFIED):
        reason = "停电" if status == Meeting.Status.CANCELLED else ""
        not_held = noticed(branch, None, status=status, cancel_reason=reason)
        Meeting.objects.filter(pk=not_held.pk).update(actual_start=None, actual_end=None, submitted_at=None)

    assert records(scheme, branch).lines == []


def test_a_meeting_held_outside_the_period_is_not_counted(scheme):  # noqa: F811
    branch = BranchFactory()
    meeting(branch, dt.date(2025, 12, 30), ["committee_meeting"], notice_published_at=None)

    assert records(scheme, branch).lines == []


def test_notice_points_are_configurable_and_the_item_never_goes_below_zero(scheme):  # noqa: F811
    branch = BranchFactory()
    for _ in range(3):
        noticed(branch, None)
    item = scheme.items.get(name=RECORDS_ITEM)
    item.per_notice = Decimal("4")
    item.save(update_fields=["per_notice"])

    result = records(scheme, branch)

    assert [ln.points for ln in result.lines] == [Decimal("4")] * 3
    assert (result.deducted, result.points) == (Decimal("12.00"), Decimal("0.00"))

    item.per_notice = Decimal("0")
    item.save(update_fields=["per_notice"])
    assert records(scheme, branch).lines == []


def test_the_data_migration_upgrades_the_records_item_as_shipped_and_leaves_an_edited_one_alone(scheme):  # noqa: F811
    item = scheme.items.get(name=RECORDS_ITEM)
    item.per_notice, item.description = Decimal("0"), OLD_RECORDS_DESCRIPTION
    item.save()
    edited = scheme.items.get(name="会议记录按时提交")

    upgrade_records_item(apps)

    item.refresh_from_db()
    assert (item.per_notice, item.description) == (Decimal("0.5"), NOTICE_RECORDS_DESCRIPTION)

    item.per_notice, item.description, item.per_unit = Decimal("0"), OLD_RECORDS_DESCRIPTION, Decimal("2")
    item.save()
    upgrade_records_item(apps)
    item.refresh_from_db()
    assert item.per_notice == Decimal("0")
    edited.refresh_from_db()
    assert edited.per_notice == Decimal("0")
