"""The 民主评议 tally: a 60-member branch costs the same queries as a 6-member one.

Builds its own two branches, rounds and ballots inside a transaction that is rolled back, so the
bench database is left as it was; the tally (``appraisal.selectors.round_tally``) is counted for each.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.run import Measure

YEAR = 2099  # a year no data set uses


def build_round(*, name: str, size: int, now: dt.datetime):
    from appraisal import services
    from appraisal.models import AppraisalYear, Grade, Round, VoterMark
    from meetings.models import Meeting, MeetingType
    from org.models import Member, Membership, Organization
    from org.validators import id_number_check_char

    committee = Organization.objects.filter(kind=Organization.Kind.COMMITTEE).first() or Organization.objects.create(
        name="评议基准党委", kind=Organization.Kind.COMMITTEE
    )
    branch = Organization.objects.create(name=name, kind=Organization.Kind.BRANCH, parent=committee)
    for i in range(size):
        first17 = f"370883{1980 + i % 20}0101{(size * 7 + i) % 1000:03d}"
        m = Member.objects.create(
            name=f"{name}{i}", gender="M", id_number=first17 + id_number_check_char(first17), category="full"
        )
        Membership.objects.create(member=m, organization=branch, started_on=dt.date(2000, 1, 1))
    AppraisalYear.objects.get_or_create(year=YEAR, defaults={"opened_at": now})
    start = now.replace(year=YEAR)
    meeting = Meeting.objects.create(
        branch=branch, topic="民主评议", planned_start=start, planned_end=start + dt.timedelta(hours=2), place="会议室"
    )
    meeting.types.set([MeetingType.objects.get(code=MeetingType.Code.DEMOCRATIC_REVIEW)])
    round_ = services.round_start(
        meeting=meeting, user=None, window_start=start, window_end=start + dt.timedelta(days=1), now=start
    )
    services.round_open(round_=round_, user=None, now=start)
    graded = list(round_.appraisees.values_list("pk", "member_id"))
    for mark in VoterMark.objects.filter(round=round_):
        grades = {pk: Grade.QUALIFIED for pk, member_id in graded if member_id != mark.member_id}
        services.ballot_cast(round_=round_, member_id=mark.member_id, grades=grades, now=start)
    services.round_close(round_=round_, user=None, now=start + dt.timedelta(days=2))
    return Round.objects.select_related("year").get(pk=round_.pk)


def tally_queries(round_) -> int:
    from appraisal.selectors import round_tally

    with CaptureQueriesContext(connection) as ctx:
        tally = round_tally(round_)
    assert tally.voters == len(tally.members)
    return len(ctx)


def growth(*, small: int = 6, large: int = 60) -> int:
    """Queries of the large branch's tally minus the small one's (rolled back afterwards)."""
    now = timezone.now()
    with transaction.atomic():
        small_q = tally_queries(build_round(name="评议基准小支部", size=small, now=now))
        large_q = tally_queries(build_round(name="评议基准大支部", size=large, now=now))
        transaction.set_rollback(True)
    print(f"# appraisal tally: {small_q} queries at {small} members, {large_q} at {large}")
    return large_q - small_q


def measure() -> list[Measure]:
    return [Measure("pingyi_tally_query_growth", growth(), "queries", "=", 0)]
