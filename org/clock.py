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
