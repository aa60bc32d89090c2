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
    """A deadline as people read it: one at a local midnight is the end of the day before ("2026-02-15 24:00")."""
    local = timezone.localtime(due_at, mine_tz())
    if local.time() == dt.time.min:
        return f"{deadline_last_day(due_at):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"
