"""Reads of the 民主评议 shared by pages, the export, the bench and the 评优 / HR hook.

Ballots are read only as grouped counts (``GROUP BY appraisee, group, grade``): no page, export
or selector ever lists a ballot. A tally costs the same three queries whatever the branch's size.

The weighted score (``weighted_score``): each part present gives the mean of its grades' points
(优秀 100, 合格 80, 基本合格 60, 不合格 0 by default); the score is
``Σ w_p · mean_p / Σ w_p`` over the parts that have at least one grade. A missing part (no 群众
ballot, no organisational opinion yet) is left out and the others keep their proportions: with
20/40/20/20 and no 群众 part the others count 20/80, 40/80, 20/80 (25 %, 50 %, 25 %).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q

from org.scope import get_scope

from .models import AppraisalYear, Appraisee, Ballot, BallotGrade, Grade, Part, Round

CENT = Decimal("0.01")
BALLOT_PARTS = (Part.PEER, Part.MASSES)


def weighted_score(
    *, weights: dict[str, int], points: dict[str, int], grades_by_part: dict[str, dict[str, int]]
) -> Decimal | None:
    """The score from counts per part and grade (see the module docstring); None when no part has a grade."""
    total_weight = Decimal(0)
    total = Decimal(0)
    for part, counts in grades_by_part.items():
        n = sum(counts.values())
        if not n or not weights.get(part):
            continue
        mean = Decimal(sum(points[g] * c for g, c in counts.items())) / n
        total += weights[part] * mean
        total_weight += weights[part]
    if not total_weight:
        return None
    return (total / total_weight).quantize(CENT, rounding=ROUND_HALF_UP)


def suggested_grade(year: AppraisalYear, score: Decimal | None) -> str:
    if score is None:
        return ""
    if score >= year.threshold_excellent:
        return Grade.EXCELLENT
    if score >= year.threshold_qualified:
        return Grade.QUALIFIED
    if score >= year.threshold_basic:
        return Grade.BASIC
    return Grade.FAIL


@dataclass
class MemberTally:
    appraisee: Appraisee
    # {part: {grade: count}}; ballot parts are empty when the branch is too small to show them.
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    score: Decimal | None = None
    suggested: str = ""

    def count(self, part: str, grade: str) -> int:
        return self.counts.get(part, {}).get(grade, 0)

    @property
    def rows(self) -> list[tuple[str, list[int]]]:
        """(part label, counts in grade order) for the template."""
        return [(Part(p).label, [self.count(p, g) for g in Grade.values]) for p in Part.values]


@dataclass
class Tally:
    round: Round
    voters: int
    ballots_by_group: dict[str, int]
    members: list[MemberTally]
    # True when there are fewer voters than the year's minimum: per-member ballot counts are hidden.
    branch_only: bool
    branch_counts: dict[str, dict[str, int]]

    @property
    def graded(self) -> list[MemberTally]:
        return [m for m in self.members if m.appraisee.is_graded]

    @property
    def excellent_cap(self) -> int:
        return self.round.year.excellent_cap(len(self.graded))

    def branch_row(self, part: str) -> list[int]:
        return [self.branch_counts.get(part, {}).get(g, 0) for g in Grade.values]

    @property
    def branch_rows(self) -> list[tuple[str, list[int]]]:
        return [(Part(p).label, self.branch_row(p)) for p in BALLOT_PARTS]


def round_tally(round_: Round) -> Tally:
    """The tallies of a closed round: three queries (appraisees, ballot counts, grade counts)."""
    year = round_.year
    appraisees = list(Appraisee.objects.filter(round=round_).select_related("member").order_by("member__name", "id"))
    ballots_by_group = dict(Ballot.objects.filter(round=round_).values_list("group").annotate(n=Count("id")).order_by())
    voters = sum(ballots_by_group.values())
    branch_only = voters < year.min_voters_for_member_tallies
    grouped = (
        BallotGrade.objects.filter(ballot__round=round_)
        .values_list("appraisee_id", "ballot__group", "grade")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_member: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    branch_counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for appraisee_id, group, grade, n in grouped:
        per_member[appraisee_id][group][grade] = n
        branch_counts[group][grade] += n
    weights, points = year.weights(), year.points()
    members = []
    for a in appraisees:
        counts: dict[str, dict[str, int]] = {}
        if a.self_grade:
            counts[Part.SELF] = {a.self_grade: 1}
        if a.org_grade:
            counts[Part.ORG] = {a.org_grade: 1}
        if not branch_only:
            for part in BALLOT_PARTS:
                if per_member[a.pk].get(part):
                    counts[part] = dict(per_member[a.pk][part])
        tally = MemberTally(appraisee=a, counts=counts)
        if a.is_graded:
            tally.score = weighted_score(weights=weights, points=points, grades_by_part=counts)
            tally.suggested = suggested_grade(year, tally.score)
        members.append(tally)
    return Tally(
        round=round_,
        voters=voters,
        ballots_by_group=ballots_by_group,
        members=members,
        branch_only=branch_only,
        branch_counts={k: dict(v) for k, v in branch_counts.items()},
    )


def rounds_for_user(user):
    """The rounds a login may see: every branch for the 党委 level, else the branches it reaches."""
    scope = get_scope(user)
    qs = Round.objects.select_related("year", "branch", "meeting")
    if scope.sees_all_branches:
        return qs
    return qs.filter(branch_id__in=scope.reachable_branch_ids)


def my_appraisals(member_id: int):
    """The signed-in member's rows (their own only), newest year first, with whether they have voted."""
    return (
        Appraisee.objects.filter(member_id=member_id)
        .select_related("round__year", "round__branch", "round__meeting")
        .annotate(
            has_voted=Count(
                "round__voter_marks",
                filter=Q(round__voter_marks__member_id=member_id, round__voter_marks__has_voted=True),
            ),
            may_vote=Count("round__voter_marks", filter=Q(round__voter_marks__member_id=member_id)),
        )
        .order_by("-round__year__year", "-round_id")
    )


def confirmed_grades(*, year: int) -> dict[int, str]:
    """``{member_id: grade}`` of the year's confirmed appraisals, for 评优 and the HR sheet: one query.

    Empty when the year is not opened or says its grades do not feed commendation.
    """
    rows = Appraisee.objects.filter(
        round__year__year=year,
        round__year__commendation_uses_grade=True,
        round__state=Round.State.CONFIRMED,
        is_graded=True,
    ).values_list("member_id", "confirmed_grade")
    return {member_id: grade for member_id, grade in rows if grade}


def grade_blocks_commendation(grade: str) -> bool:
    """不合格 rules a member out of 评优; 优秀, 合格 and 基本合格 do not."""
    return grade == Grade.FAIL
