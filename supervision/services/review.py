"""A supervisor's decisions on a submitted record: approve, return with comments, reopen for a spot check.

Each decision flips the meeting's status with a conditional update, so a second click
of the same button (or two supervisors at once) acts once and the other is told the
record has already been reviewed. Each writes a ``Review`` row (every round is kept)
and a row of the meeting's history saying who decided and when.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bulletin.services import notify
from meetings.models import Meeting
from org.clock import date_label
from org.history import record_history
from org.selectors import branch_secretary_on
from org.texts import prefixed, quoted

from ..models import Flag, Review, ReviewFlagRecord

ALREADY_REVIEWED = "该记录已被审核。"
OPEN_FLAGS_UNCONFIRMED = (
    "该记录还有 {count} 条检查提示待核实。请先确认或排除这些提示；如仍要直接通过，请勾选“仍然通过”后再提交。"
)
STALE_ROUND = "该记录在您打开页面后已被退回并重新提交，请查看最新内容后再审核。"
# Marks the meeting's history rows written by these services; ``selectors.review`` pairs them with the reviews.
HISTORY_REASON_PREFIX = "审核："


def current_round(meeting: Meeting) -> int:
    """The submission being reviewed: 1, then one more after each return."""
    return Review.objects.filter(meeting_id=meeting.pk, action=Review.Action.RETURN).count() + 1


def _decide(
    *,
    meeting: Meeting,
    action: str,
    from_status: str,
    to_status: str,
    comment: str,
    user,
    now: dt.datetime,
    seen_round: int | None,
) -> Review:
    # The row lock makes the round read below and the flip one step on PostgreSQL;
    # SQLite's immediate transactions serialise writers anyway.
    locked = Meeting.objects.select_for_update().filter(pk=meeting.pk).values_list("status", flat=True).first()
    if locked != from_status:
        raise ValidationError(ALREADY_REVIEWED, code="already_reviewed")
    round_ = current_round(meeting)
    if seen_round is not None and seen_round != round_:
        raise ValidationError(STALE_ROUND, code="stale")
    changed = Meeting.objects.filter(pk=meeting.pk, status=from_status).update(status=to_status, updated_at=now)
    if changed != 1:
        raise ValidationError(ALREADY_REVIEWED, code="already_reviewed")
    review = Review(meeting_id=meeting.pk, action=action, comment=comment, round=round_, by=user, at=now)
    review.full_clean()
    review.save()
    _keep_flag_decisions(review)
    record_history(
        Meeting, meeting.pk, user=user, now=now, reason=f"{HISTORY_REASON_PREFIX}{review.get_action_display()}"
    )
    meeting.status = to_status
    return review


def _thumbnail_bytes(evidence) -> bytes:
    if evidence is None or not evidence.thumbnail:
        return b""
    try:
        with evidence.thumbnail.open("rb") as handle:
            return handle.read()
    except OSError:
        return b""  # the file is gone from storage: keep the rest of the record


def _keep_flag_decisions(review: Review) -> list[ReviewFlagRecord]:
    """Copy the meeting's decided flags onto the round, so they outlive the photos they are about."""
    flags = (
        Flag.objects.filter(meeting_id=review.meeting_id)
        .exclude(status=Flag.Status.OPEN)
        .select_related("evidence", "decided_by__member")
        .order_by("kind", "id")
    )
    records = [
        ReviewFlagRecord(
            review=review,
            flag=flag,
            kind=flag.kind,
            message=flag.message,
            status=flag.status,
            decided_by_name=flag.decided_by.display_name if flag.decided_by else "",
            decided_at=flag.decided_at,
            decision_reason=flag.decision_reason,
            evidence_name=flag.evidence.original_name if flag.evidence else "",
            evidence_sha256=flag.evidence.sha256 if flag.evidence else "",
            evidence_captured_at=flag.evidence.captured_at if flag.evidence else None,
            thumbnail=_thumbnail_bytes(flag.evidence),
        )
        for flag in flags
    ]
    return ReviewFlagRecord.objects.bulk_create(records)


@transaction.atomic
def review_approve(
    *,
    meeting: Meeting,
    user,
    now: dt.datetime,
    seen_round: int | None = None,
    despite_open_flags: bool = False,
) -> Review:
    """已提交 → 已通过: the record and its evidence are locked from now on.

    ``seen_round`` is the round shown on the supervisor's page; a different round means
    the record was returned and resubmitted since, and the decision is refused. While
    flags are still 待核实 the approval is refused unless ``despite_open_flags`` says the
    supervisor saw them and approves anyway.
    """
    open_count = Flag.objects.filter(meeting_id=meeting.pk, status=Flag.Status.OPEN).count()
    if open_count and not despite_open_flags:
        # A record no longer 已提交 (already decided) is refused as such, not with a question
        # about its flags that its page no longer asks.
        status = Meeting.objects.filter(pk=meeting.pk).values_list("status", flat=True).first()
        if status != Meeting.Status.SUBMITTED:
            raise ValidationError(ALREADY_REVIEWED, code="already_reviewed")
        raise ValidationError(OPEN_FLAGS_UNCONFIRMED.format(count=open_count), code="open_flags")
    return _decide(
        meeting=meeting,
        action=Review.Action.APPROVE,
        from_status=Meeting.Status.SUBMITTED,
        to_status=Meeting.Status.APPROVED,
        comment="",
        user=user,
        now=now,
        seen_round=seen_round,
    )


@transaction.atomic
def review_return(*, meeting: Meeting, comment: str, user, now: dt.datetime, seen_round: int | None = None) -> Review:
    """已提交 → 已退回 with comments; the branch secretary and the recorder are told once.

    The secretary corrects the record (a returned record is editable) and submits it
    again through ``meetings.services.meeting_submit``, which opens the next round.
    """
    comment = comment.strip()
    if not comment:
        raise ValidationError({"comment": ["退回须填写意见，说明需要修改什么。"]})
    review = _decide(
        meeting=meeting,
        action=Review.Action.RETURN,
        from_status=Meeting.Status.SUBMITTED,
        to_status=Meeting.Status.RETURNED,
        comment=comment,
        user=user,
        now=now,
        seen_round=seen_round,
    )
    _notify_return(review, now=now)
    return review


@transaction.atomic
def review_reopen(*, meeting: Meeting, reason: str, user, now: dt.datetime) -> Review:
    """Spot check: 已通过 → 已提交, with a reason. The record stays locked to the branch while under review."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["抽查重开须填写理由。"]})
    return _decide(
        meeting=meeting,
        action=Review.Action.REOPEN,
        from_status=Meeting.Status.APPROVED,
        to_status=Meeting.Status.SUBMITTED,
        comment=reason,
        user=user,
        now=now,
        seen_round=None,
    )


def _notify_return(review: Review, *, now: dt.datetime) -> int:
    meeting = Meeting.objects.select_related("branch", "recorder__user").get(pk=review.meeting_id)
    recipients = []
    secretary = branch_secretary_on(meeting.branch, on=timezone.localtime(now).date())
    if secretary is not None and secretary.user_id:
        recipients.append(secretary.user)
    if meeting.recorder_id and meeting.recorder.user_id:
        recipients.append(meeting.recorder.user)
    return notify(
        recipients=recipients,
        subject=prefixed("会议记录被退回", meeting.topic),
        body=(
            f"{meeting.branch.name} {date_label(meeting.actual_start or meeting.planned_start)} 的会议记录"
            f"{quoted(meeting.topic)}被退回修改（第 {review.round} 轮）。\n"
            f"审核意见：{review.comment}\n"
            "请按意见修改后重新提交。"
        ),
        url=reverse("meetings:meeting_detail", args=[meeting.pk]),
        dedupe_key=f"review:{review.pk}:returned",
        now=now,
    )
