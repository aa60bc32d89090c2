"""The interval logic of learning records: pure functions, no database, no clock.

A player reports, every few seconds and when paused or closed, the stretch it played since its
last report: ``from_position`` → ``to_position`` (seconds into the media) and the client's
``sent_at``. The server keeps the merged intervals really played. A report is refused (nothing
credited, the record unchanged) when it:

- is older than the last accepted report (``sent_at`` before it: out of order, or a replay);
- comes from the future (``sent_at`` more than ``CLOCK_SKEW`` after the server's clock);
- covers more media than the real time since the last accepted report allows: longer than
  ``elapsed × max_rate + RATE_SLACK_SECONDS`` (the elapsed time is the server's, not the client's);
- starts before 0, ends before it starts, or ends beyond the duration by more than
  ``END_SLACK_SECONDS``. Within that slack the end is clamped to the duration (players report
  the last frame a little past the container's duration); beyond it the report is refused.

Seeking forward leaves a gap: the player closes its stretch at the seek and starts a new one
where it landed, so the skipped part is never in an interval and never credited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

# Timer jitter and network latency between two heartbeats, in seconds of media.
RATE_SLACK_SECONDS = 1.0
# A player's last reported position may pass the container's duration by this much.
END_SLACK_SECONDS = 1.0
# A phone's clock may run this far ahead of the server's before a report is "from the future".
CLOCK_SKEW = dt.timedelta(seconds=60)

Interval = tuple[float, float]


@dataclass(frozen=True)
class Report:
    from_position: float
    to_position: float
    sent_at: dt.datetime


@dataclass(frozen=True)
class Verdict:
    """What a report does to a record: accepted with the new intervals, or refused with a reason."""

    accepted: bool
    intervals: list[Interval]
    position: float
    reason: str = ""

    @property
    def played_seconds(self) -> float:
        return played_seconds(self.intervals)


def merge(intervals) -> list[Interval]:
    """Sort and merge intervals; touching ones ([0, 10] and [10, 20]) become one."""
    ordered = sorted((float(a), float(b)) for a, b in intervals if b > a)
    merged: list[list[float]] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def played_seconds(intervals) -> float:
    return sum(b - a for a, b in intervals)


def is_complete(played: float, duration: float, ratio: Decimal) -> bool:
    """``played`` reaches ``ratio`` of ``duration``, compared in decimals (0.9 × 100 is 90, not 90.000…01)."""
    if duration <= 0:
        return False
    return Decimal(repr(played)) >= ratio * Decimal(repr(duration))


def judge(
    *,
    intervals,
    report: Report,
    duration: float,
    previous_at: dt.datetime,
    previous_sent_at: dt.datetime | None,
    now: dt.datetime,
    max_rate: Decimal,
) -> Verdict:
    """Accept or refuse one report against a record's intervals.

    ``previous_at`` is the server's time of the last accepted report (or of opening the page);
    ``previous_sent_at`` the client's ``sent_at`` of that report (None before the first).
    """
    current = merge(intervals)

    def refuse(reason) -> Verdict:
        return Verdict(accepted=False, intervals=current, position=0.0, reason=str(reason))

    start, end = float(report.from_position), float(report.to_position)
    if not (start == start and end == end) or start < 0 or end < start:  # NaN compares unequal to itself
        return refuse(_("播放区间无效。"))
    if report.sent_at > now + CLOCK_SKEW:
        return refuse(_("上报时间晚于服务器时间，未计入。"))
    if previous_sent_at is not None and report.sent_at < previous_sent_at:
        return refuse(_("这是一条过期的进度上报（早于上一条），未计入。"))
    if end > duration + END_SLACK_SECONDS:
        return refuse(_("播放位置超出了时长，未计入。"))
    end = min(end, duration)
    start = min(start, end)
    elapsed = max((now - previous_at).total_seconds(), 0.0)
    if end - start > elapsed * float(max_rate) + RATE_SLACK_SECONDS:
        return refuse(_("播放进度快于实际经过的时间（超过 {rate} 倍速），未计入。").format(rate=max_rate))
    return Verdict(accepted=True, intervals=merge([*current, (start, end)]), position=end)
