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


# --- How dates and periods are written (one format in every message) ----------------------

QUARTER_NUMERALS = "一二三四"


def _day(value: dt.date | dt.datetime) -> dt.date:
    return local_date(value) if isinstance(value, dt.datetime) else value


def date_label(value: dt.date | dt.datetime) -> str:
    """``2027年1月2日``: a day (an aware datetime counts as its day at the mine)."""
    day = _day(value)
    return f"{day.year}年{day.month}月{day.day}日"


def datetime_label(value: dt.datetime) -> str:
    """``2027年1月2日 09:30`` at the mine."""
    local = timezone.localtime(value, mine_tz())
    return f"{date_label(local.date())} {local:%H:%M}"


def time_range_label(start: dt.datetime, end: dt.datetime) -> str:
    """``2027年1月2日 09:00–10:30``, or both ends in full when they fall on different days."""
    local_start, local_end = timezone.localtime(start, mine_tz()), timezone.localtime(end, mine_tz())
    if local_start.date() == local_end.date():
        return f"{datetime_label(start)}–{local_end:%H:%M}"
    return f"{datetime_label(start)} 至 {datetime_label(end)}"


def month_label(value: dt.date | dt.datetime) -> str:
    """``2026年5月``."""
    day = _day(value)
    return f"{day.year}年{day.month}月"


def quarter_label(value: dt.date | dt.datetime) -> str:
    """``2026年第三季度``: the quarter ``value`` falls in."""
    day = _day(value)
    return f"{day.year}年第{QUARTER_NUMERALS[(day.month - 1) // 3]}季度"


def half_year_label(value: dt.date | dt.datetime) -> str:
    """``2026年上半年`` / ``2026年下半年``."""
    day = _day(value)
    return f"{day.year}年{'上' if day.month <= 6 else '下'}半年"


def year_label(value: dt.date | dt.datetime) -> str:
    """``2026年度``."""
    return f"{_day(value).year}年度"


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


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day number ``months`` later; in a shorter month, that month's last day.

    The month-end rule: 31 January + 1 month is 28 February (29 in a leap year), 30 and
    29 January likewise; 15 January + 1 month is 15 February.
    """
    number = month_number(day) + months
    first = month_start(number)
    last = (month_start(number + 1) - dt.timedelta(days=1)).day
    return first.replace(day=min(day.day, last))


def calendar_month_deadline(start: dt.datetime, months: int = 1) -> dt.datetime:
    """ "Within one month" of ``start``: until the end of the same-numbered day ``months`` later, at the mine.

    Results published on 15 January (any time of day) are due at the end of 15 February,
    i.e. at 16 February 00:00 Asia/Shanghai; published on 31 January, at the end of the
    last day of February (see ``add_months``). The one rule for every "one month" deadline.
    """
    due_day = add_months(local_date(start), months)
    return local_midnight(due_day + dt.timedelta(days=1))


def deadline_last_day(due_at: dt.datetime) -> dt.date:
    """The last local day still within a deadline: one at a local midnight ends with the day before."""
    return local_date(due_at - dt.timedelta(microseconds=1))


def deadline_text(due_at: dt.datetime) -> str:
    """A deadline as people read it: one at a local midnight is the end of the day before ("2026年2月15日 24:00")."""
    local = timezone.localtime(due_at, mine_tz())
    if local.time() == dt.time.min:
        return f"{date_label(deadline_last_day(due_at))} 24:00"
    return datetime_label(due_at)
