"""The interval logic at its edges: merging, the rate limit, the duration, the clock, completion."""

import datetime as dt
from decimal import Decimal

import pytest

from study.progress import (
    CLOCK_SKEW,
    END_SLACK_SECONDS,
    RATE_SLACK_SECONDS,
    Report,
    is_complete,
    judge,
    merge,
    played_seconds,
)

T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


def _judge(start, end, *, elapsed=15.0, intervals=(), duration=600.0, sent_at=None, previous_sent_at=None):
    now = T0 + dt.timedelta(seconds=elapsed)
    return judge(
        intervals=list(intervals),
        report=Report(start, end, sent_at or now),
        duration=duration,
        previous_at=T0,
        previous_sent_at=previous_sent_at,
        now=now,
        max_rate=Decimal("2.0"),
    )


def test_touching_intervals_merge_into_one():
    assert merge([(10, 20), (0, 10)]) == [(0.0, 20.0)]


def test_overlapping_intervals_merge_and_count_once():
    merged = merge([(0, 15), (10, 30)])
    assert merged == [(0.0, 30.0)]
    assert played_seconds(merged) == 30


def test_a_contained_interval_adds_nothing():
    assert merge([(0, 60), (20, 30)]) == [(0.0, 60.0)]


def test_separate_intervals_stay_separate_and_empty_ones_vanish():
    assert merge([(40, 50), (0, 10), (5, 5)]) == [(0.0, 10.0), (40.0, 50.0)]


def test_a_report_at_real_speed_is_accepted_and_merged():
    verdict = _judge(15, 30, intervals=[(0, 15)])
    assert verdict.accepted
    assert verdict.intervals == [(0.0, 30.0)]
    assert verdict.position == 30


def test_exactly_twice_real_time_is_accepted():
    assert _judge(0, 2 * 200, elapsed=200).accepted


def test_twice_real_time_plus_the_slack_is_still_accepted_and_a_hair_more_is_not():
    assert _judge(0, 30 + RATE_SLACK_SECONDS, elapsed=15).accepted
    assert not _judge(0, 30 + RATE_SLACK_SECONDS + 0.01, elapsed=15).accepted


def test_two_point_zero_one_times_real_time_is_refused():
    verdict = _judge(0, 2.01 * 200, elapsed=200)
    assert not verdict.accepted
    assert "倍速" in verdict.reason
    assert verdict.intervals == []


def test_seeking_forward_leaves_a_gap_that_is_not_credited():
    # played 0-15, dragged the bar to 500, played 15 s there
    verdict = _judge(500, 515, intervals=[(0, 15)])
    assert verdict.accepted
    assert verdict.intervals == [(0.0, 15.0), (500.0, 515.0)]
    assert verdict.played_seconds == 30


def test_a_jump_reported_as_one_interval_is_refused_as_faster_than_real_time():
    assert not _judge(15, 500, intervals=[(0, 15)]).accepted


def test_an_end_a_little_past_the_duration_is_clamped_to_it():
    verdict = _judge(590, 600 + END_SLACK_SECONDS, duration=600)
    assert verdict.accepted
    assert verdict.intervals == [(590.0, 600.0)]


def test_an_end_beyond_the_duration_is_refused():
    verdict = _judge(590, 600 + END_SLACK_SECONDS + 0.5, duration=600)
    assert not verdict.accepted
    assert "时长" in verdict.reason


def test_a_report_from_the_future_is_refused():
    now = T0 + dt.timedelta(seconds=15)
    assert _judge(0, 15, sent_at=now + CLOCK_SKEW).accepted
    verdict = _judge(0, 15, sent_at=now + CLOCK_SKEW + dt.timedelta(seconds=1))
    assert not verdict.accepted
    assert "晚于服务器时间" in verdict.reason


def test_a_report_older_than_the_last_accepted_one_is_refused():
    now = T0 + dt.timedelta(seconds=15)
    verdict = _judge(0, 15, sent_at=now - dt.timedelta(seconds=1), previous_sent_at=now)
    assert not verdict.accepted
    assert "过期" in verdict.reason
    assert _judge(0, 15, sent_at=now, previous_sent_at=now).accepted


@pytest.mark.parametrize("start,end", [(-1, 10), (20, 10), (float("nan"), 10), (0, float("nan"))])
def test_a_malformed_interval_is_refused(start, end):
    assert not _judge(start, end).accepted


def test_exactly_ninety_percent_is_complete_and_eighty_nine_point_nine_is_not():
    assert is_complete(90.0, 100.0, Decimal("0.90"))
    assert not is_complete(89.9, 100.0, Decimal("0.90"))
    assert is_complete(540.0, 600.0, Decimal("0.90"))
    assert not is_complete(539.4, 600.0, Decimal("0.90"))


def test_nothing_is_complete_without_a_duration():
    assert not is_complete(10.0, 0.0, Decimal("0.90"))
