"""The mine's calendar: local dates and midnights, and months as numbers, in ``TIME_ZONE``.

Always the configured zone (Asia/Shanghai), not whatever a request may have activated: a
meeting's month or a deadline's day is the mine's. The lowest app holds it so every app
counts days and months the same way.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def mine_tz() -> dt.tzinfo:
    return timezone.get_default_timezone()


def local_date(value: dt.datetime) -> dt.date:
    """The mine's calendar day of an aware datetime."""
    return timezone.localtime(value, mine_tz()).date()


def local_midnight(day: dt.date) -> dt.datetime:
    """The aware datetime at which ``day`` begins at the mine."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=mine_tz())


def month_number(day: dt.date) -> int:
    """Months counted from year 0 (year * 12 + month - 1), so that periods are integer ranges."""
    return day.year * 12 + day.month - 1


def month_start(number: int) -> dt.date:
    """The first day of month ``number`` (see ``month_number``)."""
    return dt.date(number // 12, number % 12 + 1, 1)


def day_after_end(day: dt.date, days: int = 0) -> dt.datetime:
    """The local midnight that ends the ``days``-th calendar day after ``day`` (0: the end of ``day`` itself).

    "Within 3 days of 10 March" ends at 14 March 00:00: ``day_after_end(10 March, 3)``.
    """
    return local_midnight(day + dt.timedelta(days=days + 1))


# --- Calendar periods -------------------------------------------------------------------------
# A period is a run of whole months that starts at a multiple of its length (a quarter starts
# in January, April, July or October), so a period's number is its first month's number // length.
# The kinds are named as CadenceRule.Period's values.

MONTHS_IN = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def bounds_of(period: str, number: int) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of period ``number`` of kind ``period``."""
    size = MONTHS_IN[period]
    return month_start(number * size), month_start((number + 1) * size) - dt.timedelta(days=1)


def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of the calendar ``period`` (month, quarter …) containing ``day``."""
    return bounds_of(period, month_number(day) // MONTHS_IN[period])


def periods_in(period: str, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The calendar periods of kind ``period`` that overlap [start, end], in order."""
    size = MONTHS_IN[period]
    first, last = month_number(start) // size, month_number(end) // size
    return [bounds_of(period, n) for n in range(first, last + 1)] if start <= end else []


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The mine's calendar year as aware datetimes [1 January 00:00, next 1 January 00:00)."""
    return local_midnight(dt.date(year, 1, 1)), local_midnight(dt.date(year + 1, 1, 1))
