"""Writes of the assessment: schemes copied from last year, runs (compute, manual scores, review, publish), 回头看.

A run goes draft (computed, recomputed at will) → review (the committee checks it) →
published (locked). Manual scores may be entered in draft and review; each entry is kept
in the item score's history. Every state change is a conditional update on the run's
status, so a double click or two people at once act once.

Publishing names the failing branches: each gets a finding and its one-month
rectification through ``supervision.services.findings.finding_raise`` (idempotent by
source key), the mine gets one 通报, and each failing branch's 书记 is told. When a
rectification is verified, ``notices_recheck`` adds the 回头看 to the notice, once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from bulletin.models import Announcement
from bulletin.services import announcement_publish, announcement_update, notify
from org.clock import date_label, deadline_last_day, deadline_text, local_date, local_midnight
from org.history import record_history
from org.models import Organization, Post
from org.selectors import active_on
from supervision.models import Finding, Rectification
from supervision.services.findings import finding_raise

from .models import BranchScore, Deduction, GradeBand, Item, ItemScore, Run, Scheme
from .participation import member_scores_compute
from .scoring import (
    CENT,
    ZERO,
    Line,
    Manual,
    compute_scores,
    fmt,
    grade_for,
    manual_lines,
    ranks,
    total_of,
)

NOT_DRAFT = "只有草稿状态的考核可以重新计算。"
NOT_COMPUTED = "请先计算考核结果，再提交审核。"
ALREADY_SUBMITTED = "该考核已提交委员会审核。"
NOT_IN_REVIEW = "该考核不在委员会审核中。"
ALREADY_PUBLISHED = "该考核已发布，不能再修改。"
RECHECK_HEADING = "四、回头看"
BATCH = 500
BRANCH_FIELDS = ["total", "grade", "is_failing", "vetoed", "rank", "previous_rank", "previous_total"]
ITEM_FIELDS = ["points", "deducted", "veto_triggered"]
LINE_FIELDS = [
    "points",
    "reason",
    "period_start",
    "meeting_id",
    "review_id",
    "flag_id",
    "finding_id",
    "rectification_id",
    "project_id",
]


# --- Schemes ------------------------------------------------------------------------------


def _copy_fields(obj, *, skip: set[str]) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in skip}


@transaction.atomic
def scheme_copy(*, scheme: Scheme, year: int, user, now: dt.datetime) -> Scheme:
    """A new year's scheme as a copy of ``scheme``: its rules, items and grade bands."""
    if Scheme.objects.filter(year=year).exists():
        raise ValidationError({"year": [_("{year} 年度已有考核方案。").format(year=year)]})
    old_year = str(scheme.year)
    name = (
        scheme.name.replace(old_year, str(year))
        if old_year in scheme.name
        else _("{year}年度{name}").format(year=year, name=scheme.name)
    )
    copy = Scheme(
        year=year,
        name=name[:100],
        copied_from=scheme,
        **_copy_fields(scheme, skip={"id", "year", "name", "copied_from_id"}),
    )
    copy.full_clean(validate_constraints=False)
    copy._history_user = user
    copy._history_date = now
    copy._change_reason = _("复制自{year}年度方案").format(year=scheme.year)
    try:
        with transaction.atomic():
            copy.save()
    except IntegrityError as exc:  # the same year copied twice at once
        raise ValidationError({"year": [_("{year} 年度已有考核方案。").format(year=year)]}) from exc
    Item.objects.bulk_create(
        [Item(scheme=copy, **_copy_fields(i, skip={"id", "scheme_id"})) for i in scheme.items.order_by("order", "id")]
    )
    GradeBand.objects.bulk_create(
        [GradeBand(scheme=copy, **_copy_fields(b, skip={"id", "scheme_id"})) for b in scheme.bands.all()]
    )
    return copy


# --- Runs ---------------------------------------------------------------------------------


def period_of(kind: str, period_start: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of a quarterly or annual run starting on ``period_start``; refused if it cannot start there."""
    if kind == Run.Kind.YEAR:
        if (period_start.month, period_start.day) != (1, 1):
            raise ValidationError({"period_start": [_("年度考核须从 1 月 1 日开始。")]})
        return period_start, dt.date(period_start.year + 1, 1, 1)
    if kind == Run.Kind.QUARTER:
        if period_start.day != 1 or period_start.month not in (1, 4, 7, 10):
            raise ValidationError({"period_start": [_("季度考核须从季度的第一天开始（1、4、7、10 月 1 日）。")]})
        month = period_start.month + 3
        end = dt.date(period_start.year + 1, 1, 1) if month > 12 else dt.date(period_start.year, month, 1)
        return period_start, end
    raise ValidationError({"kind": [_("未知的考核类型。")]})


@transaction.atomic
def run_create(*, kind: str, period_start: dt.date, user, now: dt.datetime) -> Run:
    """A draft run of ``kind`` for the period starting on ``period_start``, under that year's scheme."""
    start, end = period_of(kind, period_start)
    scheme = Scheme.objects.filter(year=start.year).first()
    if scheme is None:
        raise ValidationError(
            {
                "period_start": [
                    _("{year} 年度还没有考核方案，请先在管理后台建立（可复制上一年度）。").format(year=start.year)
                ]
            }
        )
    run = Run(scheme=scheme, kind=kind, period_start=start, period_end=end, created_by=user, created_at=now)
    run.full_clean(validate_constraints=False)
    run._history_user = user
    run._history_date = now
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError as exc:
        raise ValidationError(_("该期间的考核已存在。")) from exc
    return run


def previous_run(run: Run) -> Run | None:
    """The latest published run of the same kind before ``run`` (what 比学赶超 compares with)."""
    return (
        Run.objects.filter(kind=run.kind, period_start__lt=run.period_start, status=Run.Status.PUBLISHED)
        .order_by("-period_start")
        .first()
    )


def _previous_results(run: Run) -> dict[int, tuple[int, Decimal]]:
    before = previous_run(run)
    if before is None:
        return {}
    return {b: (rank, total) for b, rank, total in before.scores.values_list("branch_id", "rank", "total")}


def _deduction(item_score_id: int, line: Line) -> Deduction:
    return Deduction(
        item_score_id=item_score_id,
        points=line.points.quantize(CENT),
        reason=line.reason,
        period_start=line.period_start,
        meeting_id=line.meeting_id,
        review_id=line.review_id,
        flag_id=line.flag_id,
        finding_id=line.finding_id,
        rectification_id=line.rectification_id,
        project_id=line.project_id,
    )


def _line_values(deduction: Deduction) -> tuple:
    return tuple(getattr(deduction, f) for f in LINE_FIELDS)


@transaction.atomic
def run_compute(*, run: Run, now: dt.datetime) -> Run:
    """(Re)compute every active branch's scores of a draft run and store them with their deduction lines.

    Manual scores and their comments survive (they are inputs); the same records and the
    same ``now`` give the same numbers. Rows are updated in place, so item scores keep their
    ids and history, and only rows whose values changed are written. A fixed number of
    queries plus the batches of the bulk writes.
    """
    run = Run.objects.select_for_update().select_related("scheme").get(pk=run.pk)
    if run.status != Run.Status.DRAFT:
        raise ValidationError(NOT_DRAFT, code="not_draft")
    branches = list(Organization.objects.branches().active().order_by("sort_order", "id"))
    scored = {b.pk for b in branches}

    existing = {
        row[0]: row[1:] for row in BranchScore.objects.filter(run=run).values_list("branch_id", "pk", *BRANCH_FIELDS)
    }
    existing_items: dict[tuple[int, int], tuple] = {}
    manual: dict[tuple[int, int], Manual] = {}
    rows = ItemScore.objects.filter(branch_score__run=run).values_list(
        "branch_score__branch_id", "item_id", "pk", *ITEM_FIELDS, "manual_points", "comment", "entered_at"
    )
    for branch_id, item_id, pk, points, deducted, veto, manual_points, comment, entered_at in rows:
        existing_items[(branch_id, item_id)] = (pk, points, deducted, veto)
        if entered_at is not None and manual_points is not None:
            manual[(branch_id, item_id)] = Manual(points=manual_points, comment=comment, veto_triggered=veto)
    existing_lines: dict[int, list[tuple]] = defaultdict(list)
    for item_score_id, *line in (
        Deduction.objects.filter(item_score__branch_score__run=run)
        .order_by("id")
        .values_list("item_score_id", *LINE_FIELDS)
    ):
        existing_lines[item_score_id].append(tuple(line))

    scores = compute_scores(
        scheme=run.scheme,
        branches=branches,
        start=run.period_start,
        end=run.period_end,
        now=now,
        kind=run.kind,
        manual=manual,
        previous=_previous_results(run),
    )

    # Only what changed is written: a recompute of unchanged records writes nothing but the time.
    gone = [old[0] for branch_id, old in existing.items() if branch_id not in scored]
    if gone:  # branches closed since the last computation leave the run
        BranchScore.objects.filter(pk__in=gone).delete()
    changed_branches, new_branches = [], []
    for r in scores.results:
        values = (r.total, r.grade, r.is_failing, r.vetoed, r.rank, r.previous_rank, r.previous_total)
        old = existing.get(r.branch.pk)
        row = BranchScore(
            pk=old[0] if old else None, run=run, branch=r.branch, **dict(zip(BRANCH_FIELDS, values, strict=True))
        )
        if old is None:
            new_branches.append(row)
        elif tuple(old[1:]) != values:
            changed_branches.append(row)
    BranchScore.objects.bulk_update(changed_branches, BRANCH_FIELDS, batch_size=BATCH)
    BranchScore.objects.bulk_create(new_branches, batch_size=BATCH)
    branch_score_id = {branch_id: old[0] for branch_id, old in existing.items()}
    branch_score_id.update({row.branch_id: row.pk for row in new_branches})

    item_ids = {i.pk for i in scores.items}
    stale = [old[0] for (b, i), old in existing_items.items() if b in scored and i not in item_ids]
    if stale:  # items taken out of the scheme since
        ItemScore.objects.filter(pk__in=stale).delete()
    changed_items, new_items, relined = [], [], []
    for r in scores.results:
        for ir in r.items:
            old = existing_items.get((r.branch.pk, ir.item.pk))
            row = ItemScore(
                pk=old[0] if old else None,
                branch_score_id=branch_score_id[r.branch.pk],
                item=ir.item,
                points=ir.points,
                deducted=ir.deducted,
                veto_triggered=ir.veto_triggered,
            )
            if old is None:
                new_items.append(row)
            elif tuple(old[1:]) != (ir.points, ir.deducted, ir.veto_triggered):
                changed_items.append(row)
            lines = [_deduction(row.pk, line) for line in ir.lines]
            if old is None or existing_lines.get(row.pk, []) != [_line_values(d) for d in lines]:
                relined.append((row, lines))
    ItemScore.objects.bulk_update(changed_items, ITEM_FIELDS, batch_size=BATCH)
    ItemScore.objects.bulk_create(new_items, batch_size=BATCH)
    replaced = [row.pk for row, _lines in relined if row.pk in existing_lines]
    for n in range(0, len(replaced), BATCH):
        Deduction.objects.filter(item_score_id__in=replaced[n : n + BATCH]).delete()
    fresh = []
    for row, lines in relined:
        for d in lines:
            d.item_score_id = row.pk
            fresh.append(d)
    Deduction.objects.bulk_create(fresh, batch_size=BATCH)
    _member_scores(run, now=now)
    Run.objects.filter(pk=run.pk).update(computed_at=now)
    run.computed_at = now
    return run


def _member_scores(run: Run, *, now: dt.datetime) -> None:
    """Members' participation of the run's period; eligibility reads which branches fail as the run stands."""
    failing = set(BranchScore.objects.filter(run=run, is_failing=True).values_list("branch_id", flat=True))
    member_scores_compute(run=run, failing_branch_ids=failing, now=now)


def _refresh_branch(branch_score: BranchScore, *, user, now: dt.datetime) -> BranchScore:
    """Total, veto and grade of one branch from its item scores, then the run's ranks again."""
    run = branch_score.run
    agg = ItemScore.objects.filter(branch_score=branch_score).aggregate(total=Sum("points"))
    vetoed = ItemScore.objects.filter(branch_score=branch_score, veto_triggered=True).exists()
    total = total_of([agg["total"] or ZERO])
    grade, failing = grade_for(
        total, list(GradeBand.objects.filter(scheme_id=run.scheme_id, run_kind=run.kind)), vetoed=vetoed
    )
    branch_score.total, branch_score.grade, branch_score.is_failing, branch_score.vetoed = total, grade, failing, vetoed
    branch_score._history_user = user
    branch_score._history_date = now
    branch_score.save(update_fields=["total", "grade", "is_failing", "vetoed"])

    rows = list(BranchScore.objects.filter(run_id=run.pk).only("pk", "total", "rank", "vetoed"))
    placed = ranks({row.pk: row.total for row in rows}, vetoed=[row.pk for row in rows if row.vetoed])
    changed = [row for row in rows if row.rank != placed[row.pk]]
    for row in changed:
        row.rank = placed[row.pk]
    BranchScore.objects.bulk_update(changed, ["rank"], batch_size=BATCH)
    branch_score.rank = placed[branch_score.pk]
    return branch_score


@transaction.atomic
def item_score_enter(
    *,
    item_score: ItemScore,
    points,
    comment: str,
    user,
    now: dt.datetime,
    veto_triggered: bool = False,
) -> ItemScore:
    """A supervisor scores a manual item (0 ≤ points ≤ its maximum) with a comment; the branch's total follows.

    Only while the run is a draft or in review. Every entry is a row of the item score's history.
    """
    item_score = ItemScore.objects.select_related("item", "branch_score").get(pk=item_score.pk)
    # The run row is locked so that a publish cannot slip in between the check and the write.
    run = Run.objects.select_for_update().get(pk=item_score.branch_score.run_id)
    item = item_score.item
    if run.status not in (Run.Status.DRAFT, Run.Status.REVIEW):
        raise ValidationError(ALREADY_PUBLISHED, code="locked")
    if item.method != Item.Method.MANUAL:
        raise ValidationError(_("该项目由系统根据记录自动计算，不能人工评分。"), code="automatic")
    errors: dict[str, list[str]] = {}
    try:
        points = Decimal(str(points)).quantize(CENT)
    except (InvalidOperation, ValueError):
        errors["points"] = [_("请输入数字。")]
    else:
        if points < 0:
            errors["points"] = [_("得分不能为负数。")]
        elif points > item.max_points:
            errors["points"] = [_("得分不能超过该项目的分值 {fmt} 分。").format(fmt=fmt(item.max_points))]
    comment = (comment or "").strip()
    if not comment:
        errors["comment"] = [_("请填写评分说明。")]
    if veto_triggered and not item.is_veto:
        errors["veto_triggered"] = [_("只有一票否决项可以触发一票否决。")]
    if errors:
        raise ValidationError(errors)

    final, lines, veto = manual_lines(item, Manual(points=points, comment=comment, veto_triggered=veto_triggered))
    item_score.manual_points = points
    item_score.points = final
    item_score.deducted = sum((ln.points for ln in lines if ln.points > 0), ZERO)
    item_score.veto_triggered = veto
    item_score.comment = comment
    item_score.entered_by = user
    item_score.entered_at = now
    item_score._history_user = user
    item_score._history_date = now
    item_score.full_clean(exclude=["branch_score", "item", "entered_by"])
    item_score.save(
        update_fields=["manual_points", "points", "deducted", "veto_triggered", "comment", "entered_by", "entered_at"]
    )
    item_score.deductions.all().delete()
    Deduction.objects.bulk_create([_deduction(item_score.pk, line) for line in lines])
    branch_score = BranchScore.objects.select_related("run").get(pk=item_score.branch_score_id)
    _refresh_branch(branch_score, user=user, now=now)
    return item_score


def _flip(run: Run, *, source: str, target: str, user, now: dt.datetime, reason: str, **fields) -> Run:
    changed = Run.objects.filter(pk=run.pk, status=source).update(status=target, **fields)
    if changed != 1:
        current = Run.objects.filter(pk=run.pk).values_list("status", flat=True).first()
        if current == Run.Status.PUBLISHED:
            raise ValidationError(ALREADY_PUBLISHED, code="locked")
        if source == Run.Status.DRAFT and current == Run.Status.REVIEW:
            raise ValidationError(ALREADY_SUBMITTED, code="state")
        raise ValidationError(NOT_IN_REVIEW if source == Run.Status.REVIEW else NOT_DRAFT, code="state")
    record_history(Run, run.pk, user=user, now=now, reason=reason)
    return Run.objects.select_related("scheme").get(pk=run.pk)


NEEDS_CONFIRMATION = "请确认以上提示后再继续。"


def run_warnings(*, run: Run, now: dt.datetime) -> list[str]:
    """What the committee should know before submitting or publishing: the period still running, items not entered.

    A manual item not entered (未录入) counts 0, so a branch with one is not yet fully scored;
    a bonus or veto item left blank is a decision (no bonus, not triggered) and is not listed.
    Two queries.
    """
    warnings = []
    if local_midnight(run.period_end) > now:
        warnings.append(
            _("考核期间尚未结束（{value:%Y-%m-%d} 结束），未到期的会议尚未计入。").format(
                value=run.period_end - dt.timedelta(days=1)
            )
        )
    unscored = list(
        ItemScore.objects.filter(
            branch_score__run=run,
            item__method=Item.Method.MANUAL,
            item__is_bonus=False,
            item__is_veto=False,
            entered_at__isnull=True,
        )
        .values_list("branch_score__branch__name", flat=True)
        .distinct()
        .order_by("branch_score__branch__name")
    )
    if unscored:
        names = "、".join(unscored[:5]) + (_("等 {len} 个支部").format(len=len(unscored)) if len(unscored) > 5 else "")
        warnings.append(_("{names}有人工评分项未录入（暂计 0 分）。").format(names=names))
    return warnings


def _require_confirmation(run: Run, *, now: dt.datetime, confirmed: bool) -> None:
    if not confirmed and run_warnings(run=run, now=now):
        raise ValidationError(NEEDS_CONFIRMATION, code="needs_confirmation")


@transaction.atomic
def run_submit_for_review(*, run: Run, user, now: dt.datetime, confirmed: bool = False) -> Run:
    """Draft → committee review (the computed scores are frozen unless returned to draft).

    While ``run_warnings`` lists something, only with ``confirmed`` (the user saw the warnings).
    """
    if not Run.objects.filter(pk=run.pk, computed_at__isnull=False).exists():
        raise ValidationError(NOT_COMPUTED, code="not_computed")
    if Run.objects.filter(pk=run.pk, status=Run.Status.DRAFT).exists():
        _require_confirmation(run, now=now, confirmed=confirmed)
    return _flip(
        run,
        source=Run.Status.DRAFT,
        target=Run.Status.REVIEW,
        user=user,
        now=now,
        reason=_("提交审核"),
        submitted_at=now,
    )


@transaction.atomic
def run_return_to_draft(*, run: Run, user, now: dt.datetime) -> Run:
    """Review → draft, to recompute or correct before publishing."""
    return _flip(run, source=Run.Status.REVIEW, target=Run.Status.DRAFT, user=user, now=now, reason=_("退回草稿"))


def _day(value: dt.datetime) -> str:
    return date_label(value)


def _secretaries(branch_ids, *, on: dt.date) -> dict[int, object]:
    """The login of each branch's current 书记 (the latest appointed if two overlap): one query."""
    posts = (
        Post.objects.filter(active_on(on), role=Post.Role.SECRETARY, organization_id__in=list(branch_ids))
        .filter(member__user__isnull=False, member__user__is_active=True)
        .select_related("member__user")
        .order_by("organization_id", "-started_on", "-id")
    )
    result: dict[int, object] = {}
    for post in posts:
        result.setdefault(post.organization_id, post.member.user)
    return result


def _lost_by_category(run: Run) -> dict[int, list[tuple[str, Decimal]]]:
    """Points lost per category of each failing branch score, largest first: one query."""
    lost: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for bs_id, category, max_points, points, is_bonus in ItemScore.objects.filter(
        branch_score__run=run, branch_score__is_failing=True
    ).values_list("branch_score_id", "item__category", "item__max_points", "points", "item__is_bonus"):
        if not is_bonus and points < max_points:
            lost[bs_id][category] += max_points - points
    return {k: sorted(v.items(), key=lambda kv: -kv[1]) for k, v in lost.items()}


def _common_problems(run: Run, limit: int = 3) -> list[tuple[str, int]]:
    """The items the most branches lost points on: (item name, branches): one query."""
    counts = Counter(
        ItemScore.objects.filter(branch_score__run=run, deducted__gt=0, item__is_bonus=False)
        .exclude(item__is_veto=True)
        .values_list("item__name", flat=True)
    )
    return counts.most_common(limit)


def notice_body(run: Run, *, failing: list[BranchScore], deadline: dt.datetime | None) -> str:
    """The 通报 in the standard layout: 一、总体情况 二、存在问题 三、整改要求."""
    scores = list(run.scores.select_related("branch").order_by("rank", "branch__sort_order", "branch_id"))
    count = len(scores)
    average = (sum((s.total for s in scores), ZERO) / count).quantize(CENT) if count else ZERO
    by_grade = Counter(s.grade for s in scores)
    bands = list(run.scheme.bands.filter(run_kind=run.kind).order_by("-min_score"))
    grades = "、".join(_("{name} {value} 个").format(name=b.name, value=by_grade.get(b.name, 0)) for b in bands)
    top = [s for s in scores if s.rank <= 3 and not s.is_failing]
    parts = [
        _("一、总体情况"),
        _("{label}共对 {count} 个党支部进行了量化考核，平均得分 {fmt} 分。其中{grades}。").format(
            label=run.label, count=count, fmt=fmt(average), grades=grades
        ),
    ]
    if top:
        parts.append(
            _("得分靠前的党支部：")
            + "、".join(_("{name}（{fmt} 分）").format(name=s.branch.name, fmt=fmt(s.total)) for s in top)
            + "。"
        )

    parts += ["", _("二、存在问题")]
    if failing:
        lost = _lost_by_category(run)
        parts.append(_("以下 {len} 个党支部考核不合格：").format(len=len(failing)))
        for n, s in enumerate(failing, start=1):
            detail = _("；触发一票否决") if s.vetoed else ""
            categories = "、".join(_("{c}失 {fmt} 分").format(c=c, fmt=fmt(p)) for c, p in lost.get(s.pk, [])[:3])
            parts.append(
                _("{n}. {name}，得分 {fmt} 分，等次{grade}{detail}").format(
                    n=n, name=s.branch.name, fmt=fmt(s.total), grade=s.grade, detail=detail
                )
                + (_("；主要失分：{categories}").format(categories=categories) if categories else "")
                + "。"
            )
    else:
        parts.append(_("本次考核没有不合格的党支部。"))
    common = _common_problems(run)
    if common:
        parts.append(
            _("全矿失分较多的项目：")
            + "、".join(_("{name}（{n} 个支部失分）").format(name=name, n=n) for name, n in common)
            + "。"
        )

    parts += ["", _("三、整改要求")]
    n = 1
    if failing and deadline is not None:
        parts.append(
            _(
                "{n}. 不合格党支部须于 {date_label}24时前完成整改，"
                "书记为第一责任人，在系统中提交整改措施和佐证材料，经督导组验收。"
            ).format(n=n, date_label=date_label(deadline_last_day(deadline)))
        )
        n += 1
    parts.append(_("{n}. 各党支部对照扣分明细举一反三，按期召开“三会一课”，规范会议记录，提高党员参会率。").format(n=n))
    parts.append(_("{value}. 党委将对整改情况进行回头看，结果在本通报中补充。").format(value=n + 1))
    return "\n".join(parts)


@transaction.atomic
def run_publish(*, run: Run, user, now: dt.datetime, confirmed: bool = False) -> Run:
    """Review → published (locked): rectifications for the failing branches, one 通报 to the mine, their 书记 told.

    The status flip is a conditional update: a second publish is refused before anything is opened or sent.
    While ``run_warnings`` lists something, only with ``confirmed``.
    """
    if Run.objects.filter(pk=run.pk, status=Run.Status.REVIEW).exists():
        _require_confirmation(run, now=now, confirmed=confirmed)
    if Run.objects.select_for_update().filter(pk=run.pk, status=Run.Status.REVIEW).exists():
        # Manual scores entered since the last computation may have changed which branches
        # fail, and with it who may be put forward for 评优: the published numbers are final.
        _member_scores(run, now=now)
    run = _flip(
        run,
        source=Run.Status.REVIEW,
        target=Run.Status.PUBLISHED,
        user=user,
        now=now,
        reason=_("发布"),
        published_at=now,
        published_by=user,
    )
    failing = list(
        run.scores.filter(is_failing=True).select_related("branch").order_by("rank", "branch__sort_order", "branch_id")
    )
    deadline = None
    rectifications: dict[int, Rectification] = {}
    for score in failing:
        finding = finding_raise(
            branch=score.branch,
            category=Finding.Category.ASSESSMENT,
            severity=Finding.Severity.SERIOUS,
            description=(
                _("{label}得分 {fmt} 分，等次{grade}").format(label=run.label, fmt=fmt(score.total), grade=score.grade)
                + (_("（触发一票否决）") if score.vetoed else "")
                + _("，考核不合格。请对照扣分明细逐项整改。")
            ),
            user=user,
            now=now,
            source_key=f"assessment:{run.pk}:{score.branch_id}",
        )
        rectification = Rectification.objects.get(finding=finding)
        rectifications[score.branch_id] = rectification
        BranchScore.objects.filter(pk=score.pk, rectification__isnull=True).update(rectification=rectification)
        deadline = max(deadline, rectification.due_at) if deadline else rectification.due_at

    notice = announcement_publish(
        author=user,
        title=_("关于{label}结果的通报").format(label=run.label),
        body=notice_body(run, failing=failing, deadline=deadline),
        kind=Announcement.Kind.CIRCULAR,
        organization=None,
        published_at=now,
        pinned=False,
        now=now,
    )
    Run.objects.filter(pk=run.pk, notice__isnull=True).update(notice=notice)
    run.notice = notice

    secretaries = _secretaries([s.branch_id for s in failing], on=local_date(now))
    for score in failing:
        secretary = secretaries.get(score.branch_id)
        if secretary is None:
            continue
        rectification = rectifications[score.branch_id]
        notify(
            recipients=[secretary],
            subject=_("考核不合格整改通知：{name}").format(name=score.branch.name),
            body=(
                _(
                    "{label}中，{name}得分 {fmt} 分，等次{grade}，已在全矿通报。"
                    "请于 {deadline_text} 前完成整改，在系统中提交整改措施和佐证材料。"
                ).format(
                    label=run.label,
                    name=score.branch.name,
                    fmt=fmt(score.total),
                    grade=score.grade,
                    deadline_text=deadline_text(rectification.due_at),
                )
            ),
            url=reverse("supervision:finding_detail", args=[rectification.finding_id]),
            dedupe_key=f"assessment:{run.pk}:{score.branch_id}:failing",
            now=now,
        )
    return run


def notices_recheck(*, now: dt.datetime) -> int:
    """Add the 回头看 to published notices for failing branches whose rectification was verified; once each.

    Each branch is claimed by a conditional update on ``recheck_recorded_at``; only the
    claims that changed a row are written into the notice (through the bulletin's update
    service, in the same transaction). Returns the number of branches recorded.
    """
    candidates = list(
        BranchScore.objects.filter(
            run__status=Run.Status.PUBLISHED,
            run__notice__isnull=False,
            is_failing=True,
            recheck_recorded_at__isnull=True,
            rectification__status=Rectification.Status.VERIFIED,
        )
        .select_related("branch", "rectification", "run")
        .order_by("run_id", "rank", "branch_id")
    )
    by_run: dict[int, list[BranchScore]] = defaultdict(list)
    for score in candidates:
        by_run[score.run_id].append(score)
    recorded = 0
    for scores in by_run.values():
        with transaction.atomic():
            claimed = [
                s
                for s in scores
                if BranchScore.objects.filter(pk=s.pk, recheck_recorded_at__isnull=True).update(recheck_recorded_at=now)
            ]
            if not claimed:
                continue
            notice = Announcement.objects.select_for_update().get(pk=scores[0].run.notice_id)
            body = notice.body.rstrip()
            if RECHECK_HEADING not in body:
                body += f"\n\n{RECHECK_HEADING}"
            for s in claimed:
                verified = s.rectification.verified_at or now
                body += _("\n{name}：整改已于 {day}经督导组验收通过，回头看确认问题已整改到位。").format(
                    name=s.branch.name, day=_day(verified)
                )
            announcement_update(
                announcement=notice,
                title=notice.title,
                body=body,
                kind=notice.kind,
                organization=notice.organization,
                published_at=notice.published_at,
                pinned=notice.pinned,
                now=now,
            )
            recorded += len(claimed)
    return recorded
