"""Rules that were only text (issue 9, rule 13), at their boundaries: the 书记's yearly 党课, the 主题党日
attendance target, 民主评议 / 组织生活会 not held, grade bands per run kind."""

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps

from assessment.defaults import load_default_scheme
from assessment.models import GradeBand, Item
from assessment.scoring import compute_scores, grade_for
from meetings.models import Attendance
from org.models import Membership, Post
from tests.factories import MemberFactory

from .test_scoring import END, NOW, START, full_marks_year, meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme(db):
    return load_default_scheme(apps, 2026)


def points(scheme, branch, name, *, now=NOW, kind="year"):
    scores = compute_scores(scheme=scheme, kind=kind, branches=[branch], start=START, end=END, now=now)
    item = Item.objects.get(scheme=scheme, name=name)
    return scores.for_branch(branch.pk).item(item.pk)


# --- The 书记 lectures a 党课 once a year -------------------------------------------------------------


def test_a_lesson_by_the_secretary_of_the_lesson_date_counts_even_if_he_left_later(scheme, branch):
    old = MemberFactory(name="前任书记")
    new = MemberFactory(name="现任书记")
    Post.objects.create(
        member=old, organization=branch, role=Post.Role.SECRETARY, started_on=dt.date(2020, 1, 1),
        ended_on=dt.date(2026, 6, 1),
    )  # fmt: skip
    Post.objects.create(member=new, organization=branch, role=Post.Role.SECRETARY, started_on=dt.date(2026, 6, 1))
    meeting(branch, dt.date(2026, 5, 31), ["party_lesson"], lecturer=old)

    assert points(scheme, branch, "书记讲党课").points == Decimal("2")


def test_a_lesson_given_the_day_after_the_secretary_left_does_not_count(scheme, branch):
    old = MemberFactory(name="前任书记")
    Post.objects.create(
        member=old, organization=branch, role=Post.Role.SECRETARY, started_on=dt.date(2020, 1, 1),
        ended_on=dt.date(2026, 6, 1),
    )  # fmt: skip
    meeting(branch, dt.date(2026, 6, 1), ["party_lesson"], lecturer=old)

    result = points(scheme, branch, "书记讲党课")
    assert result.points == Decimal("0")
    assert [ln.reason for ln in result.lines] == ["2026 年支部书记未讲党课 −2"]


def test_a_lesson_by_another_member_does_not_count_for_the_secretary(scheme, branch):
    secretary = MemberFactory()
    Post.objects.create(member=secretary, organization=branch, role=Post.Role.SECRETARY, started_on=dt.date(2020, 1, 1))
    meeting(branch, dt.date(2026, 3, 15), ["party_lesson"], lecturer=MemberFactory())

    assert points(scheme, branch, "书记讲党课").points == Decimal("0")


def test_the_secretary_lesson_is_judged_in_annual_runs_only_and_not_before_the_year_ends(scheme, branch):
    assert points(scheme, branch, "书记讲党课", kind="quarter").points == Decimal("2")
    assert points(scheme, branch, "书记讲党课", now=dt.datetime(2026, 12, 31, 23, 59, tzinfo=NOW.tzinfo)).lines == []
    assert points(scheme, branch, "书记讲党课", now=dt.datetime(2027, 1, 1, 0, 0, tzinfo=NOW.tzinfo)).points == 0


# --- The 主题党日 attendance target (80 %) -----------------------------------------------------------


def theme_day_with(branch, present: int, expected: int):
    m = meeting(branch, dt.date(2026, 4, 25), ["theme_day"])
    for n in range(expected):
        member = MemberFactory()
        Membership.objects.create(member=member, organization=branch, started_on=dt.date(2020, 1, 1))
        Attendance.objects.create(meeting=m, member=member, status="present" if n < present else "absent")
    return m


def test_a_theme_day_at_exactly_80_percent_meets_its_target(scheme, branch):
    theme_day_with(branch, 4, 5)

    assert points(scheme, branch, "主题党日出勤率达标").lines == []


def test_a_theme_day_at_79_point_something_percent_misses_it(scheme, branch):
    m = theme_day_with(branch, 19, 24)  # 79.17 %

    result = points(scheme, branch, "主题党日出勤率达标")
    assert result.points == Decimal("2.5")
    assert [(ln.reason, ln.meeting_id) for ln in result.lines] == [
        ("2026-04-25 主题党日 出勤率 79.2%（实到 19 / 应到 24），低于目标 80% −0.5", m.pk)
    ]


# --- 民主评议 / 组织生活会 not held cost their points -------------------------------------------------


def test_a_year_without_a_democratic_review_or_an_org_life_meeting_costs_their_points(scheme, branch):
    assert points(scheme, branch, "民主评议党员").points == Decimal("0")
    assert points(scheme, branch, "组织生活会").points == Decimal("0")


def test_a_review_held_on_31_december_keeps_its_points_one_made_up_in_january_loses_half(scheme, branch):
    meeting(branch, dt.date(2026, 12, 31), ["democratic_review"])
    meeting(branch, dt.date(2027, 1, 5), ["org_life"], counts_for=dt.date(2026, 12, 31))

    assert points(scheme, branch, "民主评议党员").points == Decimal("2")
    assert points(scheme, branch, "组织生活会").points == Decimal("1")


def test_a_full_year_scores_the_new_automatic_items_in_full(scheme, branch):
    full_marks_year(branch)

    for name in ("书记讲党课", "民主评议党员", "组织生活会", "主题党日出勤率达标"):
        assert points(scheme, branch, name).points == Item.objects.get(scheme=scheme, name=name).max_points


# --- Grade bands per run kind ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "total", "grade", "failing"),
    [
        ("year", "90", "优秀", False),
        ("year", "89.99", "良好", False),
        ("year", "70", "一般", False),
        ("year", "69.99", "较差", True),
        ("quarter", "97", "优秀", False),
        ("quarter", "96.99", "合格", False),
        ("quarter", "96.5", "合格", False),  # not rounded up to 97
        ("quarter", "90", "合格", False),
        ("quarter", "89.99", "基本合格", False),
        ("quarter", "86", "基本合格", False),
        ("quarter", "85.99", "不合格", True),
        ("quarter", "85", "不合格", True),
    ],
)
def test_each_run_kind_has_its_own_bands_taken_at_the_exact_total(scheme, kind, total, grade, failing):
    bands = list(GradeBand.objects.filter(scheme=scheme, run_kind=kind))

    assert grade_for(Decimal(total), bands, vetoed=False) == (grade, failing)
