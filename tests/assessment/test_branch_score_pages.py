"""A branch's score page: who may open it, what it shows, every deduction with a link to its record
(only where the viewer may open that record), and a query count that does not grow with the deductions."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from assessment.models import Deduction
from assessment.services import item_score_enter, run_compute, run_create, run_publish, run_submit_for_review
from org.models import StaffRole
from supervision.models import Finding, Flag, Rectification, Review
from tests.conftest import client_for
from tests.factories import staff_user

from .test_runs import NOW, Q1, at, full_quarter, item_score, meeting, score_of

pytestmark = pytest.mark.django_db

ROLES = ["secretary", "member", "other_secretary", "supervisor", "committee", "anonymous"]


@pytest.fixture
def committee(db):
    return staff_user(username="committee", role=StaffRole.Role.COMMITTEE)


@pytest.fixture
def everyone(people, committee):
    return {**people, "committee": committee}


def add_records(branch, supervisor, n: int, *, tag: str = "") -> None:
    """``n`` of each record that costs points: minutes late and returned, a confirmed flag, a minor finding,
    and one overdue rectification."""
    for i in range(n):
        day = dt.date(2026, 1 + i % 3, 3 + i)
        m = meeting(branch, day, ["committee_meeting"], minutes_overdue_at=NOW)
        Review.objects.create(meeting=m, action="return", comment="记录不全", by=supervisor, at=at(day))
        Flag.objects.create(
            meeting=m, kind="similar_minutes", key=f"s{i}", message="记录雷同", status="confirmed", created_at=NOW
        )
        Finding.objects.create(
            branch=branch, category="records", severity="minor", description=f"{tag}记录潦草{i}",
            raised_by=supervisor, raised_at=at(day),
        )  # fmt: skip
    finding = Finding.objects.create(
        branch=branch, category="meetings", severity="moderate", description=f"{tag}会前未公示",
        raised_by=supervisor, raised_at=at(dt.date(2026, 1, 20)),
    )  # fmt: skip
    Rectification.objects.create(
        finding=finding, branch=branch, status="overdue", due_at=at(dt.date(2026, 2, 20)),
        overdue_at=at(dt.date(2026, 2, 21)), created_at=at(dt.date(2026, 1, 20)),
    )  # fmt: skip


def computed(committee, supervisor, branch):
    """Q1 2026 computed, with a manual score and a veto entered for ``branch``."""
    run = run_compute(run=run_create(kind="quarter", period_start=Q1, user=committee, now=NOW), now=NOW)
    item_score_enter(
        item_score=item_score(run, branch, "重大事项经支委会研究决定"),
        points="1",
        comment="评议材料不全",
        user=supervisor,
        now=NOW,
    )
    item_score_enter(
        item_score=item_score(run, branch, "记录造假"),
        points="0",
        comment="代签到经查实",
        user=supervisor,
        now=NOW,
        veto_triggered=True,
    )
    return run


def publish(run, committee):
    run_submit_for_review(run=run, user=committee, now=NOW, confirmed=True)
    return run_publish(run=run, user=committee, now=NOW, confirmed=True)


@pytest.fixture
def draft(branch, other_branch, secretary, supervisor, committee):
    """``branch`` lost points on every kind of record and was vetoed; ``other_branch`` held every meeting
    and has a finding of its own."""
    add_records(branch, supervisor, 2)
    full_quarter(other_branch)
    Finding.objects.create(
        branch=other_branch, category="records", severity="minor", description="掘进二队签到表缺页",
        raised_by=supervisor, raised_at=at(dt.date(2026, 2, 2)),
    )  # fmt: skip
    return computed(committee, supervisor, branch)


@pytest.fixture
def published(draft, committee):
    return publish(draft, committee)


def url(run, branch):
    return reverse("assessment:branch_score", args=[run.pk, branch.pk])


def page(response) -> str:
    return response.content.decode()


def links(html: str, name: str) -> set[int]:
    """The pks of every link to the page ``name`` (``meetings:meeting_detail``…) on ``html``."""
    pattern = re.escape(reverse(name, args=[987654321])).replace("987654321", r"(\d+)")
    return {int(pk) for pk in re.findall(f'href="{pattern}"', html)}


# --- Who may open it -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("secretary", 200),
        ("member", 200),
        ("other_secretary", 404),
        ("supervisor", 200),
        ("committee", 200),
        ("anonymous", 302),
    ],
)
def test_a_published_score_is_seen_by_its_branch_and_the_mine_level_only(
    role, expected, everyone, published, branch, client
):
    response = client_for(client, everyone[role]).get(url(published, branch))

    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "expected"), [("secretary", 404), ("member", 404), ("other_secretary", 200), ("supervisor", 200)]
)
def test_a_member_cannot_open_another_branchs_score(role, expected, everyone, published, other_branch, client):
    assert client_for(client, everyone[role]).get(url(published, other_branch)).status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("secretary", 404),
        ("member", 404),
        ("other_secretary", 404),
        ("supervisor", 200),
        ("committee", 200),
        ("anonymous", 302),
    ],
)
def test_a_draft_is_seen_by_supervisors_and_the_committee_only(role, expected, everyone, draft, branch, client):
    assert client_for(client, everyone[role]).get(url(draft, branch)).status_code == expected


def test_a_branch_not_in_the_run_or_a_missing_run_is_a_404(published, branch, supervisor, client):
    client_for(client, supervisor)
    assert client.get(reverse("assessment:branch_score", args=[published.pk, 999999])).status_code == 404
    assert client.get(reverse("assessment:branch_score", args=[999999, branch.pk])).status_code == 404


# --- What it shows -----------------------------------------------------------------------------------


def test_the_page_shows_total_grade_rank_and_the_items_by_category(published, branch, member, client):
    html = page(client_for(client, member).get(url(published, branch)))
    score = score_of(published, branch)

    assert f'id="total">{score.total}<' in html
    assert "不合格" in html and "触发一票否决" in html
    assert "第 2 名 / 2" in html
    assert html.index("会议开展") < html.index("记录规范") < html.index("党员参与") < html.index("督导整改")
    returned = item_score(published, branch, "会议记录审核通过")
    assert f"得分 <strong>{returned.points}</strong> / {returned.item.max_points} · 扣 {returned.deducted}" in html


def test_every_deduction_line_is_listed_with_its_reason(published, branch, member, client):
    html = page(client_for(client, member).get(url(published, branch)))
    lines = Deduction.objects.filter(item_score__branch_score__run=published, item_score__branch_score__branch=branch)

    assert lines.count() >= 10
    for line in lines:
        assert line.reason in html
    assert html.count('class="small deduction"') == lines.count()


def test_a_manual_item_shows_its_comment_and_who_entered_it(published, branch, supervisor, member, client):
    html = page(client_for(client, member).get(url(published, branch)))
    item_id = item_score(published, branch, "重大事项经支委会研究决定").item_id
    entry = re.search(rf'id="item-{item_id}".*?</li>', html, re.S)

    assert "评分说明：评议材料不全" in entry.group()
    assert f"{supervisor.display_name} 于 2026-04-08 10:00 评分" in entry.group()
    assert "督导组尚未评分，暂不加分。" in html  # the bonus item nobody entered


def test_a_member_sees_their_branchs_deductions_and_nothing_of_another_branch(published, branch, member, client):
    html = page(client_for(client, member).get(url(published, branch)))

    assert "记录潦草0" in html
    assert "掘进二队签到表缺页" not in html


def test_a_deduction_links_to_its_record_only_where_the_viewer_may_open_it(
    published, branch, member, secretary, client
):
    lines = Deduction.objects.filter(
        item_score__branch_score__run=published, item_score__branch_score__branch=branch
    ).select_related("review", "flag", "rectification")
    meetings = {
        ln.meeting_id or (ln.review or ln.flag).meeting_id for ln in lines if ln.meeting or ln.review or ln.flag
    }
    findings = {ln.finding_id or ln.rectification.finding_id for ln in lines if ln.finding or ln.rectification}
    assert len(meetings) == 2 and len(findings) == 3

    as_member = page(client_for(client, member).get(url(published, branch)))
    client.logout()
    as_secretary = page(client_for(client, secretary).get(url(published, branch)))

    assert links(as_member, "meetings:meeting_detail") == meetings
    assert links(as_member, "supervision:finding_detail") == set()  # findings are for the branch committee
    assert links(as_secretary, "meetings:meeting_detail") == meetings
    assert links(as_secretary, "supervision:finding_detail") >= findings


def test_the_linked_records_are_real_records_of_the_branch_that_open(published, branch, member, supervisor, client):
    html = page(client_for(client, supervisor).get(url(published, branch)))
    meetings, findings = links(html, "meetings:meeting_detail"), links(html, "supervision:finding_detail")

    assert meetings and findings
    assert {f.branch_id for f in Finding.objects.filter(pk__in=findings)} == {branch.pk}
    for pk in findings:
        assert client.get(reverse("supervision:finding_detail", args=[pk])).status_code == 200
    client.logout()
    client_for(client, member)
    for pk in meetings:
        assert client.get(reverse("meetings:meeting_detail", args=[pk])).status_code == 200


def test_a_failing_branchs_secretary_sees_the_rectification_with_its_deadline_and_the_notice(
    published, branch, secretary, member, client
):
    rectification = score_of(published, branch).rectification
    notice_url = reverse("bulletin:announcement_detail", args=[published.notice_id])
    rectification_url = reverse("supervision:finding_detail", args=[rectification.finding_id])

    as_secretary = page(client_for(client, secretary).get(url(published, branch)))
    client.logout()
    as_member = page(client_for(client, member).get(url(published, branch)))

    assert rectification_url in as_secretary and "期限 2026年5月8日 24:00" in as_secretary
    assert notice_url in as_secretary and notice_url in as_member
    assert rectification_url not in as_member


def test_a_draft_shows_its_state_and_the_way_to_the_manual_scores(draft, branch, supervisor, client):
    html = page(client_for(client, supervisor).get(url(draft, branch)))

    assert 'data-status="draft"' in html
    assert reverse("assessment:manual_scores", args=[draft.pk]) in html


# --- Query counts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("records", [1, 6])
@pytest.mark.parametrize(("viewer", "queries"), [("member", 14), ("supervisor", 10)])
def test_the_page_costs_the_same_queries_for_few_deductions_as_for_many(
    records, viewer, queries, branch, other_branch, secretary, supervisor, member, committee, client,
    django_assert_num_queries,
):  # fmt: skip
    add_records(branch, supervisor, records)
    run = publish(computed(committee, supervisor, branch), committee)
    lines = Deduction.objects.filter(item_score__branch_score__run=run, item_score__branch_score__branch=branch)
    assert lines.count() >= 5 * records
    client_for(client, {"member": member, "supervisor": supervisor}[viewer])
    client.get(url(run, branch))

    # the page's own: the score with its run, branch and rectification; its items; their lines
    # with their records; the number of branches. The rest is every page's (session, scope, inbox…).
    with django_assert_num_queries(queries):
        response = client.get(url(run, branch))
    assert page(response).count('class="small deduction"') == lines.count()


def test_the_veto_line_reads_as_a_sentence_not_as_a_score(published, branch, member, client):
    html = page(client_for(client, member).get(url(published, branch)))
    item_id = item_score(published, branch, "记录造假").item_id
    entry = re.search(rf'id="item-{item_id}".*?</li>', html, re.S).group()

    assert "一票否决：已触发，考核不合格" in entry
    assert "得分 <strong>" not in entry  # no "得分 0.00 0 一票否决"
    assert re.search(r'class="small deduction">一票否决：', entry)


def test_a_manual_item_not_entered_shows_not_entered_and_counts_zero_not_full_marks(
    published, other_branch, supervisor, client
):
    html = page(client_for(client, supervisor).get(url(published, other_branch)))
    score = item_score(published, other_branch, "重大事项经支委会研究决定")
    entry = re.search(rf'id="item-{score.item_id}".*?</li>', html, re.S).group()

    assert score.entered_at is None and score.points == 0
    assert "未录入" in entry and "暂计 <strong>0.00</strong> / 2.00" in entry
    assert "本项暂计 0 分，不按满分计" in entry
