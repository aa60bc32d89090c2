"""Reads of the run pages: runs with their grade counts, a run's ranking, a branch's score with every
deduction, the manual items to enter, a scheme with its items and bands.

Each returns everything its page shows in a fixed number of queries, whatever the number of
branches, items or deduction lines. Who may see what is decided by the rules in ``org.rules``
(``assessment.view_all_scores``, ``assessment.view_branch_score``); the views check them on the
objects loaded here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, QuerySet
from django.utils.translation import gettext as _

from .models import BranchScore, Deduction, GradeBand, Item, ItemScore, Run, Scheme
from .scoring import fmt


@dataclass
class GradeCount:
    name: str
    count: int
    is_failing: bool


@dataclass
class RunRow:
    run: Run
    grades: list[GradeCount] = field(default_factory=list)
    branches: int = 0

    @property
    def last_day(self) -> dt.date:
        return last_day(self.run)


def last_day(run: Run) -> dt.date:
    """The period's last day, as people write it (``period_end`` is exclusive)."""
    return run.period_end - dt.timedelta(days=1)


def grade_counts(bands: list[GradeBand], counts: Counter) -> list[GradeCount]:
    """The count of each band, best first; a grade no longer among the bands (renamed in the admin) follows."""
    rows = [GradeCount(b.name, counts.get(b.name, 0), b.is_failing) for b in sorted(bands, key=lambda b: -b.min_score)]
    known = {b.name for b in bands}
    rows += [GradeCount(name, n, False) for name, n in sorted(counts.items()) if name not in known]
    return rows


def run_rows() -> list[RunRow]:
    """Every run, newest first, with how many branches reached each grade: three queries."""
    runs = list(
        Run.objects.select_related("scheme")
        .prefetch_related(Prefetch("scheme__bands", queryset=GradeBand.objects.order_by("-min_score")))
        .order_by("-period_start", "kind", "-id")
    )
    counts: dict[int, Counter] = {r.pk: Counter() for r in runs}
    for run_id, grade, n in (
        BranchScore.objects.filter(run__in=runs).values_list("run_id", "grade").annotate(n=Count("id")).order_by()
    ):
        counts[run_id][grade] = n
    return [
        RunRow(
            run=r,
            grades=grade_counts([b for b in r.scheme.bands.all() if b.run_kind == r.kind], counts[r.pk]),
            branches=sum(counts[r.pk].values()),
        )
        for r in runs
    ]


def run_for_page(pk: int) -> Run | None:
    """A run with its scheme, notice and the people who created and published it: one query."""
    return (
        Run.objects.select_related("scheme", "notice", "created_by__member", "published_by__member")
        .filter(pk=pk)
        .first()
    )


def ranking(run: Run) -> list[BranchScore]:
    """Every branch of the run by rank, with what the ranking shows (branch, rectification): one query."""
    return list(
        BranchScore.objects.filter(run=run)
        .select_related("branch", "rectification")
        .order_by("rank", "branch__sort_order", "branch_id")
    )


def previous_run_exists(run: Run) -> bool:
    """Whether a published run of the same kind precedes ``run`` (without one, nobody is "new")."""
    return Run.objects.filter(kind=run.kind, period_start__lt=run.period_start, status=Run.Status.PUBLISHED).exists()


def bands_of(run: Run) -> list[GradeBand]:
    """The grade bands of the run's kind (quarterly or annual), best first."""
    return list(GradeBand.objects.filter(scheme_id=run.scheme_id, run_kind=run.kind).order_by("-min_score"))


def branch_score_for_page(*, run_pk: int, branch_pk: int) -> BranchScore | None:
    """A branch's score in a run with its items, who entered them, and every deduction with its record: 3 queries.

    The records are joined so that deciding whether the viewer may open each one costs nothing:
    a finding's rectification is read by the rule that lets its owner see it.
    """
    deductions = Deduction.objects.select_related(
        "meeting", "finding__rectification", "rectification", "flag__meeting", "review__meeting", "project"
    ).order_by("period_start", "id")
    items = (
        ItemScore.objects.select_related("item", "entered_by__member")
        .prefetch_related(Prefetch("deductions", queryset=deductions))
        .order_by("item__order", "item_id")
    )
    return (
        BranchScore.objects.filter(run_id=run_pk, branch_id=branch_pk)
        .select_related("run__scheme", "run__notice", "branch", "rectification")
        .prefetch_related(Prefetch("items", queryset=items))
        .first()
    )


def branch_count(run_id: int) -> int:
    return BranchScore.objects.filter(run_id=run_id).count()


def latest_published_run_id(branch_id: int) -> int | None:
    """The latest published run that scored the branch (what "my branch's score" opens)."""
    return (
        BranchScore.objects.filter(branch_id=branch_id, run__status=Run.Status.PUBLISHED)
        .order_by("-run__period_end", "-run__published_at", "-run_id")
        .values_list("run_id", flat=True)
        .first()
    )


def manual_items(run: Run) -> list[Item]:
    """The items of the run's scheme a supervisor scores by hand, in the scheme's order."""
    return list(Item.objects.filter(scheme_id=run.scheme_id, method=Item.Method.MANUAL).order_by("order", "id"))


def manual_rows(run: Run, *, search: str = "") -> QuerySet[BranchScore]:
    """The run's branches in the mine's order (they stay put while totals change), each with its manual item
    scores as ``manual_scores`` and who entered them. Paginate it: two queries per page."""
    rows = BranchScore.objects.filter(run=run).select_related("branch")
    if search:
        rows = rows.filter(branch__name__contains=search)
    scores = ItemScore.objects.filter(item__method=Item.Method.MANUAL).select_related("entered_by__member")
    return rows.prefetch_related(Prefetch("items", queryset=scores, to_attr="manual_scores")).order_by(
        "branch__sort_order", "branch_id"
    )


def scheme_for_page(year: int) -> Scheme | None:
    """A year's scheme with its items (and their cadence rules) and its bands: three queries."""
    return (
        Scheme.objects.filter(year=year)
        .select_related("copied_from")
        .prefetch_related(
            Prefetch("items", queryset=Item.objects.select_related("cadence_rule").order_by("order", "id")),
            Prefetch("bands", queryset=GradeBand.objects.order_by("-min_score")),
        )
        .first()
    )


def scheme_years() -> list[int]:
    return list(Scheme.objects.order_by("-year").values_list("year", flat=True))


def rule_in_words(item: Item, *, failing_grade: str = _("不合格")) -> str:
    """How an item is scored, as the scheme page says it (from the item's rule fields, not its description)."""
    K = Item.Kind
    unit = fmt(item.per_unit)
    if item.method == Item.Method.MANUAL:
        if item.is_veto:
            return _("由督导组认定；触发后考核等次为“{failing_grade}”，不论总分。须填写说明。").format(
                failing_grade=failing_grade
            )
        if item.is_bonus:
            return _("由督导组酌情加分，0 至 {fmt} 分，须填写说明。").format(fmt=fmt(item.max_points))
        return _("由督导组评分，0 至 {fmt} 分，须填写说明。").format(fmt=fmt(item.max_points))
    if item.kind == K.CADENCE:
        rule = (
            _("按“{name}”").format(name=item.cadence_rule.name)
            if item.cadence_rule_id
            else _("按全部启用的会议频次规则")
        )
        text = _("{rule}：每缺开一次扣 {unit} 分，补开一次扣 {fmt} 分").format(
            rule=rule, unit=unit, fmt=fmt(item.per_late)
        )
    elif item.kind == K.RETURNED:
        text = _("会议记录每被退回一次扣 {unit} 分").format(unit=unit)
    elif item.kind == K.MINUTES_LATE:
        text = _("会议记录每逾期提交一次扣 {unit} 分").format(unit=unit)
    elif item.kind == K.ATTENDANCE:
        target = item.target_percent if item.target_percent is not None else "—"
        text = _("党员出勤率目标 {target}%，每低 1 个百分点扣 {unit} 分").format(target=target, unit=unit)
    elif item.kind == K.FLAGS:
        text = _("经督导组核实的检查提示每条扣 {unit} 分").format(unit=unit)
    elif item.kind == K.FINDINGS:
        text = _("督导发现问题：轻微每条扣 {fmt} 分，一般每条扣 {unit} 分，严重每条扣 {fmt2} 分").format(
            fmt=fmt(item.per_minor), unit=unit, fmt2=fmt(item.per_serious)
        )
    elif item.kind == K.RECTIFICATION_OVERDUE:
        text = _("整改每逾期一项扣 {unit} 分").format(unit=unit)
    elif item.kind == K.PROJECT_RESULT:
        return _("期间内每个通过验收（已验收）的技术攻关项目加 {unit} 分，最多加 {fmt} 分。").format(
            unit=unit, fmt=fmt(item.max_points)
        )
    else:
        text = item.get_kind_display()
    if item.per_notice > 0:
        text += _("；会议未发布通知或通知晚于规定时间，每次扣 {fmt} 分").format(fmt=fmt(item.per_notice))
    return _("{text}；本项最低 0 分。").format(text=text)
