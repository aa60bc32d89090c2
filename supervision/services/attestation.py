"""Attested speeches: each speaker confirms or disputes the point the record gives them.

Minutes written afterwards (by anyone, or by a text generator) put words in members' mouths.
After a record is submitted (``meetings.hooks.register_on_submitted``, in the submission's
transaction) every speaker with a login is asked, once, through the outbox, to answer within
``SupervisionPolicy.attestation_days`` calendar days (due at 24:00 of the last day, at the
mine). The sweep (``attestations_sweep``, a beat task) turns the answers into flags:

* each dispute (有异议, with the member's comment) becomes a flag as soon as it is seen;
* at the deadline, a record whose speeches are more than half unconfirmed is flagged
  (exactly half is not: "most" means more than half).

Both are set once with a conditional update on ``flagged_at``, and the flags are keyed
(one per dispute, one per record), so a sweep that runs twice flags once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from simple_history.utils import get_history_manager_for_model

from bulletin.services import notify
from meetings.models import Meeting, Speech
from org.clock import date_label, day_after_end, deadline_text, local_date

from ..models import Flag, SpeechAttestation, SupervisionPolicy

MAX_COMMENT = 1000


def attestation_deadline(*, submitted_at: dt.datetime, policy: SupervisionPolicy) -> dt.datetime:
    """24:00 at the mine of the ``attestation_days``-th day after the submission day (the one home)."""
    return day_after_end(local_date(submitted_at), policy.attestation_days)


def attestation_url(meeting_id: int) -> str:
    return reverse("supervision:attest_meeting", args=[meeting_id])


def request_attestations(*, meeting: Meeting, user, now: dt.datetime) -> int:
    """Ask every speaker of ``meeting`` with a login to confirm their recorded points; returns the rows made.

    Called inside ``meeting_submit``'s transaction. The submitter's own speeches are not asked
    (they wrote the record). A speech already asked (a resubmission without rewriting it) is
    not asked again; the message is keyed, so a second call sends nothing.
    """
    policy = SupervisionPolicy.current()
    speeches = list(
        Speech.objects.filter(agenda_item__meeting_id=meeting.pk, speaker__user__isnull=False)
        .filter(speaker__user__is_active=True, attestation__isnull=True)
        .exclude(speaker__user_id=getattr(user, "pk", None))
        .select_related("speaker__user", "agenda_item")
        .order_by("agenda_item__order", "order", "pk")
    )
    if not speeches:
        return 0
    due_at = attestation_deadline(submitted_at=now, policy=policy)
    rows = [
        SpeechAttestation(speech=s, meeting_id=meeting.pk, member_id=s.speaker_id, requested_at=now, due_at=due_at)
        for s in speeches
    ]
    SpeechAttestation.objects.bulk_create(rows, ignore_conflicts=True)
    by_speaker: dict[int, list[Speech]] = defaultdict(list)
    for s in speeches:
        by_speaker[s.speaker_id].append(s)
    for mine in by_speaker.values():
        speaker = mine[0].speaker
        points = "\n".join(f"{s.agenda_item.title}：{s.points[:80]}" for s in mine)
        notify(
            recipients=[speaker.user],
            subject=_("请确认您在“{topic}”中的发言记录").format(topic=meeting.topic or date_label(meeting.held_on)),
            body=_("会议记录中记载了您的发言：\n{points}\n请于 {deadline} 前确认，或说明哪里与您的发言不符。").format(
                points=points, deadline=deadline_text(due_at)
            ),
            url=attestation_url(meeting.pk),
            # The first speech asked names this request: a second call finds it and sends nothing.
            dedupe_key=f"attest:{meeting.pk}:{speaker.pk}:{mine[0].pk}",
            now=now,
        )
    return len(rows)


@transaction.atomic
def attestation_answer(
    *, attestation: SpeechAttestation, confirm: bool, comment: str, member_id: int, now: dt.datetime
) -> SpeechAttestation:
    """The speaker's answer: 确认, or 有异议 with what is wrong. Once, before the deadline.

    A conditional update from 未确认: a second submit (a double tap) changes nothing and says
    what was answered.
    """
    comment = (comment or "").strip()
    if attestation.member_id != member_id:
        raise ValidationError(_("只能确认本人的发言记录。"), code="not_yours")
    if not confirm and not comment:
        raise ValidationError({"comment": _("提出异议须说明哪里与您的发言不符。")}, code="comment_required")
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": _("说明不能超过 {n} 字。").format(n=MAX_COMMENT)}, code="too_long")
    if now >= attestation.due_at:
        raise ValidationError(
            _("确认期限（{deadline}）已过，无法再答复。").format(deadline=deadline_text(attestation.due_at)),
            code="past_due",
        )
    status = SpeechAttestation.Status.CONFIRMED if confirm else SpeechAttestation.Status.DISPUTED
    changed = SpeechAttestation.objects.filter(pk=attestation.pk, status=SpeechAttestation.Status.PENDING).update(
        status=status, comment="" if confirm else comment, answered_at=now
    )
    attestation.refresh_from_db()
    if not changed:
        raise ValidationError(
            _("您已于 {at} 答复：{status}。").format(
                at=deadline_text(attestation.answered_at) if attestation.answered_at else "",
                status=attestation.get_status_display(),
            ),
            code="already_answered",
        )
    get_history_manager_for_model(SpeechAttestation).bulk_history_create([attestation], update=True, default_date=now)
    return attestation


# --- The sweep ---------------------------------------------------------------------------------


def _new_flags(flags: list[Flag], now: dt.datetime) -> None:
    """Insert keyed flags (a concurrent sweep may have made one: ignored) and keep their history."""
    if not flags:
        return
    Flag.objects.bulk_create(flags, ignore_conflicts=True)
    made = list(Flag.objects.filter(meeting_id__in={f.meeting_id for f in flags}, key__in={f.key for f in flags}))
    get_history_manager_for_model(Flag).bulk_history_create(made, default_date=now)


def _flag_disputes(now: dt.datetime) -> int:
    disputed = list(
        SpeechAttestation.objects.filter(status=SpeechAttestation.Status.DISPUTED, flagged_at__isnull=True)
        .select_related("member", "speech__agenda_item")
        .order_by("pk")
    )
    flags = []
    for a in disputed:
        if not SpeechAttestation.objects.filter(pk=a.pk, flagged_at__isnull=True).update(flagged_at=now):
            continue  # another sweep took it
        flags.append(
            Flag(
                meeting_id=a.meeting_id,
                key=f"speech_disputed:{a.speech_id}",
                kind=Flag.Kind.SPEECH_DISPUTED,
                message=_("{name}对记录中本人在“{title}”中的发言有异议：{comment}（记录为：{points}）").format(
                    name=a.member.name,
                    title=a.speech.agenda_item.title,
                    comment=a.comment,
                    points=a.speech.points[:200],
                ),
                created_at=now,
            )
        )
    _new_flags(flags, now)
    return len(flags)


def _flag_unconfirmed(now: dt.datetime) -> int:
    """Records past their deadline: flagged when more than half of their asked speeches are unconfirmed."""
    due_meetings = list(
        SpeechAttestation.objects.filter(flagged_at__isnull=True, due_at__lte=now)
        .values_list("meeting_id", flat=True)
        .distinct()
        .order_by("meeting_id")
    )
    flags = []
    for meeting_id in due_meetings:
        changed = SpeechAttestation.objects.filter(meeting_id=meeting_id, flagged_at__isnull=True, due_at__lte=now)
        if not changed.update(flagged_at=now):
            continue
        counts = SpeechAttestation.objects.filter(meeting_id=meeting_id, due_at__lte=now).aggregate(
            total=Count("pk"), pending=Count("pk", filter=Q(status=SpeechAttestation.Status.PENDING))
        )
        if counts["pending"] * 2 <= counts["total"]:
            continue
        names = list(
            SpeechAttestation.objects.filter(
                meeting_id=meeting_id, due_at__lte=now, status=SpeechAttestation.Status.PENDING
            )
            .order_by("member__name")
            .values_list("member__name", flat=True)
            .distinct()
        )
        flags.append(
            Flag(
                meeting_id=meeting_id,
                key="speech_unconfirmed",
                kind=Flag.Kind.SPEECHES_UNCONFIRMED,
                message=_(
                    "记录中 {total} 条发言有 {pending} 条到期未经发言人确认（{names}），记录可能并非当场所记"
                ).format(total=counts["total"], pending=counts["pending"], names="、".join(names)),
                score=counts["pending"] / counts["total"],
                created_at=now,
            )
        )
    _new_flags(flags, now)
    return len(flags)


def attestations_sweep(*, now: dt.datetime) -> dict[str, int]:
    """Flag new disputes, then records past their deadline mostly unconfirmed. Safe to run twice or at once."""
    with transaction.atomic():
        disputed = _flag_disputes(now)
    with transaction.atomic():
        unconfirmed = _flag_unconfirmed(now)
    return {"disputed": disputed, "unconfirmed": unconfirmed}
