"""The scoring engine: a branch scored by hand against domain.md's tables, floors, grades, ranks, query counts."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps

from assessment.defaults import load_default_scheme
from assessment.models import GradeBand, Item, Scheme
from assessment.scoring import Manual, compute_scores, grade_for, ranks
from meetings.models import Attendance, CadenceRule, Meeting
from org.models import Membership, Post
from supervision.models import Finding, Flag, Rectification, Review
from tests.factories import BranchFactory, GroupFactory, MeetingFactory, MemberFactory, staff_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Every period of 2026 is over: nothing is pending.
NOW = dt.datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI)
START, END = dt.date(2026, 1, 1), dt.date(2027, 1, 1)


def at(day: dt.date, hour: int = 15) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


def meeting(branch, day, types, *, group=None, counts_for=None, status=Meeting.Status.APPROVED, **fields):
    """A meeting held on ``day`` (15:00 Beijing time), noticed 4 days ahead and its minutes submitted the next day
    unless told otherwise."""
    start = at(day)
    end = start + dt.timedelta(hours=1, minutes=30)
    fields.setdefault("submitted_at", end + dt.timedelta(days=1))
    # Noticed in time, a 党员大会 included (3 days ahead): a missing notice costs points (test_notice_scoring).
    fields.setdefault("notice_published_at", start - dt.timedelta(days=4))
    return MeetingFactory(
        branch=branch,
        group=group,
        types=types,
        status=status,
        planned_start=start,
        planned_end=end,
        actual_start=start,
        actual_end=end,
        counts_for=counts_for or day,
        minutes_entered_at=end,
        **fields,
    )


@pytest.fixture
def scheme(db):
    # Idempotent: the migration's rows may have been flushed by a transactional test.
    return load_default_scheme(apps, 2026)


def item(scheme, name) -> Item:
    return scheme.items.get(name=name)


def full_marks_year(branch, group=None):
    """Every required meeting of 2026 on time: the default scheme's automatic items lose nothing.

    The 书记 lectures March's 党课; the year's 组织生活会 and 民主评议党员 are held in December.
    """
    secretary = MemberFactory(name="全勤书记")
    Post.objects.create(member=secretary, organization=branch, role=Post.Role.SECRETARY, started_on=dt.date(2020, 1, 1))
    meetings = [meeting(branch, dt.date(2026, 12, 18), ["org_life", "democratic_review"])]
    for month in range(1, 13):
        meetings.append(meeting(branch, dt.date(2026, month, 10), ["committee_meeting"]))
        meetings.append(meeting(branch, dt.date(2026, month, 25), ["theme_day"]))
        if group is not None:
            meetings.append(meeting(branch, dt.date(2026, month, 12), ["group_meeting"], group=group))
        if month % 3 == 0:
            meetings.append(
                meeting(
                    branch,
                    dt.date(2026, month, 15),
                    ["general_meeting", "party_lesson"],
                    lecturer=secretary if month == 3 else None,
                )
            )
    return meetings


# --- A branch's year, scored by hand -------------------------------------------------------


@pytest.mark.django_db
def test_a_branch_scored_by_hand_against_the_default_table_equals_the_computed_score(scheme, branch, group):
    supervisor = staff_user(username="dudao", role="work_dept")
    other = BranchFactory(name="掘进二队党支部")
    # 支委会: every month on the 10th except March (missing); May's held on 2 June (补开).
    committee = {}
    for month in range(1, 13):
        if month == 3:
            continue
        if month == 5:
            committee[5] = meeting(branch, dt.date(2026, 6, 2), ["committee_meeting"], counts_for=dt.date(2026, 5, 20))
        elif month == 7:
            # the reminders sweep flagged these minutes overdue
            committee[7] = meeting(branch, dt.date(2026, 7, 10), ["committee_meeting"], minutes_overdue_at=NOW)
        else:
            committee[month] = meeting(branch, dt.date(2026, month, 10), ["committee_meeting"])
    # 党小组会 of the one group: February and August missing.
    for month in range(1, 13):
        if month not in (2, 8):
            meeting(branch, dt.date(2026, month, 12), ["group_meeting"], group=group)
    # 党员大会: Q2 missing. 党课: every quarter, on time.
    for day in (dt.date(2026, 3, 15), dt.date(2026, 9, 15), dt.date(2026, 12, 15)):
        meeting(branch, day, ["general_meeting"])
    for day in (dt.date(2026, 2, 20), dt.date(2026, 5, 20), dt.date(2026, 8, 20), dt.date(2026, 11, 20)):
        meeting(branch, day, ["party_lesson"])
    # 主题党日: October's held on 3 November (补开); June's returned, then resubmitted 6 days on;
    # August's minutes submitted 5 days after the meeting (due within 3).
    theme = {}
    for month in range(1, 13):
        if month == 10:
            theme[10] = meeting(branch, dt.date(2026, 11, 3), ["theme_day"], counts_for=dt.date(2026, 10, 25))
            continue
        day = dt.date(2026, month, 25)
        late = {6: 6, 8: 5}.get(month)
        fields = {"submitted_at": at(day) + dt.timedelta(days=late)} if late else {}
        theme[month] = meeting(branch, day, ["theme_day"], **fields)
    # Two records returned in 2026, one in 2025 (another period).
    Review.objects.create(
        meeting=committee[4], action="return", comment="缺少发言要点", by=supervisor, at=at(dt.date(2026, 4, 12))
    )
    Review.objects.create(
        meeting=theme[6], action="return", comment="照片与记录不符", by=supervisor, at=at(dt.date(2026, 6, 27))
    )
    old = meeting(branch, dt.date(2025, 12, 10), ["committee_meeting"])
    Review.objects.create(meeting=old, action="return", comment="记录不全", by=supervisor, at=at(dt.date(2025, 12, 12)))
    # Attendance: 4 members at 5 meetings, 17 of 20 attended (85.0%); an unrecorded row and 2025 do not count.
    members = [MemberFactory() for _ in range(4)]
    for m in members:
        Membership.objects.create(member=m, organization=branch, started_on=dt.date(2020, 1, 1))
    statuses = ["present"] * 15 + ["late"] * 2 + ["leave"] * 2 + ["absent"]
    targets = [committee[1], theme[1], theme[2], theme[3], theme[4]]
    for n, status in enumerate(statuses):
        Attendance.objects.create(
            meeting=targets[n // 4],
            member=members[n % 4],
            status=status,
            leave_reason="井下当班" if status == "leave" else "",
        )
    Attendance.objects.create(meeting=theme[5], member=members[0], status="")
    Attendance.objects.create(meeting=old, member=members[0], status="absent")
    # Flags: one confirmed (counts), one open and one dismissed (do not).
    confirmed = Flag.objects.create(
        meeting=committee[2], kind="duplicate_photo", key="p1", message="照片重复", status="confirmed", created_at=NOW
    )
    Flag.objects.create(meeting=committee[4], kind="gps_far", key="g1", message="地点不符", created_at=NOW)
    Flag.objects.create(
        meeting=committee[6],
        kind="late_entry",
        key="l1",
        message="补录",
        status="dismissed",
        decision_reason="系统故障",
        created_at=NOW,
    )
    # Findings of 2026: a moderate one (its rectification went overdue in August) and a minor one;
    # an assessment finding and one of 2025 do not count.
    moderate = Finding.objects.create(
        branch=branch, category="records", severity="moderate", description="支委会记录缺少表决结果",
        raised_by=supervisor, raised_at=at(dt.date(2026, 7, 1)),
    )  # fmt: skip
    overdue = Rectification.objects.create(
        finding=moderate, branch=branch, status="overdue", due_at=at(dt.date(2026, 7, 31)),
        overdue_at=at(dt.date(2026, 8, 1)), created_at=at(dt.date(2026, 7, 1)),
    )  # fmt: skip
    minor = Finding.objects.create(
        branch=branch, category="attendance", severity="minor", description="请假手续不全",
        raised_by=supervisor, raised_at=at(dt.date(2026, 9, 1)),
    )  # fmt: skip
    Rectification.objects.create(
        finding=minor, branch=branch, status="verified", due_at=at(dt.date(2026, 10, 1)),
        verified_at=at(dt.date(2026, 9, 20)), created_at=at(dt.date(2026, 9, 1)),
    )  # fmt: skip
    Finding.objects.create(
        branch=branch, category="assessment", severity="serious", description="2026年第一季度考核不合格",
        raised_by=supervisor, raised_at=at(dt.date(2026, 4, 10)),
    )  # fmt: skip
    Finding.objects.create(
        branch=branch, category="records", severity="serious", description="去年的问题",
        raised_by=supervisor, raised_at=at(dt.date(2025, 11, 1)),
    )  # fmt: skip
    # Another branch's records never count against this one.
    other_meeting = meeting(other, dt.date(2026, 3, 10), ["committee_meeting"], minutes_overdue_at=NOW)
    Review.objects.create(meeting=other_meeting, action="return", comment="不全", by=supervisor, at=NOW)

    result = compute_scores(
        scheme=scheme, kind="year", branches=[branch, other], start=START, end=END, now=NOW
    ).for_branch(branch.pk)

    # By hand, item by item (the default scheme, domain.md's −1 per missed meeting, −0.5 per 补开):
    #   支部党员大会按季度召开  10 − 1 (Q2 missing)                                 = 9
    #   支部委员会按月召开      15 − 1 (March) − 0.5 (May 补开)                     = 13.5
    #   党小组会按月召开        13 − 1 (Feb) − 1 (Aug)                              = 11
    #   党课按季度开展          8                                                   = 8
    #   主题党日按月开展        7 − 0.5 (October 补开)                              = 6.5
    #   书记讲党课              2 − 2 (no lesson lectured by the 书记)              = 0
    #   会议记录审核通过        10 − 1 × 2 returns                                  = 8
    #   会议记录按时提交        5 − 0.5 (July flagged) − 0.5 (August, 5 days)       = 4
    #                           (June's late resubmission follows a return: not counted twice)
    #   党员出勤率              10 − (90 − 85) × 0.5                                = 7.5
    #   主题党日出勤率达标      3 − 0.5 × 2 (Apr 1/4, May 0/1 unrecorded, under 80%) = 2
    #   材料真实                3 − 1 (one confirmed flag)                          = 2
    #   督导发现问题            4 − 1 (moderate) − 0.5 (minor)                      = 2.5
    #   整改按期完成            4 − 2 (one overdue)                                 = 2
    #   民主评议党员 2 − 2, 组织生活会 2 − 2 (neither held in 2026)                = 0
    #   重大事项经支委会研究决定 (manual, not yet entered: 未录入, 0 until scored)  = 0
    #   创新创优 (bonus) 0, 记录造假 (veto) not triggered
    #   total = 9 + 13.5 + 11 + 8 + 6.5 + 0 + 8 + 4 + 7.5 + 2 + 2 + 2.5 + 2 + 0    = 76 → 一般
    expected_points = {
        "支部党员大会按季度召开": "9",
        "支部委员会按月召开": "13.5",
        "党小组会按月召开": "11",
        "党课按季度开展": "8",
        "主题党日按月开展": "6.5",
        "书记讲党课": "0",
        "主题党日出勤率达标": "2",
        "会议记录审核通过": "8",
        "会议记录按时提交": "4",
        "党员出勤率": "7.5",
        "材料真实": "2",
        "督导发现问题": "2.5",
        "整改按期完成": "2",
        "民主评议党员": "0",
        "组织生活会": "0",
        "重大事项经支委会研究决定": "0",
        "创新创优": "0",
        "记录造假": "0",
    }
    assert {r.item.name: r.points for r in result.items} == {k: Decimal(v) for k, v in expected_points.items()}
    assert result.total == Decimal("76")
    assert (result.grade, result.is_failing, result.vetoed) == ("一般", False, False)

    lines = sorted((r.item.name, ln.points, ln.reason) for r in result.items for ln in r.lines)
    assert lines == sorted(
        [
            ("支部党员大会按季度召开", Decimal("1"), "2026年第二季度 支部党员大会 未召开 −1"),
            ("支部委员会按月召开", Decimal("1"), "2026年3月 支部委员会 未召开 −1"),
            ("支部委员会按月召开", Decimal("0.5"), "2026年5月 支部委员会 补开 −0.5"),
            ("党小组会按月召开", Decimal("1"), "2026年2月 综采一队第一党小组 党小组会 未召开 −1"),
            ("党小组会按月召开", Decimal("1"), "2026年8月 综采一队第一党小组 党小组会 未召开 −1"),
            ("主题党日按月开展", Decimal("0.5"), "2026年10月 主题党日 补开 −0.5"),
            ("会议记录审核通过", Decimal("1"), "会议记录被退回：2026-04-10 支部委员会 −1"),
            ("会议记录审核通过", Decimal("1"), "会议记录被退回：2026-06-25 主题党日 −1"),
            ("会议记录按时提交", Decimal("0.5"), "会议记录逾期提交：2026-07-10 支部委员会 −0.5"),
            ("会议记录按时提交", Decimal("0.5"), "会议记录逾期提交：2026-08-25 主题党日 −0.5"),
            ("党员出勤率", Decimal("2.5"), "党员出勤率 85%（出席 17 / 应到 20），低于目标 90% 5 个百分点 −2.5"),
            ("材料真实", Decimal("1"), "材料问题经核实（照片重复使用）：2026-02-10 支部委员会 −1"),
            ("督导发现问题", Decimal("1"), "督导发现问题（一般）：支委会记录缺少表决结果 −1"),
            ("督导发现问题", Decimal("0.5"), "督导发现问题（轻微）：请假手续不全 −0.5"),
            ("整改按期完成", Decimal("2"), "整改逾期（期限 2026-07-31）：支委会记录缺少表决结果 −2"),
            ("书记讲党课", Decimal("2"), "2026 年支部书记未讲党课 −2"),
            (
                "主题党日出勤率达标",
                Decimal("0.5"),
                "2026-04-25 主题党日 出勤率 25%（实到 1 / 应到 4），低于目标 80% −0.5",
            ),
            (
                "主题党日出勤率达标",
                Decimal("0.5"),
                "2026-05-25 主题党日 出勤率 0%（实到 0 / 应到 1），低于目标 80% −0.5",
            ),
            ("民主评议党员", Decimal("2"), "2026年度 民主评议党员 未召开 −2"),
            ("组织生活会", Decimal("2"), "2026年度 组织生活会 未召开 −2"),
            ("重大事项经支委会研究决定", Decimal("2"), "未录入：人工评分项尚未评分，暂计 0 分"),
        ]
    )
    # The lines point at the records behind them.
    by_reason = {ln.reason: ln for r in result.items for ln in r.lines}
    assert by_reason["2026年5月 支部委员会 补开 −0.5"].meeting_id == committee[5].pk
    assert by_reason["2026年3月 支部委员会 未召开 −1"].period_start == dt.date(2026, 3, 1)
    assert by_reason["会议记录被退回：2026-04-10 支部委员会 −1"].meeting_id == committee[4].pk
    assert by_reason["材料问题经核实（照片重复使用）：2026-02-10 支部委员会 −1"].flag_id == confirmed.pk
    assert by_reason["整改逾期（期限 2026-07-31）：支委会记录缺少表决结果 −2"].rectification_id == overdue.pk
    assert by_reason["督导发现问题（一般）：支委会记录缺少表决结果 −1"].finding_id == moderate.pk


@pytest.mark.django_db
def test_the_yangzhuang_table_scores_five_points_less_one_per_missed_meeting_and_never_below_zero():
    """杨庄煤矿: 三会一课 held normally with complete records 5 points, −1 per missed meeting."""
    for rule in CadenceRule.objects.exclude(
        name__in=["支部委员会每月至少1次", "支部党员大会每季度至少1次", "党课每季度至少1次"]
    ):
        rule.is_active = False
        rule.save(update_fields=["is_active"])
    scheme = Scheme.objects.create(year=2031, name="杨庄煤矿目标管理考核")
    Item.objects.create(scheme=scheme, category="三会一课", name="三会一课正常召开", max_points=5, kind="cadence")
    GradeBand.objects.create(scheme=scheme, name="合格", min_score=0)
    careful, careless, absent = (BranchFactory() for _ in range(3))
    year = (dt.date(2031, 1, 1), dt.date(2032, 1, 1))
    # careful: every committee meeting, every quarter's 大会 and 党课 but Q4's 党课 → −1 → 4
    for month in range(1, 13):
        meeting(careful, dt.date(2031, month, 10), ["committee_meeting"])
        if month % 3 == 0:
            meeting(careful, dt.date(2031, month, 15), ["general_meeting"] + (["party_lesson"] if month < 12 else []))
    # careless: committee meetings in January and February only → 10 + 4 + 4 missing → 5 − 18 → floor 0
    for month in (1, 2):
        meeting(careless, dt.date(2031, month, 10), ["committee_meeting"])

    later = dt.datetime(2032, 2, 1, tzinfo=SHANGHAI)
    scores = compute_scores(
        scheme=scheme, kind="year", branches=[careful, careless, absent], start=year[0], end=year[1], now=later
    )

    assert scores.for_branch(careful.pk).total == Decimal("4")
    lost = scores.for_branch(careless.pk).items[0]
    assert lost.points == Decimal("0")  # the floor
    assert lost.deducted == Decimal("18")
    assert len(lost.lines) == 18
    assert scores.for_branch(absent.pk).items[0].deducted == Decimal("20")  # 12 + 4 + 4
    assert scores.for_branch(absent.pk).total == Decimal("0")


@pytest.mark.django_db
def test_every_item_stays_at_or_above_zero_however_many_deductions(scheme, branch):
    supervisor = staff_user(username="dudao", role="work_dept")
    for n in range(8):
        m = meeting(branch, dt.date(2026, 1, 3 + n), ["committee_meeting"], minutes_overdue_at=NOW)
        Review.objects.create(meeting=m, action="return", comment="不全", by=supervisor, at=at(dt.date(2026, 2, 1)))
        Flag.objects.create(
            meeting=m, kind="duplicate_photo", key=f"k{n}", message="重复", status="confirmed", created_at=NOW
        )
    for n in range(11):
        Review.objects.create(
            meeting=m, action="return", comment=f"第{n}次", by=supervisor, at=at(dt.date(2026, 3, 1 + n))
        )

    result = compute_scores(scheme=scheme, kind="year", branches=[branch], start=START, end=END, now=NOW).for_branch(
        branch.pk
    )

    returned = result.item(item(scheme, "会议记录审核通过").pk)
    assert (returned.points, returned.deducted, len(returned.lines)) == (Decimal("0"), Decimal("19"), 19)
    flags = result.item(item(scheme, "材料真实").pk)
    assert (flags.points, flags.deducted) == (Decimal("0"), Decimal("8"))
    assert all(r.points >= 0 for r in result.items)
    assert result.total == sum(r.points for r in result.items)


# --- Grades, vetoes, bonus, ranks ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("total", "grade", "failing"),
    [
        ("100", "优秀", False),
        ("90", "优秀", False),
        ("89.99", "良好", False),
        ("80", "良好", False),
        ("79.99", "一般", False),
        ("70", "一般", False),
        ("69.99", "较差", True),
        ("0", "较差", True),
    ],
)
def test_the_grade_is_the_highest_band_reached_exactly_on_its_boundary(scheme, total, grade, failing):
    bands = list(scheme.bands.filter(run_kind="year"))
    assert grade_for(Decimal(total), bands, vetoed=False) == (grade, failing)


@pytest.mark.django_db
def test_a_triggered_veto_fails_the_branch_whatever_its_total(scheme, branch):
    full_marks_year(branch)
    veto = item(scheme, "记录造假")
    bonus = item(scheme, "创新创优")
    manual = {
        (branch.pk, veto.pk): Manual(points=Decimal("0"), comment="补本子经查实", veto_triggered=True),
        (branch.pk, bonus.pk): Manual(points=Decimal("5"), comment="经验被集团推广"),
    }

    result = compute_scores(scheme=scheme, kind="year", branches=[branch], start=START, end=END, now=NOW, manual=manual)
    scored = result.for_branch(branch.pk)

    # 100 without attendance rows, less the 2 of the manual item not entered (未录入),
    # + 3 of bonus (5 asked, capped at its maximum of 3)
    assert scored.total == Decimal("101")
    assert (scored.vetoed, scored.grade, scored.is_failing) == (True, "较差", True)
    assert [ln.reason for ln in scored.item(veto.pk).lines] == ["一票否决：补本子经查实"]
    assert [(ln.points, ln.reason) for ln in scored.item(bonus.pk).lines] == [
        (Decimal("-3"), "加分：经验被集团推广 +3")
    ]


@pytest.mark.django_db
def test_a_veto_item_not_triggered_leaves_the_grade_to_the_total(scheme, branch):
    full_marks_year(branch)
    veto = item(scheme, "记录造假")
    manual = {(branch.pk, veto.pk): Manual(points=Decimal("0"), comment="核查未发现问题", veto_triggered=False)}

    scored = compute_scores(scheme=scheme, kind="year", branches=[branch], start=START, end=END, now=NOW, manual=manual)

    assert (scored.results[0].vetoed, scored.results[0].grade) == (False, "优秀")


def test_equal_totals_share_a_rank_and_the_next_rank_skips():
    assert ranks({1: Decimal("95"), 2: Decimal("90"), 3: Decimal("90"), 4: Decimal("80"), 5: Decimal("95")}) == {
        1: 1,
        5: 1,
        2: 3,
        3: 3,
        4: 5,
    }


@pytest.mark.django_db
def test_a_vetoed_branch_ranks_after_every_branch_that_can_pass_whatever_its_total():
    totals = {1: Decimal("98"), 2: Decimal("90"), 3: Decimal("85"), 4: Decimal("96")}
    assert ranks(totals, vetoed=[1, 4]) == {2: 1, 3: 2, 1: 3, 4: 4}
    assert ranks(totals) == {1: 1, 4: 2, 2: 3, 3: 4}


def test_branches_with_the_same_total_share_a_rank_in_the_computed_scores(scheme):
    a, b, c = BranchFactory(), BranchFactory(), BranchFactory()
    full_marks_year(a)
    full_marks_year(b)
    # c: one committee meeting short in March
    for m in full_marks_year(c):
        if m.planned_start.month == 3 and m.type_codes() == {"committee_meeting"}:
            m.delete()

    scores = compute_scores(scheme=scheme, kind="year", branches=[a, b, c], start=START, end=END, now=NOW)

    assert [(scores.for_branch(x.pk).total, scores.for_branch(x.pk).rank) for x in (a, b, c)] == [
        # 2 short of 100: the manual item is not entered (未录入)
        (Decimal("98"), 1),
        (Decimal("98"), 1),
        (Decimal("97"), 3),
    ]


@pytest.mark.django_db
def test_periods_not_over_yet_cost_nothing(scheme, branch):
    """Mid-2026, July's and the third quarter's meetings are not missing yet."""
    mid_july = dt.datetime(2026, 7, 15, tzinfo=SHANGHAI)

    scored = compute_scores(
        scheme=scheme, kind="year", branches=[branch], start=START, end=END, now=mid_july
    ).for_branch(branch.pk)

    committee = scored.item(item(scheme, "支部委员会按月召开").pk)
    assert [ln.reason.split(" ")[0] for ln in committee.lines] == [f"2026年{m}月" for m in range(1, 7)]
    general = scored.item(item(scheme, "支部党员大会按季度召开").pk)
    assert len(general.lines) == 2


# --- Queries ----------------------------------------------------------------------------


def _busy_branch(supervisor, n):
    """A branch with a row of every kind the engine reads."""
    branch = BranchFactory()
    group = GroupFactory(parent=branch)
    member = MemberFactory()
    m = meeting(branch, dt.date(2026, 3, 10), ["committee_meeting"], minutes_overdue_at=NOW)
    meeting(branch, dt.date(2026, 4, 10), ["group_meeting"], group=group)
    Attendance.objects.create(meeting=m, member=member, status="absent")
    Review.objects.create(meeting=m, action="return", comment="不全", by=supervisor, at=at(dt.date(2026, 3, 12)))
    Flag.objects.create(
        meeting=m, kind="duplicate_photo", key=f"k{n}", message="重复", status="confirmed", created_at=NOW
    )
    finding = Finding.objects.create(
        branch=branch, category="records", severity="serious", description="记录不实", raised_by=supervisor,
        raised_at=at(dt.date(2026, 5, 1)),
    )  # fmt: skip
    Rectification.objects.create(
        finding=finding, branch=branch, status="overdue", due_at=at(dt.date(2026, 6, 1)),
        overdue_at=at(dt.date(2026, 6, 2)), created_at=at(dt.date(2026, 5, 1)),
    )  # fmt: skip
    return branch


@pytest.mark.django_db
def test_computing_thirty_branches_costs_the_same_queries_as_three(scheme, django_assert_num_queries):
    supervisor = staff_user(username="dudao", role="work_dept")
    branches = [_busy_branch(supervisor, n) for n in range(30)]
    scheme = Scheme.objects.get(pk=scheme.pk)

    # items, their rules' types, bands; compliance: the rollup (empty here), groups, exemptions, meetings; returned;
    # the late minutes (by their stored deadline); attendance; flags; findings; rectifications;
    # the 书记's lessons and the secretary posts; the theme days' attendance against their target;
    # the meetings' notices (MeetingPolicy read in the same query)
    with django_assert_num_queries(17):
        few = compute_scores(scheme=scheme, kind="year", branches=branches[:3], start=START, end=END, now=NOW)
    with django_assert_num_queries(17):
        many = compute_scores(scheme=scheme, kind="year", branches=branches, start=START, end=END, now=NOW)

    assert len(many.results) == 30
    # every kind found its row in every branch
    for result in (few.results[0], many.results[-1]):
        assert {r.item.kind for r in result.items if r.lines} >= {
            "cadence",
            "returned",
            "minutes_late",
            "attendance",
            "flags",
            "findings",
            "rectification_overdue",
        }
