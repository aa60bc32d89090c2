"""Every write of the 民主评议: open a year, start/open/close a round, summaries, opinions, codes,
ballots, the branch committee's proposal and the 党委's confirmation.

The one rule that makes the ballots anonymous lives in ``ballot_cast``: the voted-marker is
flipped and the ballot written in one transaction, with no key in common, while the round row is
locked (``select_for_update``) so that closing the round and writing a ballot take turns.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from meetings.models import Meeting, MeetingType
from org.clock import local_date
from org.models import Member
from tasks.models import Task
from tasks.services import task_create

from .models import AppraisalYear, Appraisee, Ballot, BallotGrade, Grade, MassesCode, Part, Round, VoterMark

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper
CODE_LENGTH = 8
MAX_CODES_PER_ISSUE = 200


class AlreadyVoted(ValidationError):
    """The voter (or the code) has voted already: counted once, told so."""


# --- Year and round ---------------------------------------------------------------------------


@transaction.atomic
def year_open(*, year: int, user, now: dt.datetime) -> AppraisalYear:
    """The 党委 opens a year's appraisal with the default weights and limits (edited in the admin)."""
    if AppraisalYear.objects.filter(year=year).exists():
        raise ValidationError(_("{year}年的民主评议已经开启。").format(year=year))
    item = AppraisalYear(year=year, opened_by=user, opened_at=now)
    item.full_clean()
    item.save()
    return item


def _check_window(window_start: dt.datetime, window_end: dt.datetime) -> None:
    if window_end <= window_start:
        raise ValidationError({"window_end": [_("投票截止时间必须晚于开始时间。")]})


@transaction.atomic
def round_start(
    *, meeting: Meeting, user, window_start: dt.datetime, window_end: dt.datetime, now: dt.datetime
) -> Round:
    """The 书记 starts the branch's 民主评议 at its 民主评议 meeting: the list of appraisees and voters.

    Appraisees are the branch's members on the meeting date who are on the roll: full members are
    graded, 预备党员 are listed (they write a summary and take part) and never graded. Voters are
    the full members with a vote right on that date and, as the year says, the 预备党员.
    """
    if not meeting.types.filter(code=MeetingType.Code.DEMOCRATIC_REVIEW).exists():
        raise ValidationError(_("只能在“民主评议党员”会议上开展民主评议。"))
    if meeting.group_id is not None:
        raise ValidationError(_("民主评议以支部为单位开展，不能在党小组会上开展。"))
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("会议已取消。"))
    on = local_date(meeting.actual_start or meeting.planned_start)
    year = AppraisalYear.objects.filter(year=on.year).first()
    if year is None:
        raise ValidationError(_("党委尚未开启{year}年的民主评议。").format(year=on.year))
    if Round.objects.filter(year=year, branch_id=meeting.branch_id).exists():
        raise ValidationError(_("该支部本年度已开展民主评议。"))
    _check_window(window_start, window_end)
    round_ = Round(
        year=year,
        branch_id=meeting.branch_id,
        meeting=meeting,
        window_start=window_start,
        window_end=window_end,
        started_by=user,
        created_at=now,
    )
    round_.full_clean(validate_unique=False)
    round_._history_user = user
    round_._history_date = now
    round_.save()

    members = list(Member.objects.of_organization_on(meeting.branch, on).with_status_history().order_by("name", "id"))
    appraisees, marks = [], []
    for member in members:
        if member.status_on(on) not in Member.ON_ROLL_STATUSES:
            continue
        full = member.is_full_member_on(on)
        appraisees.append(Appraisee(round=round_, member=member, is_graded=full))
        if member.can_vote_on(on):
            marks.append(VoterMark(round=round_, member=member, group=Part.PEER))
        elif not full and year.probationary_group != AppraisalYear.ProbationaryGroup.NONE:
            marks.append(VoterMark(round=round_, member=member, group=year.probationary_group))
    Appraisee.objects.bulk_create(appraisees)
    VoterMark.objects.bulk_create(marks)
    return round_


def _locked(round_: Round) -> Round:
    return Round.objects.select_for_update().select_related("year").get(pk=round_.pk)


@transaction.atomic
def round_set_window(*, round_: Round, user, window_start: dt.datetime, window_end: dt.datetime, now) -> Round:
    locked = _locked(round_)
    if locked.state not in (Round.State.PREPARING, Round.State.VOTING):
        raise ValidationError(_("投票已截止，不能再修改投票时间。"))
    _check_window(window_start, window_end)
    locked.window_start, locked.window_end = window_start, window_end
    locked._history_user, locked._history_date = user, now
    locked.save(update_fields=["window_start", "window_end"])
    return locked


@transaction.atomic
def round_open(*, round_: Round, user, now: dt.datetime) -> Round:
    """准备 → 投票中 (votes are taken inside the window only)."""
    locked = _locked(round_)
    if locked.state != Round.State.PREPARING:
        raise ValidationError(_("只有“准备”状态的评议可以开始投票。"))
    if now >= locked.window_end:
        raise ValidationError(_("投票截止时间已过，请先修改投票时间。"))
    Round.objects.filter(pk=locked.pk, state=Round.State.PREPARING).update(
        state=Round.State.VOTING, voting_opened_at=now
    )
    locked.refresh_from_db()
    return locked


@transaction.atomic
def round_close(*, round_: Round, user, now: dt.datetime) -> bool:
    """投票中 → 已截止. Waits for a ballot being written (the round row is locked by both)."""
    locked = _locked(round_)
    if locked.state != Round.State.VOTING:
        if locked.state == Round.State.PREPARING:
            raise ValidationError(_("投票尚未开始。"))
        return False
    changed = Round.objects.filter(pk=locked.pk, state=Round.State.VOTING).update(
        state=Round.State.CLOSED, closed_at=now
    )
    return bool(changed)


def rounds_close_due(*, now: dt.datetime) -> int:
    """The sweep: close every round whose window has ended (a beat may run twice: each closes once)."""
    closed = 0
    for pk in Round.objects.filter(state=Round.State.VOTING, window_end__lte=now).values_list("pk", flat=True):
        closed += round_close(round_=Round(pk=pk), user=None, now=now)
    return closed


# --- Before the vote: summaries, organisational opinion, codes ---------------------------------


@transaction.atomic
def summary_write(*, appraisee: Appraisee, text: str, self_grade: str, now: dt.datetime) -> Appraisee:
    """The member's own 个人总结 (and self-grade; a 预备党员 writes the summary only)."""
    round_ = _locked(appraisee.round)
    if round_.state not in (Round.State.PREPARING, Round.State.VOTING):
        raise ValidationError(_("投票已截止，个人总结不能再修改。"))
    if not text.strip():
        raise ValidationError({"self_summary": [_("请填写个人总结。")]})
    if appraisee.is_graded and self_grade not in Grade.values:
        raise ValidationError({"self_grade": [_("请选择自评等次。")]})
    if not appraisee.is_graded:
        self_grade = ""
    appraisee.self_summary, appraisee.self_grade, appraisee.summary_at = text.strip(), self_grade, now
    appraisee.save(update_fields=["self_summary", "self_grade", "summary_at"])
    return appraisee


@transaction.atomic
def opinions_set(*, round_: Round, user, opinions: Mapping[int, tuple[str, str]], now: dt.datetime) -> int:
    """The branch committee's organisational opinion: ``{appraisee_id: (grade, text)}``, before the proposal."""
    locked = _locked(round_)
    if locked.state == Round.State.CONFIRMED or locked.proposed_at is not None:
        raise ValidationError(_("支委会已提出等次，组织评价不能再修改。"))
    rows = {a.pk: a for a in Appraisee.objects.filter(round=locked, is_graded=True)}
    changed = []
    for pk, (grade, text) in opinions.items():
        row = rows.get(pk)
        if row is None:
            raise ValidationError(_("名单中没有这名党员，或其为预备党员（不评定等次）。"))
        if grade and grade not in Grade.values:
            raise ValidationError(_("等次不正确。"))
        row.org_grade, row.org_opinion = grade, text.strip()
        changed.append(row)
    Appraisee.objects.bulk_update(changed, ["org_grade", "org_opinion"])
    return len(changed)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


@transaction.atomic
def codes_issue(*, round_: Round, count: int, expires_at: dt.datetime, now: dt.datetime) -> list[MassesCode]:
    """Print ``count`` one-time codes for the 群众代表: given to nobody by name, so nobody is known."""
    locked = _locked(round_)
    if locked.state not in (Round.State.PREPARING, Round.State.VOTING):
        raise ValidationError(_("投票已截止，不能再生成评议码。"))
    if not 1 <= count <= MAX_CODES_PER_ISSUE:
        raise ValidationError({"count": [_("一次可生成 1 至 {n} 个评议码。").format(n=MAX_CODES_PER_ISSUE)]})
    if expires_at <= now:
        raise ValidationError({"expires_at": [_("有效期必须晚于现在。")]})
    codes = {_new_code() for _i in range(count)}
    while len(codes) < count:  # pragma: no cover - 32^8 makes a repeat vanishingly rare
        codes.add(_new_code())
    return MassesCode.objects.bulk_create([MassesCode(round=locked, code=c, expires_at=expires_at) for c in codes])


# --- The ballot ------------------------------------------------------------------------------


def ballot_problem(
    *, appraisees: list[Appraisee], grades: Mapping[int, str], voter_member_id: int | None
) -> dict[int, str] | None:
    """The cleaned grades of a ballot, or a ValidationError: every gradable member once, never oneself."""
    gradable = {a.pk: a for a in appraisees if a.is_graded and a.member_id != voter_member_id}
    own = {a.pk for a in appraisees if a.member_id == voter_member_id}
    if own & set(grades):
        raise ValidationError(_("互评票上不能给自己评定等次（自评在个人总结中填写）。"))
    unknown = set(grades) - set(gradable)
    if unknown:
        raise ValidationError(_("选票上有不在评议名单中的人员（预备党员不评定等次）。"))
    missing = [gradable[pk].member.name for pk in gradable if not grades.get(pk)]
    if missing:
        raise ValidationError(_("请为每名党员选择等次：{names}。").format(names="、".join(missing)))
    bad = [pk for pk, g in grades.items() if g not in Grade.values]
    if bad:
        raise ValidationError(_("等次不正确。"))
    return dict(grades)


def _write_ballot(round_: Round, group: str, grades: Mapping[int, str]) -> None:
    ballot = Ballot.objects.create(round=round_, group=group)
    rows = [BallotGrade(ballot=ballot, appraisee_id=pk, grade=g) for pk, g in grades.items()]
    random.shuffle(rows)  # grade rows in no particular order either
    BallotGrade.objects.bulk_create(rows)


def _check_open(round_: Round, now: dt.datetime) -> None:
    if round_.state == Round.State.PREPARING or now < round_.window_start:
        raise ValidationError(_("投票尚未开始。"))
    if round_.state != Round.State.VOTING or now >= round_.window_end:
        raise ValidationError(_("投票已截止，本票未计入。"))


@transaction.atomic
def ballot_cast(*, round_: Round, member_id: int, grades: Mapping[int, str], now: dt.datetime) -> None:
    """A member's ballot: counted once; the marker says they voted, the ballot does not say who.

    The round row is locked first: a close waiting on it sees the ballot or refuses it whole.
    """
    locked = _locked(round_)
    _check_open(locked, now)
    mark = VoterMark.objects.filter(round=locked, member_id=member_id).first()
    if mark is None:
        raise ValidationError(_("您不在本次民主评议的投票名单中。"))
    appraisees = list(Appraisee.objects.filter(round=locked).select_related("member"))
    cleaned = ballot_problem(appraisees=appraisees, grades=grades, voter_member_id=member_id)
    if not VoterMark.objects.filter(pk=mark.pk, has_voted=False).update(has_voted=True):
        raise AlreadyVoted(_("您已经投过票了，本次提交未重复计入。"))
    _write_ballot(locked, mark.group, cleaned)


def code_lookup(code: str, *, now: dt.datetime) -> MassesCode:
    """The code a 群众代表 typed (or scanned): unknown, used and expired codes are refused alike-ish."""
    normalized = (code or "").strip().upper().replace(" ", "")
    item = MassesCode.objects.select_related("round__branch", "round__year").filter(code=normalized).first()
    if item is None:
        raise ValidationError(_("评议码不正确，请核对后重新输入。"))
    if item.is_used:
        raise AlreadyVoted(_("该评议码已经使用过，每个评议码只能投票一次。"))
    if item.expires_at <= now:
        raise ValidationError(_("该评议码已过有效期。"))
    return item


@transaction.atomic
def ballot_cast_with_code(*, code: str, grades: Mapping[int, str], now: dt.datetime) -> Round:
    """A 群众代表's ballot through a one-time code: the code is spent in the same transaction."""
    item = code_lookup(code, now=now)
    locked = _locked(item.round)
    _check_open(locked, now)
    appraisees = list(Appraisee.objects.filter(round=locked).select_related("member"))
    cleaned = ballot_problem(appraisees=appraisees, grades=grades, voter_member_id=None)
    if not MassesCode.objects.filter(pk=item.pk, is_used=False, expires_at__gt=now).update(is_used=True):
        raise AlreadyVoted(_("该评议码已经使用过，每个评议码只能投票一次。"))
    _write_ballot(locked, Part.MASSES, cleaned)
    return locked


# --- After the vote: the proposal and the confirmation ----------------------------------------


@transaction.atomic
def proposal_submit(
    *, round_: Round, user, proposal: Mapping[int, tuple[str, str]], scores: Mapping[int, object], now: dt.datetime
) -> Round:
    """The branch committee proposes a grade for every graded member, within the year's limits.

    ``proposal`` is ``{appraisee_id: (grade, reason)}``; ``scores`` the weighted scores of the
    tally (stored beside the grade so the confirmed record keeps what it was based on).
    """
    locked = _locked(round_)
    if locked.state != Round.State.CLOSED:
        raise ValidationError(_("投票截止后、党委确认前才能提出等次。"))
    year = locked.year
    rows = {a.pk: a for a in Appraisee.objects.filter(round=locked).select_related("member")}
    graded = {pk: a for pk, a in rows.items() if a.is_graded}
    if set(proposal) - set(graded):
        raise ValidationError(_("预备党员参加评议，但不评定等次。"))
    missing = [a.member.name for pk, a in graded.items() if not proposal.get(pk, ("", ""))[0]]
    if missing:
        raise ValidationError(_("请为每名正式党员提出等次：{names}。").format(names="、".join(missing)))
    if any(g not in Grade.values for g, _r in proposal.values()):
        raise ValidationError(_("等次不正确。"))
    cap = year.excellent_cap(len(graded))
    excellent = sum(1 for g, _r in proposal.values() if g == Grade.EXCELLENT)
    if excellent > cap:
        raise ValidationError(
            _("“优秀”最多 {cap} 人（参评正式党员 {n} 人的 {num}/{den}，向下取整），现提出 {k} 人。").format(
                cap=cap,
                n=len(graded),
                num=year.excellent_cap_numerator,
                den=year.excellent_cap_denominator,
                k=excellent,
            )
        )
    if year.fail_requires_reason:
        no_reason = [graded[pk].member.name for pk, (g, r) in proposal.items() if g == Grade.FAIL and not r.strip()]
        if no_reason:
            raise ValidationError(_("定为“不合格”须填写支委会书面理由：{names}。").format(names="、".join(no_reason)))
    for pk, (grade, reason) in proposal.items():
        row = graded[pk]
        row.proposed_grade, row.reason, row.score = grade, reason.strip(), scores.get(pk)
    Appraisee.objects.bulk_update(graded.values(), ["proposed_grade", "reason", "score"])
    Round.objects.filter(pk=locked.pk).update(proposed_at=now, proposed_by=user)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def round_confirm(*, round_: Round, user, now: dt.datetime, reasons: Mapping[int, str] | None = None) -> Round:
    """The 党委 confirms the proposal; each 不合格 gets a 限期改正 task for the member."""
    locked = _locked(round_)
    if locked.state != Round.State.CLOSED or locked.proposed_at is None:
        raise ValidationError(_("支委会提出等次后才能确认。"))
    year = locked.year
    rows = list(Appraisee.objects.filter(round=locked, is_graded=True).select_related("member__user"))
    reasons = reasons or {}
    for row in rows:
        if row.pk in reasons and reasons[row.pk].strip():
            row.reason = reasons[row.pk].strip()
        if row.proposed_grade == Grade.FAIL and year.fail_requires_reason and not row.reason:
            raise ValidationError(_("{name}定为“不合格”，须有支委会书面理由才能确认。").format(name=row.member.name))
        row.confirmed_grade = row.proposed_grade
    if not Round.objects.filter(pk=locked.pk, state=Round.State.CLOSED).update(
        state=Round.State.CONFIRMED, confirmed_at=now, confirmed_by=user
    ):  # pragma: no cover - the row is locked
        raise ValidationError(_("该评议已确认。"))
    due = now + dt.timedelta(days=year.correction_days)
    for row in rows:
        if row.confirmed_grade == Grade.FAIL and row.member.user_id:
            try:
                with transaction.atomic():
                    row.rectification_task = task_create(
                        organization=locked.branch,
                        owner=row.member,
                        title=_("限期改正：{year}年民主评议党员评定为不合格").format(year=year.year),
                        description=row.reason,
                        due_at=due,
                        now=now,
                        assigned_by=user,
                        source=Task.Source.RECTIFICATION,
                        meeting=locked.meeting,
                    )
            except (ValidationError, IntegrityError):
                # A member who left the branch since the meeting cannot own its task; the grade stands.
                row.rectification_task = None
    Appraisee.objects.bulk_update(rows, ["confirmed_grade", "reason", "rectification_task"])
    locked.refresh_from_db()
    return locked
