"""Assessment runs: compute, manual scores, review, publish (rectifications and the 通报), the 回头看."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from assessment.defaults import load_default_scheme
from assessment.models import BranchScore, Deduction, GradeBand, Item, ItemScore, Run, Scheme
from assessment.services import (
    item_score_enter,
    notices_recheck,
    run_compute,
    run_create,
    run_publish,
    run_return_to_draft,
    run_submit_for_review,
    run_warnings,
)
from assessment.tasks import recheck_notices
from bulletin.models import Announcement, Notification
from meetings.models import Meeting
from org.models import Organization
from supervision.models import Finding, Flag, Rectification, Review
from supervision.services.findings import rectification_submit, rectification_verify
from tests.factories import BranchFactory, MeetingFactory, staff_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 4, 8, 10, 0, tzinfo=SHANGHAI)  # the first quarter is over
Q1 = dt.date(2026, 1, 1)


def at(day: dt.date, hour: int = 15) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


def meeting(branch, day, types, **fields):
    start = at(day)
    end = start + dt.timedelta(hours=1, minutes=30)
    return MeetingFactory(
        branch=branch,
        types=types,
        status=Meeting.Status.APPROVED,
        planned_start=start,
        planned_end=end,
        actual_start=start,
        actual_end=end,
        counts_for=day,
        minutes_entered_at=end,
        submitted_at=end + dt.timedelta(days=1),
        # Noticed in time, a 党员大会 included: a missing notice costs points (test_notice_scoring).
        notice_published_at=fields.pop("notice_published_at", start - dt.timedelta(days=4)),
        **fields,
    )


def full_quarter(branch):
    """Every meeting the default scheme asks of a branch without groups in the first quarter of 2026."""
    for month in (1, 2, 3):
        meeting(branch, dt.date(2026, month, 10), ["committee_meeting"])
        meeting(branch, dt.date(2026, month, 25), ["theme_day"])
    meeting(branch, dt.date(2026, 3, 15), ["general_meeting", "party_lesson"])


@pytest.fixture
def scheme(db):
    return load_default_scheme(apps, 2026)


@pytest.fixture
def committee_user(db):
    return staff_user(username="dangwei", role="committee")


def manual_scheme(year):
    """A scheme of one manual item worth 100 and the default bands: totals set by hand."""
    scheme = Scheme.objects.create(year=year, name=f"{year} 测试方案")
    Item.objects.create(scheme=scheme, category="综合", name="综合评价", max_points=100, method="manual", kind="manual")
    Item.objects.create(
        scheme=scheme, category="一票否决", name="记录造假", max_points=0, method="manual", kind="manual", is_veto=True
    )
    for name, low, failing in (("优秀", 90, False), ("良好", 80, False), ("合格", 70, False), ("不合格", 0, True)):
        GradeBand.objects.create(scheme=scheme, name=name, min_score=low, is_failing=failing)
    return scheme


def score_of(run, branch) -> BranchScore:
    return BranchScore.objects.get(run=run, branch=branch)


def item_score(run, branch, name) -> ItemScore:
    return ItemScore.objects.get(branch_score__run=run, branch_score__branch=branch, item__name=name)


def snapshot(run):
    """Everything a computation stores, comparable across computations."""
    return (
        sorted(BranchScore.objects.filter(run=run).values_list("branch_id", "total", "grade", "rank", "is_failing")),
        sorted(ItemScore.objects.filter(branch_score__run=run).values_list("id", "points", "deducted", "comment")),
        sorted(
            Deduction.objects.filter(item_score__branch_score__run=run).values_list(
                "item_score_id", "points", "reason", "meeting_id", "review_id"
            )
        ),
    )


def publishable(run, user, now=NOW):
    run_compute(run=run, now=now)
    return run_submit_for_review(run=run, user=user, now=now, confirmed=True)


# --- Create and compute --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_quarterly_run_takes_its_years_scheme_and_ends_with_the_quarter(scheme, committee_user):
    run = run_create(kind="quarter", period_start=dt.date(2026, 4, 1), user=committee_user, now=NOW)

    assert (run.scheme, run.period_end, run.status, run.label) == (
        scheme,
        dt.date(2026, 7, 1),
        "draft",
        "2026年第二季度考核",
    )
    annual = run_create(kind="year", period_start=dt.date(2026, 1, 1), user=committee_user, now=NOW)
    assert annual.period_end == dt.date(2027, 1, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "start", "message"),
    [
        ("quarter", dt.date(2026, 2, 1), "季度考核须从季度的第一天开始"),
        ("year", dt.date(2026, 4, 1), "年度考核须从 1 月 1 日开始"),
        ("year", dt.date(2029, 1, 1), "2029 年度还没有考核方案"),
    ],
)
def test_a_run_is_refused_for_a_period_it_cannot_have(scheme, committee_user, kind, start, message):
    with pytest.raises(ValidationError, match=message):
        run_create(kind=kind, period_start=start, user=committee_user, now=NOW)
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_a_second_run_of_the_same_period_is_refused(scheme, committee_user):
    run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    with pytest.raises(ValidationError, match="该期间的考核已存在"):
        run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    assert Run.objects.count() == 1


@pytest.mark.django_db
def test_computing_scores_every_active_branch_on_every_item(scheme, committee_user, branch):
    full_quarter(branch)
    idle = BranchFactory(name="机电队党支部")
    BranchFactory(name="已撤销党支部", is_active=False)
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)

    run_compute(run=run, now=NOW)

    assert set(BranchScore.objects.filter(run=run).values_list("branch__name", flat=True)) == {branch.name, idle.name}
    assert ItemScore.objects.filter(branch_score__run=run).count() == 2 * scheme.items.count()
    assert score_of(run, branch).total == Decimal("98")  # 未录入: the manual 重大事项 item (2) counts 0 until entered
    # idle: 3 committee meetings, 3 theme days, 1 大会 and 1 党课 missing = −8
    assert score_of(run, idle).total == Decimal("90")
    assert [score_of(run, branch).rank, score_of(run, idle).rank] == [1, 2]
    assert Run.objects.get(pk=run.pk).computed_at == NOW


@pytest.mark.django_db
def test_every_deduction_links_to_a_record_of_its_own_branch(scheme, committee_user, branch, other_branch):
    supervisor = staff_user(username="dudao", role="work_dept")
    for b in (branch, other_branch):
        m = meeting(b, dt.date(2026, 1, 10), ["committee_meeting"], minutes_overdue_at=NOW)
        late = meeting(b, dt.date(2026, 3, 2), ["theme_day"])
        late.counts_for = dt.date(2026, 2, 25)
        late.save(update_fields=["counts_for"])
        Review.objects.create(meeting=m, action="return", comment="不全", by=supervisor, at=at(dt.date(2026, 1, 12)))
        Flag.objects.create(
            meeting=m, kind="similar_minutes", key="s", message="雷同", status="confirmed", created_at=NOW
        )
        finding = Finding.objects.create(
            branch=b, category="records", severity="minor", description="记录潦草", raised_by=supervisor,
            raised_at=at(dt.date(2026, 2, 1)),
        )  # fmt: skip
        Rectification.objects.create(
            finding=finding, branch=b, status="overdue", due_at=at(dt.date(2026, 3, 1)),
            overdue_at=at(dt.date(2026, 3, 2)), created_at=at(dt.date(2026, 2, 1)),
        )  # fmt: skip
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)

    run_compute(run=run, now=NOW)

    for b in (branch, other_branch):
        lines = list(
            Deduction.objects.filter(
                item_score__branch_score__run=run, item_score__branch_score__branch=b
            ).select_related("meeting", "review__meeting", "flag__meeting", "finding", "rectification")
        )
        linked = [ln for ln in lines if ln.meeting or ln.review or ln.flag or ln.finding or ln.rectification]
        assert {ln.item_score.item.kind for ln in linked} == {
            "cadence",
            "returned",
            "minutes_late",
            "flags",
            "findings",
            "rectification_overdue",
        }
        for ln in linked:
            if ln.meeting:
                assert ln.meeting.branch_id == b.pk
            if ln.review:
                assert ln.review.meeting.branch_id == b.pk and ln.review.action == "return"
            if ln.flag:
                assert ln.flag.meeting.branch_id == b.pk and ln.flag.status == "confirmed"
            if ln.finding:
                assert ln.finding.branch_id == b.pk
            if ln.rectification:
                assert ln.rectification.branch_id == b.pk
        # and every missing period names its period
        missing = [ln for ln in lines if "未召开" in ln.reason]
        assert missing and all(ln.period_start is not None for ln in missing)


@pytest.mark.django_db
def test_recomputing_gives_the_same_numbers_and_keeps_manual_scores(scheme, committee_user, branch, supervisor):
    meeting(branch, dt.date(2026, 1, 10), ["committee_meeting"], minutes_overdue_at=NOW)
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    run_compute(run=run, now=NOW)
    review = item_score(run, branch, "重大事项经支委会研究决定")
    item_score_enter(item_score=review, points="0.5", comment="民主评议未按程序开展", user=supervisor, now=NOW)
    first = snapshot(run)

    run_compute(run=run, now=NOW + dt.timedelta(hours=1))

    assert snapshot(run) == first
    kept = ItemScore.objects.get(pk=review.pk)
    assert (kept.points, kept.manual_points, kept.comment, kept.entered_by) == (
        Decimal("0.5"),
        Decimal("0.5"),
        "民主评议未按程序开展",
        supervisor,
    )
    assert Deduction.objects.get(item_score=kept).reason == "人工评分：民主评议未按程序开展 −1.5"


@pytest.mark.django_db
def test_a_recompute_picks_up_the_meetings_entered_since(scheme, committee_user):
    idle = BranchFactory()
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    run_compute(run=run, now=NOW)
    assert score_of(run, idle).total == Decimal("90")  # 未录入: the manual 重大事项 item (2) counts 0 until entered
    kept = set(ItemScore.objects.filter(branch_score__run=run).values_list("pk", flat=True))

    full_quarter(idle)
    run_compute(run=run, now=NOW)

    assert score_of(run, idle).total == Decimal("98")
    assert list(Deduction.objects.filter(item_score__branch_score__run=run).values_list("reason", flat=True)) == [
        "未录入：人工评分项尚未评分，暂计 0 分"
    ]
    assert set(ItemScore.objects.filter(branch_score__run=run).values_list("pk", flat=True)) == kept


@pytest.mark.django_db
def test_recomputing_unchanged_records_costs_the_same_queries_for_six_branches_as_for_three(
    scheme, committee_user, django_assert_num_queries
):
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    branches = [BranchFactory() for _ in range(3)]
    run_compute(run=run, now=NOW)
    # the run (locked), branches, its branch scores, item scores, lines, the previous run, the
    # engine's 14 (a quarterly run: no 书记 lesson queries; the notices in one, policy included),
    # the compliance rollup's closed periods (1), the members' participation (9, with the study rule) and their
    # confirmed 民主评议 grades (1), the update of the time, and the savepoint around it:
    # nothing else is written
    with django_assert_num_queries(34):
        run_compute(run=run, now=NOW)

    branches += [BranchFactory() for _ in range(3)]
    run_compute(run=run, now=NOW)
    with django_assert_num_queries(34):
        run_compute(run=run, now=NOW)
    assert BranchScore.objects.filter(run=run).count() == len(branches)


@pytest.mark.django_db
def test_only_a_draft_is_recomputed(scheme, committee_user, branch):
    run = publishable(run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW), committee_user)
    before = snapshot(run)

    with pytest.raises(ValidationError, match="只有草稿状态的考核可以重新计算"):
        run_compute(run=run, now=NOW)
    assert snapshot(run) == before


# --- Manual scores ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("points", "comment", "field", "message"),
    [
        ("2.5", "超出分值", "points", "得分不能超过该项目的分值 2 分。"),
        ("-1", "负分", "points", "得分不能为负数。"),
        ("abc", "不是数字", "points", "请输入数字。"),
        ("1", "   ", "comment", "请填写评分说明。"),
    ],
)
def test_a_manual_score_is_refused_outside_its_range_or_without_a_comment(
    scheme, committee_user, branch, supervisor, points, comment, field, message
):
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    run_compute(run=run, now=NOW)
    target = item_score(run, branch, "重大事项经支委会研究决定")

    with pytest.raises(ValidationError) as refused:
        item_score_enter(item_score=target, points=points, comment=comment, user=supervisor, now=NOW)

    assert refused.value.message_dict[field] == [message]
    unchanged = ItemScore.objects.get(pk=target.pk)
    # Not entered: 0 (未录入), never silently full marks.
    assert (unchanged.points, unchanged.manual_points, unchanged.entered_at) == (Decimal("0"), None, None)


@pytest.mark.django_db
def test_an_automatic_item_cannot_be_scored_by_hand(scheme, committee_user, branch, supervisor):
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    run_compute(run=run, now=NOW)
    target = item_score(run, branch, "支部委员会按月召开")

    with pytest.raises(ValidationError, match="自动计算"):
        item_score_enter(item_score=target, points="15", comment="手工改分", user=supervisor, now=NOW)
    assert ItemScore.objects.get(pk=target.pk).points == Decimal("12")


@pytest.mark.django_db
def test_a_published_run_refuses_manual_scores(scheme, committee_user, branch, supervisor):
    full_quarter(branch)
    run = publishable(run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW), committee_user)
    run_publish(run=run, user=committee_user, now=NOW, confirmed=True)
    target = item_score(run, branch, "重大事项经支委会研究决定")

    with pytest.raises(ValidationError, match="该考核已发布，不能再修改"):
        item_score_enter(item_score=target, points="1", comment="补录", user=supervisor, now=NOW)
    assert ItemScore.objects.get(pk=target.pk).points == Decimal("0")  # 未录入 when published


@pytest.mark.django_db
def test_a_manual_score_updates_the_total_grade_and_ranks_and_keeps_its_history(committee_user, supervisor):
    manual_scheme(2030)
    a, b = BranchFactory(), BranchFactory()
    run = run_create(kind="year", period_start=dt.date(2030, 1, 1), user=committee_user, now=NOW)
    run_compute(run=run, now=NOW)
    assert [score_of(run, a).rank, score_of(run, b).rank] == [1, 1]  # both 0 until scored (未录入)

    item_score_enter(item_score=item_score(run, a, "综合评价"), points="85", comment="初评", user=supervisor, now=NOW)
    later = NOW + dt.timedelta(hours=2)
    entered = item_score_enter(
        item_score=item_score(run, a, "综合评价"), points="88", comment="复核后调整", user=supervisor, now=later
    )

    assert (score_of(run, a).total, score_of(run, a).grade, score_of(run, a).rank) == (Decimal("88"), "良好", 1)
    assert score_of(run, b).rank == 2  # still 未录入: 0
    history = list(entered.history.order_by("history_date").values_list("manual_points", "comment", "history_date"))
    assert history[-2:] == [(Decimal("85"), "初评", NOW), (Decimal("88"), "复核后调整", later)]
    assert list(Deduction.objects.filter(item_score=entered).values_list("reason", flat=True)) == [
        "人工评分：复核后调整 −12"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("points", "grade", "failing"),
    [("90", "优秀", False), ("89.99", "良好", False), ("70", "合格", False), ("69.99", "不合格", True)],
)
def test_a_total_exactly_on_a_band_boundary_takes_that_band(committee_user, supervisor, points, grade, failing):
    manual_scheme(2030)
    branch = BranchFactory()
    run = run_create(kind="year", period_start=dt.date(2030, 1, 1), user=committee_user, now=NOW)
    run_compute(run=run, now=NOW)

    item_score_enter(
        item_score=item_score(run, branch, "综合评价"), points=points, comment="评定", user=supervisor, now=NOW
    )

    score = score_of(run, branch)
    assert (score.total, score.grade, score.is_failing) == (Decimal(points), grade, failing)


@pytest.mark.django_db
def test_a_veto_entered_by_hand_fails_a_branch_with_full_marks(scheme, committee_user, branch, supervisor):
    full_quarter(branch)
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    run_compute(run=run, now=NOW)
    veto = item_score(run, branch, "记录造假")

    with pytest.raises(ValidationError, match="不能超过该项目的分值 0 分"):
        item_score_enter(item_score=veto, points="1", comment="x", user=supervisor, now=NOW, veto_triggered=True)
    item_score_enter(
        item_score=veto, points="0", comment="一月支委会记录系补写", user=supervisor, now=NOW, veto_triggered=True
    )

    score = score_of(run, branch)
    # 98: the manual 重大事项 item is 未录入
    assert (score.total, score.vetoed, score.grade, score.is_failing) == (Decimal("98"), True, "不合格", True)
    # and the veto survives a recompute
    run_compute(run=run, now=NOW)
    assert score_of(run, branch).vetoed is True


@pytest.mark.django_db
def test_ties_share_a_rank_and_the_next_one_skips(committee_user, supervisor):
    manual_scheme(2030)
    branches = [BranchFactory(sort_order=n) for n in range(4)]
    run = run_create(kind="year", period_start=dt.date(2030, 1, 1), user=committee_user, now=NOW)
    run_compute(run=run, now=NOW)

    for b, points in zip(branches, ["95", "90", "90", "80"], strict=True):
        item_score_enter(
            item_score=item_score(run, b, "综合评价"), points=points, comment="评定", user=supervisor, now=NOW
        )

    assert [score_of(run, b).rank for b in branches] == [1, 2, 2, 4]


# --- Review and publish ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_run_moves_draft_review_draft_review_published_and_refuses_steps_out_of_order(scheme, committee_user):
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    with pytest.raises(ValidationError, match="请先计算考核结果"):
        run_submit_for_review(run=run, user=committee_user, now=NOW, confirmed=True)
    with pytest.raises(ValidationError, match="不在委员会审核中"):
        run_publish(run=run, user=committee_user, now=NOW, confirmed=True)

    run = publishable(run, committee_user)
    with pytest.raises(ValidationError, match="已提交委员会审核"):
        run_submit_for_review(run=run, user=committee_user, now=NOW, confirmed=True)
    run = run_return_to_draft(run=run, user=committee_user, now=NOW)
    assert run.status == "draft"
    run = run_submit_for_review(run=run, user=committee_user, now=NOW, confirmed=True)
    run = run_publish(run=run, user=committee_user, now=NOW, confirmed=True)

    assert (run.status, run.published_at, run.published_by, run.is_locked) == ("published", NOW, committee_user, True)
    with pytest.raises(ValidationError, match="已发布"):
        run_return_to_draft(run=run, user=committee_user, now=NOW)
    assert list(run.history.order_by("history_id").values_list("status", flat=True)) == [
        "draft",
        "review",
        "draft",
        "review",
        "published",
    ]


@pytest.fixture
def failing_run(scheme, committee_user, branch, secretary, other_branch):
    """Q1 2026 published: ``branch`` (one group) held nothing and failed a veto; ``other_branch`` held everything."""
    full_quarter(other_branch)
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    run_compute(run=run, now=NOW)
    item_score_enter(
        item_score=item_score(run, branch, "记录造假"),
        points="0",
        comment="主题党日照片重复使用",
        user=committee_user,
        now=NOW,
        veto_triggered=True,
    )
    run_submit_for_review(run=run, user=committee_user, now=NOW, confirmed=True)
    return run_publish(run=run, user=committee_user, now=NOW, confirmed=True)


@pytest.mark.django_db
def test_publishing_opens_a_rectification_for_each_failing_branch_owned_by_its_secretary(
    failing_run, branch, secretary, other_branch
):
    score = score_of(failing_run, branch)
    rectification = score.rectification

    assert rectification is not None
    assert (rectification.owner, rectification.status, rectification.branch) == (secretary, "open", branch)
    # Within one calendar month: published 8 April, due at the end of 8 May (was 30 days from the minute).
    assert rectification.due_at == dt.datetime(2026, 5, 9, 0, 0, tzinfo=SHANGHAI)
    assert (rectification.finding.category, rectification.finding.severity) == ("assessment", "serious")
    assert rectification.finding.source_key == f"assessment:{failing_run.pk}:{branch.pk}"
    assert score_of(failing_run, other_branch).rectification is None
    told = Notification.objects.filter(
        recipient=secretary, dedupe_key=f"assessment:{failing_run.pk}:{branch.pk}:failing", channel="inbox"
    ).get()
    assert "请于 2026年5月8日 24:00 前完成整改" in told.body and "得分 87 分" in told.body


@pytest.mark.django_db
def test_publishing_posts_one_circular_naming_the_failing_branches_in_the_standard_layout(
    failing_run, branch, other_branch
):
    notice = Run.objects.get(pk=failing_run.pk).notice

    assert (notice.kind, notice.organization, notice.title) == ("circular", None, "关于2026年第一季度考核结果的通报")
    body = notice.body
    assert body.index("一、总体情况") < body.index("二、存在问题") < body.index("三、整改要求")
    problems = body[body.index("二、存在问题") : body.index("三、整改要求")]
    # 8 meetings of the branch and 3 months of its group's meetings missing: 100 − 11, and the
    # manual 重大事项 item not entered (未录入): − 2
    assert (
        f"1. {branch.name}，得分 87 分，等次不合格；触发一票否决；主要失分：会议开展失 11 分、组织建设失 2 分。"
        in problems
    )
    assert other_branch.name not in problems
    assert "不合格 1 个" in body and "优秀 1 个" in body
    assert "须于 2026年5月8日24时前完成整改" in body


@pytest.mark.django_db
def test_publishing_twice_opens_no_second_rectification_or_notice(failing_run, committee_user):
    counts = (Finding.objects.count(), Rectification.objects.count(), Announcement.objects.count())
    notifications = Notification.objects.count()

    with pytest.raises(ValidationError, match="该考核已发布"):
        run_publish(run=failing_run, user=committee_user, now=NOW + dt.timedelta(minutes=1))

    assert (Finding.objects.count(), Rectification.objects.count(), Announcement.objects.count()) == counts == (1, 1, 1)
    assert Notification.objects.count() == notifications


@pytest.mark.django_db
def test_the_recheck_is_written_into_the_notice_once_the_rectification_is_verified(
    failing_run, branch, secretary, supervisor
):
    rectification = score_of(failing_run, branch).rectification
    assert notices_recheck(now=NOW) == 0  # not verified yet

    later = NOW + dt.timedelta(days=20)
    rectification_submit(
        rectification=rectification, measures="重新组织主题党日，照片当场上传", user=secretary, now=later
    )
    rectification_verify(rectification=rectification, user=supervisor, now=later)

    assert notices_recheck(now=later + dt.timedelta(hours=1)) == 1
    assert notices_recheck(now=later + dt.timedelta(hours=2)) == 0
    assert recheck_notices.apply().get() == 0

    body = Run.objects.get(pk=failing_run.pk).notice.body
    assert body.count("四、回头看") == 1
    assert body.endswith(f"{branch.name}：整改已于 2026年4月28日经督导组验收通过，回头看确认问题已整改到位。")
    assert score_of(failing_run, branch).recheck_recorded_at == later + dt.timedelta(hours=1)


@pytest.mark.django_db
def test_the_rank_change_compares_with_the_previous_published_run_of_the_same_kind(committee_user, supervisor):
    manual_scheme(2030)
    a, b = BranchFactory(), BranchFactory()
    first = run_create(kind="quarter", period_start=dt.date(2030, 1, 1), user=committee_user, now=NOW)
    run_compute(run=first, now=NOW)
    for branch, points in ((a, "95"), (b, "90")):
        item_score_enter(
            item_score=item_score(first, branch, "综合评价"), points=points, comment="一季度", user=supervisor, now=NOW
        )
    run_submit_for_review(run=first, user=committee_user, now=NOW, confirmed=True)
    run_publish(run=first, user=committee_user, now=NOW, confirmed=True)
    # an annual run in between is another kind: not compared with
    run_compute(run=run_create(kind="year", period_start=dt.date(2030, 1, 1), user=committee_user, now=NOW), now=NOW)

    second = run_create(kind="quarter", period_start=dt.date(2030, 4, 1), user=committee_user, now=NOW)
    run_compute(run=second, now=NOW)
    for branch, points in ((a, "85"), (b, "92")):
        item_score_enter(
            item_score=item_score(second, branch, "综合评价"), points=points, comment="二季度", user=supervisor, now=NOW
        )
    run_compute(run=second, now=NOW)

    moved_up, moved_down = score_of(second, b), score_of(second, a)
    assert (moved_up.rank, moved_up.previous_rank, moved_up.previous_total, moved_up.rank_change) == (
        1,
        2,
        Decimal("90"),
        1,
    )
    assert (moved_down.rank, moved_down.previous_rank, moved_down.rank_change) == (2, 1, -1)


@pytest.mark.django_db
def test_a_branch_closed_after_a_computation_leaves_the_run_on_recompute(scheme, committee_user, branch, other_branch):
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    run_compute(run=run, now=NOW)
    Organization.objects.filter(pk=other_branch.pk).update(is_active=False)

    run_compute(run=run, now=NOW)

    assert list(BranchScore.objects.filter(run=run).values_list("branch", flat=True)) == [branch.pk]


# --- Warnings before submitting or publishing -------------------------------------------------------


@pytest.mark.django_db
def test_a_run_whose_period_is_still_running_warns_until_its_last_minute(scheme, committee_user):
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    last_minute = dt.datetime(2026, 3, 31, 23, 59, tzinfo=SHANGHAI)
    midnight = dt.datetime(2026, 4, 1, 0, 0, tzinfo=SHANGHAI)

    assert run_warnings(run=run, now=last_minute) == ["考核期间尚未结束（2026-03-31 结束），未到期的会议尚未计入。"]
    assert run_warnings(run=run, now=midnight) == []  # no branch scores yet: nothing unscored


@pytest.mark.django_db
def test_submitting_or_publishing_with_unscored_branches_needs_the_confirmation(
    scheme, committee_user, branch, supervisor
):
    full_quarter(branch)
    run = run_create(kind="quarter", period_start=Q1, user=committee_user, now=NOW)
    run_compute(run=run, now=NOW)
    assert run_warnings(run=run, now=NOW) == [f"{branch.name}有人工评分项未录入（暂计 0 分）。"]

    with pytest.raises(ValidationError) as refused:
        run_submit_for_review(run=run, user=committee_user, now=NOW)
    assert refused.value.code == "needs_confirmation"
    assert Run.objects.get(pk=run.pk).status == Run.Status.DRAFT

    run_submit_for_review(run=run, user=committee_user, now=NOW, confirmed=True)
    with pytest.raises(ValidationError):
        run_publish(run=run, user=committee_user, now=NOW)
    assert Run.objects.get(pk=run.pk).status == Run.Status.REVIEW

    # Once every manual item is entered, nothing to confirm.
    item_score_enter(
        item_score=item_score(run, branch, "重大事项经支委会研究决定"),
        points="2",
        comment="研究记录齐全",
        user=supervisor,
        now=NOW,
    )
    assert run_warnings(run=run, now=NOW) == []
    run_publish(run=run, user=committee_user, now=NOW)
    assert Run.objects.get(pk=run.pk).status == Run.Status.PUBLISHED
