"""Services of learning records: opening an item, a player's progress report, confirming a document.

Every write is here. A report is judged by ``study.progress.judge`` (pure) and written with a
conditional update on the record's last accepted report, so two tabs (or a replayed request)
that report at the same time cannot both be credited for the same real time: the second finds
the record moved on and is refused. Completion is a second conditional update
(``completed_at`` still empty), so it happens and sends ``learning_completed`` exactly once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from org.models import Member

from . import progress
from .credit import item_credit_hours
from .models import LearningRecord, StudyItem, StudyPolicy
from .signals import learning_completed


class RecordRefused(Exception):
    """A write that is refused, with the Chinese reason shown to the member."""


@dataclass(frozen=True)
class HeartbeatResult:
    accepted: bool
    reason: str
    position: float
    played_seconds: float
    completed: bool


def record_open(*, item: StudyItem, member: Member, now: dt.datetime) -> LearningRecord:
    """The member's record of ``item``, made (with the time it was first opened) on the first visit."""
    record, _created = LearningRecord.objects.get_or_create(item=item, member=member, defaults={"opened_at": now})
    return record


def _complete(record: LearningRecord, *, item: StudyItem, policy: StudyPolicy, now: dt.datetime) -> bool:
    """Flip the record to complete once, with the item's credit of the moment; True if this call did it."""
    credit = item_credit_hours(item, policy=policy)
    changed = LearningRecord.objects.filter(pk=record.pk, completed_at__isnull=True).update(
        completed_at=now, credit_hours=credit
    )
    if changed:
        record.completed_at, record.credit_hours = now, credit
        learning_completed.send(sender=LearningRecord, record=record, now=now)
    return bool(changed)


@transaction.atomic
def record_heartbeat(
    *,
    item: StudyItem,
    member: Member,
    duration: float,
    report: progress.Report,
    policy: StudyPolicy,
    now: dt.datetime,
) -> HeartbeatResult:
    """Judge and keep one progress report of a video or audio ``item`` of ``duration`` seconds.

    A refused report writes nothing. The first report of a member who never opened the page
    (no record yet) only starts the clock: nothing before it can be credited.
    """
    if item.kind not in StudyItem.PLAYABLE_KINDS or not duration or duration <= 0:
        raise RecordRefused(_("这份资料不是可播放的音视频，不记录播放进度。"))
    record = LearningRecord.objects.filter(item=item, member=member).first()
    if record is None:
        record = record_open(item=item, member=member, now=now)
    return _apply_report(record, item=item, duration=duration, report=report, policy=policy, now=now)


def _apply_report(
    record: LearningRecord,
    *,
    item: StudyItem,
    duration: float,
    report: progress.Report,
    policy: StudyPolicy,
    now: dt.datetime,
) -> HeartbeatResult:
    """Judge ``report`` against ``record`` as loaded and write it only if nobody wrote in between."""
    previous_at = record.last_report_at or record.opened_at
    verdict = progress.judge(
        intervals=record.intervals,
        report=report,
        duration=duration,
        previous_at=previous_at,
        previous_sent_at=record.last_sent_at,
        now=now,
        max_rate=policy.max_rate,
    )
    completed = record.completed_at is not None
    if not verdict.accepted:
        return HeartbeatResult(False, verdict.reason, record.last_position, record.played_seconds, completed)
    played = round(verdict.played_seconds, 3)
    intervals = [[round(a, 3), round(b, 3)] for a, b in verdict.intervals]
    # Conditional on the last accepted report being the one this verdict was judged against.
    changed = LearningRecord.objects.filter(
        pk=record.pk, last_report_at=record.last_report_at, last_sent_at=record.last_sent_at
    ).update(
        intervals=intervals,
        played_seconds=played,
        last_position=verdict.position,
        last_report_at=now,
        last_sent_at=report.sent_at,
    )
    if not changed:
        reason = str(_("另一个页面刚刚上报了进度，本次未计入。"))
        return HeartbeatResult(False, reason, record.last_position, record.played_seconds, completed)
    if not completed and progress.is_complete(played, duration, policy.complete_ratio):
        completed = _complete(record, item=item, policy=policy, now=now) or completed
    return HeartbeatResult(True, "", verdict.position, played, completed)


@transaction.atomic
def record_confirm_document(*, item: StudyItem, member: Member, now: dt.datetime) -> LearningRecord:
    """已学: a document or article the member opened is complete (once; a second confirm changes nothing)."""
    if item.kind in StudyItem.PLAYABLE_KINDS:
        raise RecordRefused(_("音视频按实际播放计入，不能直接确认已学。"))
    record = LearningRecord.objects.filter(item=item, member=member).first()
    if record is None:
        # The page records the opening; a confirm without it did not come from reading the item.
        raise RecordRefused(_("请先打开这份资料，再确认已学。"))
    if record.completed_at is None:
        _complete(record, item=item, policy=StudyPolicy.current(), now=now)
    return record
