""" "Within one month" is a calendar month at the mine (issue 9, rule 10): one rule in org/clock.py."""

import datetime as dt

import pytest

from org.clock import add_months, calendar_month_deadline
from supervision.models import Finding, Rectification
from supervision.services import findings as services

from .conftest import local


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 1, 15), dt.date(2026, 2, 15)),
        (dt.date(2026, 1, 31), dt.date(2026, 2, 28)),  # non-leap: the month's last day
        (dt.date(2028, 1, 31), dt.date(2028, 2, 29)),  # leap year
        (dt.date(2026, 1, 29), dt.date(2026, 2, 28)),
        (dt.date(2026, 3, 31), dt.date(2026, 4, 30)),
        (dt.date(2026, 12, 15), dt.date(2027, 1, 15)),  # over the year's end
        (dt.date(2026, 2, 28), dt.date(2026, 3, 28)),  # not the month's end: the same day number
    ],
)
def test_a_month_later_is_the_same_day_or_the_shorter_months_last_day(day, expected):
    assert add_months(day, 1) == expected


def test_published_on_15_january_is_due_at_the_end_of_15_february():
    assert calendar_month_deadline(local(2026, 1, 15, 10, 0)) == local(2026, 2, 16, 0, 0)


def test_the_last_minute_of_15_january_and_the_first_of_16_january_give_different_days():
    assert calendar_month_deadline(local(2026, 1, 15, 23, 59)) == local(2026, 2, 16, 0, 0)
    assert calendar_month_deadline(local(2026, 1, 16, 0, 0)) == local(2026, 2, 17, 0, 0)


def test_the_day_is_the_mines_not_utc():
    # 15 January 16:30 UTC is already 16 January 00:30 in Shanghai.
    at = dt.datetime(2026, 1, 15, 16, 30, tzinfo=dt.UTC)
    assert calendar_month_deadline(at) == local(2026, 2, 17, 0, 0)


def test_published_on_31_january_is_due_at_the_end_of_february_in_leap_and_other_years():
    assert calendar_month_deadline(local(2026, 1, 31, 9, 0)) == local(2026, 3, 1, 0, 0)
    assert calendar_month_deadline(local(2028, 1, 31, 9, 0)) == local(2028, 3, 1, 0, 0)
    # Leap year: 29 February is still in time, which it would not be for 2026.
    assert calendar_month_deadline(local(2028, 1, 31, 9, 0)) > local(2028, 2, 29, 23, 59)


@pytest.mark.django_db
def test_a_finding_raised_on_15_january_is_overdue_from_16_february_0000_not_at_2359(branch, secretary, supervisor):
    finding = services.finding_raise(
        branch=branch,
        category=Finding.Category.RECORDS,
        severity=Finding.Severity.MODERATE,
        description="会议记录缺少发言摘要。",
        user=supervisor,
        now=local(2026, 1, 15, 14, 0),
    )
    rect = finding.rectification
    assert rect.due_at == local(2026, 2, 16, 0, 0)

    services.rectifications_sweep(now=local(2026, 2, 15, 23, 59))
    rect.refresh_from_db()
    assert rect.status == Rectification.Status.OPEN

    services.rectifications_sweep(now=local(2026, 2, 16, 0, 0) + dt.timedelta(seconds=1))
    rect.refresh_from_db()
    assert rect.status == Rectification.Status.OVERDUE
