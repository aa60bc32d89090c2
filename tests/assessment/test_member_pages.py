"""The member's page, a member's history and a branch's members in a run: contents, permissions, query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from assessment.models import BranchScore, Deduction, Item, ItemScore, MemberScore, Run
from org.models import StaffRole
from supervision.models import Finding
from tests.conftest import client_for
from tests.factories import (
    AnnouncementFactory,
    MeetingFactory,
    MemberFactory,
    MembershipFactory,
    member_with_login,
    staff_user,
)

from .test_participation import NOW, make_run, make_scheme


def _member_score(run, member, branch, *, points="7.00", absent=1, eligible=False, reason="无故缺席 1 次"):
    return MemberScore.objects.create(
        run=run,
        member=member,
        branch=branch,
        expected=10,
        attended=9,
        late=0,
        on_leave=0,
        absent=absent,
        lessons_given=1,
        points=Decimal(points),
        eligible=eligible,
        ineligible_reason=reason,
    )


def _branch_score(run, branch, *, total, rank, previous_rank=None, grade="良好"):
    return BranchScore.objects.create(
        run=run, branch=branch, total=Decimal(total), grade=grade, rank=rank, previous_rank=previous_rank
    )


def _item(scheme, name="支部委员会按月召开", order=1):
    return Item.objects.create(
        scheme=scheme,
        category="会议开展",
        name=name,
        order=order,
        max_points=Decimal("15"),
        method="auto",
        kind="cadence",
    )


@pytest.fixture
def world(branch, other_branch, member, secretary, other_secretary, supervisor):
    """A published Q1 run and a draft Q2 run, scores of both branches, deductions with records."""
    scheme = make_scheme()
    published = make_run(scheme, status=Run.Status.PUBLISHED, published_at=NOW)
    draft = make_run(scheme, start=dt.date(2026, 4, 1), end=dt.date(2026, 7, 1))
    me = member.member
    _member_score(published, me, branch)
    _member_score(draft, me, branch, points="3.33", reason="草稿中的原因")
    _member_score(published, secretary.member, branch, points="10.00", absent=0, eligible=True, reason="")

    item = _item(scheme)
    own = _branch_score(published, branch, total="88.50", rank=2, previous_rank=4)
    other = _branch_score(published, other_branch, total="95.00", rank=1, grade="优秀")
    own_item = ItemScore.objects.create(branch_score=own, item=item, points=Decimal("13"), deducted=Decimal("2"))
    meeting = MeetingFactory(branch=branch, planned_start=NOW - dt.timedelta(days=60))
    finding = Finding.objects.create(
        branch=branch, category=Finding.Category.RECORDS, description="记录不规范", raised_at=NOW
    )
    Deduction.objects.create(item_score=own_item, points=Decimal("1"), reason="3月会议记录被退回", meeting=meeting)
    Deduction.objects.create(
        item_score=own_item, points=Decimal("1"), reason="督导发现问题：记录不规范", finding=finding
    )
    Deduction.objects.create(item_score=own_item, points=Decimal("-0.5"), reason="加分：经验被全矿推广")
    other_item = ItemScore.objects.create(branch_score=other, item=item, points=Decimal("14"), deducted=Decimal("1"))
    Deduction.objects.create(item_score=other_item, points=Decimal("1"), reason="掘进二队2月支委会未召开")
    AnnouncementFactory(title="关于2026年第一季度考核结果的通报")
    return {"published": published, "draft": draft, "meeting": meeting, "finding": finding, "scheme": scheme}


# --- My participation -----------------------------------------------------------------------------


def test_a_member_sees_their_published_participation_and_not_the_draft(world, member, client):
    page = client_for(client, member).get(reverse("assessment:my_participation")).content.decode()

    assert "2026年第一季度考核" in page
    assert "7.00" in page
    assert "无故缺席 1 次" in page
    assert "2026年第二季度考核" not in page
    assert "3.33" not in page
    assert "草稿中的原因" not in page


def test_a_member_sees_their_branchs_score_grade_rank_and_deductions_but_not_another_branchs(world, member, client):
    page = client_for(client, member).get(reverse("assessment:my_participation")).content.decode()

    assert "88.50" in page
    assert "良好" in page
    assert "第 2 名" in page
    assert "/ 2" in page
    assert "比上期上升 2 名" in page
    assert "−1.00 3月会议记录被退回" in page
    assert "+0.50 加分：经验被全矿推广" in page
    assert "掘进二队2月支委会未召开" not in page
    assert "95.00" not in page


def test_a_deduction_links_to_its_record_only_where_the_member_may_open_it(world, member, secretary, client):
    meeting_url = reverse("meetings:meeting_detail", args=[world["meeting"].pk])
    finding_url = reverse("supervision:finding_detail", args=[world["finding"].pk])

    as_member = client_for(client, member).get(reverse("assessment:my_participation")).content.decode()
    assert f'href="{meeting_url}"' in as_member
    assert f'href="{finding_url}"' not in as_member  # findings are for the branch committee
    client.logout()
    as_secretary = client_for(client, secretary).get(reverse("assessment:my_participation")).content.decode()
    assert f'href="{meeting_url}"' in as_secretary
    assert f'href="{finding_url}"' in as_secretary


def test_the_page_lists_the_latest_announcements(world, member, client):
    page = client_for(client, member).get(reverse("assessment:my_participation")).content.decode()
    assert "关于2026年第一季度考核结果的通报" in page


def test_a_branch_without_a_published_result_says_so(db, member, client):
    page = client_for(client, member).get(reverse("assessment:my_participation")).content.decode()
    assert "所在支部暂无已发布的考核结果。" in page
    assert "暂无已发布的考核。" in page


def test_a_login_without_a_member_sees_an_explanation(world, supervisor, client):
    response = client_for(client, supervisor).get(reverse("assessment:my_participation"))
    assert response.status_code == 200
    assert "当前账号未关联党员信息" in response.content.decode()


def test_anonymous_is_sent_to_sign_in_from_every_page(world, branch, member, client):
    for url in (
        reverse("assessment:my_participation"),
        reverse("assessment:member_participation", args=[member.member.pk]),
        reverse("assessment:branch_participation", args=[world["published"].pk, branch.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# My page: session read and save (2 + savepoint pair), user, scope (staff roles, member, memberships,
# posts), history, branch score, its items, their deductions, branch count, announcements, the
# navbar's permission checks and inbox badge.
MY_PAGE_QUERIES = 18  # + the member's 补学 (one query, shown beside the figures) + the study rule (one)


@pytest.mark.parametrize("runs", [1, 4])
def test_my_page_costs_the_same_queries_whatever_the_runs_and_deductions(
    db, branch, member, client, django_assert_num_queries, runs
):
    scheme = make_scheme()
    item = _item(scheme)
    for i in range(runs):
        run = make_run(
            scheme,
            start=dt.date(2025 - i, 1, 1),
            end=dt.date(2025 - i, 4, 1),
            status=Run.Status.PUBLISHED,
            published_at=NOW - dt.timedelta(days=365 * i),
        )
        _member_score(run, member.member, branch)
        score = ItemScore.objects.create(
            branch_score=_branch_score(run, branch, total="90", rank=1), item=item, points=Decimal("10")
        )
        for n in range(runs * 3):
            meeting = MeetingFactory(branch=branch, planned_start=NOW - dt.timedelta(days=n + 1))
            Deduction.objects.create(item_score=score, points=Decimal("1"), reason=f"扣分{n}", meeting=meeting)
        AnnouncementFactory()
    client_for(client, member)

    with django_assert_num_queries(MY_PAGE_QUERIES):
        response = client.get(reverse("assessment:my_participation"))

    assert response.content.decode().count('class="deduction"') == runs * 3


# --- One member's history -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "secretary", "supervisor"])
def test_a_members_history_is_open_to_themselves_their_branch_committee_and_the_supervisors(
    world, people, member, client, who
):
    response = client_for(client, people[who]).get(reverse("assessment:member_participation", args=[member.member.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "李党员 的参与情况" in page
    assert "2026年第一季度考核" in page


def test_a_members_history_is_closed_to_another_branchs_secretary_and_to_peers(world, branch, member, people, client):
    peer = member_with_login(branch=branch, username="peer", name="周党员")
    url = reverse("assessment:member_participation", args=[member.member.pk])

    assert client_for(client, people["other_secretary"]).get(url).status_code == 403
    client.logout()
    assert client_for(client, peer).get(url).status_code == 403


def test_an_unknown_member_is_404(db, supervisor, client):
    assert (
        client_for(client, supervisor).get(reverse("assessment:member_participation", args=[999999])).status_code == 404
    )


# --- A branch's members in a run --------------------------------------------------------------


def test_the_secretary_lists_the_branchs_members_in_a_published_run(world, branch, client, secretary):
    response = client_for(client, secretary).get(
        reverse("assessment:branch_participation", args=[world["published"].pk, branch.pk])
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "李党员" in page
    assert "王书记" in page
    assert "共 2 名党员，其中可评优 1 名" in page
    assert reverse("assessment:member_participation", args=[world["published"].member_scores.first().member_id]) in page
    assert reverse("assessment:hr_export", args=[world["published"].pk]) not in page  # HR's file is the 党委's


def test_a_draft_run_is_hidden_from_the_branch_but_shown_to_the_supervisors(
    world, branch, secretary, supervisor, client
):
    url = reverse("assessment:branch_participation", args=[world["draft"].pk, branch.pk])

    assert client_for(client, secretary).get(url).status_code == 404
    client.logout()
    response = client_for(client, supervisor).get(url)
    assert response.status_code == 200
    assert "3.33" in response.content.decode()
    assert reverse("assessment:hr_export", args=[world["draft"].pk]) in response.content.decode()


@pytest.mark.parametrize("who", ["member", "other_secretary"])
def test_a_branchs_list_is_closed_to_ordinary_members_and_other_branches(world, branch, people, client, who):
    url = reverse("assessment:branch_participation", args=[world["published"].pk, branch.pk])
    assert client_for(client, people[who]).get(url).status_code == 403


def test_a_committee_member_sees_any_branchs_list(world, other_branch, client):
    committee = staff_user(username="committee", role=StaffRole.Role.COMMITTEE)
    url = reverse("assessment:branch_participation", args=[world["published"].pk, other_branch.pk])
    response = client_for(client, committee).get(url)
    assert response.status_code == 200
    assert "本期没有本支部党员的参与记录。" in response.content.decode()


def test_unknown_runs_and_branches_are_404(world, branch, supervisor, client):
    c = client_for(client, supervisor)
    assert c.get(reverse("assessment:branch_participation", args=[999999, branch.pk])).status_code == 404
    assert c.get(reverse("assessment:branch_participation", args=[world["published"].pk, 999999])).status_code == 404


# session (2 + savepoint pair), user, scope (4), branch, run, rows, the navbar (Django's own model
# permissions, twice), inbox badge, the navbar's member name
BRANCH_PAGE_QUERIES = 13


@pytest.mark.parametrize("size", [3, 30])
def test_the_branch_list_costs_the_same_queries_for_3_or_30_members(
    db, branch, secretary, client, django_assert_num_queries, size
):
    run = make_run(status=Run.Status.PUBLISHED, published_at=NOW)
    for _ in range(size):
        m = MemberFactory()
        MembershipFactory(member=m, organization=branch)
        _member_score(run, m, branch)
    client_for(client, secretary)

    with django_assert_num_queries(BRANCH_PAGE_QUERIES):
        response = client.get(reverse("assessment:branch_participation", args=[run.pk, branch.pk]))

    assert response.content.decode().count("assessment/members/") == size
