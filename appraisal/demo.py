"""Demo data of the 民主评议 for the demo mine: a confirmed round last year and an open one this year."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from meetings.models import Meeting, MeetingType
from org.clock import local_date
from org.models import Organization, StaffRole, User

from . import services
from .models import AppraisalYear, Grade, Round, VoterMark
from .selectors import round_tally

DEMO_BRANCH = "综采一队党支部"


def _review_meeting(branch, secretary_user, start: dt.datetime) -> Meeting:
    meeting = Meeting.objects.create(
        branch=branch,
        topic="民主评议党员",
        agenda="一、学习\n二、个人总结\n三、批评与自我批评\n四、民主测评",
        planned_start=start,
        planned_end=start + dt.timedelta(hours=2),
        place="三楼党员活动室",
        created_by=secretary_user,
        counts_for=local_date(start),
    )
    meeting.types.set([MeetingType.objects.get(code=MeetingType.Code.DEMOCRATIC_REVIEW)])
    return meeting


@transaction.atomic
def seed_appraisal(*, now: dt.datetime) -> None:
    branch = Organization.objects.filter(name=DEMO_BRANCH, kind=Organization.Kind.BRANCH).first()
    secretary = User.objects.filter(username="shuji").first()
    committee = User.objects.filter(staff_roles__role=StaffRole.Role.COMMITTEE).first()
    if branch is None or secretary is None or Round.objects.filter(branch=branch).exists():
        return
    this_year, last_year = now.year, now.year - 1
    for year in (last_year, this_year):
        AppraisalYear.objects.get_or_create(year=year, defaults={"opened_at": now, "opened_by": committee})

    # Last year: held in December, voted, proposed and confirmed.
    start = now.replace(year=last_year, month=12, day=15, hour=1, minute=0, second=0, microsecond=0)
    round_ = services.round_start(
        meeting=_review_meeting(branch, secretary, start),
        user=secretary,
        window_start=start,
        window_end=start + dt.timedelta(days=2),
        now=start - dt.timedelta(days=3),
    )
    for a in round_.appraisees.all():
        services.summary_write(
            appraisee=a,
            text="一年来认真学习，履行党员义务，在安全生产中发挥先锋模范作用。",
            self_grade=Grade.QUALIFIED if a.is_graded else "",
            now=start - dt.timedelta(days=1),
        )
    services.round_open(round_=round_, user=secretary, now=start)
    graded = list(round_.appraisees.filter(is_graded=True).order_by("member__name", "id"))
    for i, mark in enumerate(VoterMark.objects.filter(round=round_).order_by("id")):
        grades = {
            a.pk: (Grade.EXCELLENT if (j + i) % 4 == 0 else Grade.QUALIFIED)
            for j, a in enumerate(graded)
            if a.member_id != mark.member_id
        }
        services.ballot_cast(round_=round_, member_id=mark.member_id, grades=grades, now=start + dt.timedelta(hours=1))
    for code in services.codes_issue(round_=round_, count=3, expires_at=start + dt.timedelta(days=2), now=start):
        services.ballot_cast_with_code(
            code=code.code, grades={a.pk: Grade.QUALIFIED for a in graded}, now=start + dt.timedelta(hours=1)
        )
    closed_at = start + dt.timedelta(days=2)
    services.round_close(round_=round_, user=secretary, now=closed_at)
    round_ = Round.objects.get(pk=round_.pk)
    tally = round_tally(round_)
    cap = tally.excellent_cap
    ranked = sorted(tally.graded, key=lambda m: (-(m.score or 0), m.appraisee.pk))
    proposal = {m.appraisee.pk: (Grade.EXCELLENT if k < cap else Grade.QUALIFIED, "") for k, m in enumerate(ranked)}
    services.proposal_submit(
        round_=round_,
        user=secretary,
        proposal=proposal,
        scores={m.appraisee.pk: m.score for m in tally.graded},
        now=closed_at,
    )
    if committee is not None:
        services.round_confirm(round_=round_, user=committee, now=closed_at + dt.timedelta(days=5))

    # This year: started, voting open for a week. The meeting sits in the history's latest month
    # (the demo's months stay those of the history).
    latest = Meeting.objects.filter(branch=branch).exclude(pk=round_.meeting_id).order_by("-planned_start").first()
    start = now - dt.timedelta(hours=1)
    if latest is not None and local_date(latest.planned_start).year == now.year:
        start = latest.planned_start + dt.timedelta(hours=3)
    round_ = services.round_start(
        meeting=_review_meeting(branch, secretary, start),
        user=secretary,
        window_start=now - dt.timedelta(hours=1),
        window_end=now + dt.timedelta(days=7),
        now=now,
    )
    services.round_open(round_=round_, user=secretary, now=now)
    services.codes_issue(round_=round_, count=6, expires_at=now + dt.timedelta(days=7), now=now)
