"""The run pages: the list and a new run, a run's ranking and its steps, publishing with its confirmation,
the supervisors' manual scores, the scheme and the navigation: contents, permissions per role, query counts."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse

from assessment.defaults import load_default_scheme
from assessment.models import BranchScore, ItemScore, Run
from assessment.services import (
    item_score_enter,
    run_compute,
    run_create,
    run_publish,
    run_submit_for_review,
)
from bulletin.models import Announcement
from org.models import StaffRole
from supervision.models import Finding, Rectification
from tests.conftest import client_for
from tests.factories import BranchFactory, UserFactory, staff_user

from .test_runs import NOW, Q1, full_quarter, item_score, score_of

pytestmark = pytest.mark.django_db

ROLES = ["secretary", "member", "other_secretary", "supervisor", "committee", "anonymous"]
SEES_ALL = {"supervisor", "committee"}


@pytest.fixture
def committee(db):
    """A member of the 党委 committee: runs the assessment."""
    return staff_user(username="committee", role=StaffRole.Role.COMMITTEE)


@pytest.fixture
def everyone(people, committee):
    return {**people, "committee": committee}


@pytest.fixture
def draft(branch, other_branch, secretary, committee):
    """Q1 2026 computed: ``other_branch`` held every meeting (100, 优秀); ``branch`` held none (89, 良好)."""
    full_quarter(other_branch)
    run = run_create(kind="quarter", period_start=Q1, user=committee, now=NOW)
    return run_compute(run=run, now=NOW)


def veto(run, branch, user):
    item_score_enter(
        item_score=item_score(run, branch, "记录造假"),
        points="0",
        comment="主题党日照片重复使用",
        user=user,
        now=NOW,
        veto_triggered=True,
    )


@pytest.fixture
def in_review(draft, branch, supervisor, committee):
    """The draft with ``branch`` vetoed (failing), submitted to the committee."""
    veto(draft, branch, supervisor)
    return run_submit_for_review(run=draft, user=committee, now=NOW, confirmed=True)


def status_of(run) -> str:
    return Run.objects.values_list("status", flat=True).get(pk=run.pk)


def refused(response, role) -> bool:
    """Anonymous goes to the login page; a signed-in user without the permission gets a 403."""
    if role == "anonymous":
        return response.status_code == 302 and response["Location"].startswith(reverse("login"))
    return response.status_code == 403


def page(response) -> str:
    return response.content.decode()


def section(html: str, element_id: str) -> str:
    """The element with ``element_id``, to its matching closing tag."""
    start = html.index(f'id="{element_id}"')
    tag = re.match(r"<(\w+)", html[html.rindex("<", 0, start) :]).group(1)
    depth = 1
    for m in re.compile(rf"<{tag}[\s>]|</{tag}>").finditer(html, start):
        depth += -1 if m.group().startswith("</") else 1
        if depth == 0:
            return html[start : m.end()]
    raise AssertionError(f"{element_id} is not closed")


# --- The list of runs ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_list_of_runs_is_for_the_committee_and_supervisors(role, everyone, draft, client):
    response = client_for(client, everyone[role]).get(reverse("assessment:run_list"))

    if role in SEES_ALL:
        assert response.status_code == 200
        assert draft.label in page(response)
    else:
        assert refused(response, role)


def test_the_list_shows_each_runs_status_period_and_grade_counts(draft, supervisor, client):
    html = page(client_for(client, supervisor).get(reverse("assessment:run_list")))
    row = section(html, f"run-{draft.pk}")

    assert "2026年第一季度考核" in row
    assert "2026-01-01 至 2026-03-31" in row
    assert "草稿" in row
    # A quarterly run counts in the quarterly bands: 98 is 优秀, 87 基本合格.
    assert "优秀 1" in row and "基本合格 1" in row and ">合格 0" in row and "不合格 0" in row
    assert 'id="run-create"' not in html  # supervisors do not start runs


def test_the_committee_creates_a_run_from_the_list_and_it_is_computed_at_once(branch, other_branch, committee, client):
    with time_machine.travel(NOW, tick=False):
        client_for(client, committee)
        form = page(client.get(reverse("assessment:run_list")))
        response = client.post(reverse("assessment:run_list"), {"kind": "quarter", "year": "2026", "quarter": "1"})

    assert 'id="run-create"' in form
    run = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("assessment:run_detail", args=[run.pk])
    assert (run.kind, run.period_start, run.period_end, run.status, run.computed_at) == (
        "quarter",
        Q1,
        dt.date(2026, 4, 1),
        "draft",
        NOW,
    )
    assert set(BranchScore.objects.filter(run=run).values_list("branch_id", flat=True)) == {branch.pk, other_branch.pk}


def test_an_annual_run_ignores_the_quarter(branch, committee, client):
    response = client_for(client, committee).post(
        reverse("assessment:run_list"), {"kind": "year", "year": "2026", "quarter": ""}
    )

    run = Run.objects.get()
    assert response.status_code == 302
    assert (run.kind, run.period_start, run.period_end) == ("year", dt.date(2026, 1, 1), dt.date(2027, 1, 1))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "quarter", "year": "2026", "quarter": ""}, "季度考核请选择季度。"),
        ({"kind": "quarter", "year": "2031", "quarter": "2"}, "2031 年度还没有考核方案"),
        ({"kind": "quarter", "year": "1999", "quarter": "2"}, "请填写正确的年度。"),
        ({"kind": "month", "year": "2026", "quarter": "2"}, "选择一个有效的选项"),
        ({"kind": "quarter", "year": "2026", "quarter": "1"}, "该期间的考核已存在。"),
    ],
)
def test_a_run_the_form_or_the_service_refuses_is_not_created_and_the_reason_is_shown(
    draft, committee, client, data, message
):
    response = client_for(client, committee).post(reverse("assessment:run_list"), data)

    assert response.status_code == 400
    assert message in section(page(response), "run-create")
    assert list(Run.objects.values_list("pk", flat=True)) == [draft.pk]


@pytest.mark.parametrize("role", ["secretary", "member", "other_secretary", "supervisor", "anonymous"])
def test_only_the_committee_may_create_a_run(role, everyone, client):
    response = client_for(client, everyone[role]).post(
        reverse("assessment:run_list"), {"kind": "quarter", "year": "2026", "quarter": "1"}
    )

    assert refused(response, role)
    assert not Run.objects.exists()


# --- A run's ranking -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_runs_ranking_is_for_the_committee_and_supervisors(role, everyone, draft, client):
    response = client_for(client, everyone[role]).get(reverse("assessment:run_detail", args=[draft.pk]))

    if role in SEES_ALL:
        assert response.status_code == 200
    else:
        assert refused(response, role)


def test_a_missing_run_is_a_404(supervisor, client):
    assert client_for(client, supervisor).get(reverse("assessment:run_detail", args=[999])).status_code == 404


def test_the_ranking_lists_every_branch_with_rank_total_grade_and_a_link_to_its_page(
    draft, branch, other_branch, supervisor, client
):
    html = page(client_for(client, supervisor).get(reverse("assessment:run_detail", args=[draft.pk])))
    ranking = section(html, "ranking")
    first, second = section(html, f"score-{other_branch.pk}"), section(html, f"score-{branch.pk}")

    assert ranking.index(other_branch.name) < ranking.index(branch.name)
    # 2 short of 100 and 89: the manual 重大事项 item is 未录入; quarterly bands.
    assert ">1<" in first and "98.00" in first and "优秀" in first
    assert ">2<" in second and "87.00" in second and "基本合格" in second
    assert reverse("assessment:branch_score", args=[draft.pk, branch.pk]) in second
    assert "共 2 个支部" in html
    assert 'data-status="draft"' in html


def test_the_change_since_the_previous_run_reads_up_down_or_new(draft, branch, other_branch, committee, client):
    Run.objects.create(
        scheme=draft.scheme,
        kind="quarter",
        period_start=dt.date(2025, 10, 1),
        period_end=Q1,
        status=Run.Status.PUBLISHED,
        created_at=NOW,
    )
    newcomer = BranchFactory(name="通风队党支部")
    run_compute(run=draft, now=NOW)
    # the ranks the previous run would have given (it scored nobody here): stored as the engine stores them
    BranchScore.objects.filter(run=draft, branch=other_branch).update(previous_rank=4)
    BranchScore.objects.filter(run=draft, branch=branch).update(previous_rank=1)

    html = page(client_for(client, committee).get(reverse("assessment:run_detail", args=[draft.pk])))

    assert "↑3" in section(html, f"score-{other_branch.pk}")
    assert "↓2" in section(html, f"score-{branch.pk}")  # the newcomer (92) passed it
    assert "新" in section(html, f"score-{newcomer.pk}")


def test_without_a_previous_run_nobody_is_marked_new(draft, branch, supervisor, client):
    html = page(client_for(client, supervisor).get(reverse("assessment:run_detail", args=[draft.pk])))
    assert "新" not in section(html, f"score-{branch.pk}")


def test_the_ranking_filters_by_grade_and_by_failing(draft, branch, other_branch, supervisor, client):
    veto(draft, branch, supervisor)
    client_for(client, supervisor)
    url = reverse("assessment:run_detail", args=[draft.pk])

    best = section(page(client.get(url, {"grade": "优秀"})), "ranking")
    failing = section(page(client.get(url, {"failing": "on"})), "ranking")
    nobody = section(page(client.get(url, {"grade": "合格"})), "ranking")

    assert other_branch.name in best and branch.name not in best
    assert branch.name in failing and other_branch.name not in failing and "一票否决" in failing
    assert "没有符合条件的支部。" in nobody


# --- The steps of a run ------------------------------------------------------------------------------


def test_each_role_sees_the_steps_it_may_take_in_each_state(draft, supervisor, committee, client):
    url = reverse("assessment:run_detail", args=[draft.pk])
    as_committee = page(client_for(client, committee).get(url))
    client.logout()
    as_supervisor = page(client_for(client, supervisor).get(url))

    assert 'id="run-recompute"' in as_committee and 'id="run-submit"' in as_committee
    assert 'id="run-publish"' not in as_committee and 'id="run-manual"' not in as_committee
    assert 'id="run-submit"' not in as_supervisor and 'id="run-manual"' in as_supervisor

    run_submit_for_review(run=draft, user=committee, now=NOW, confirmed=True)
    as_supervisor = page(client.get(url))
    client.logout()
    as_committee = page(client_for(client, committee).get(url))
    assert 'id="run-return"' in as_committee and 'id="run-publish"' in as_committee
    assert 'id="run-recompute"' not in as_committee
    assert 'id="run-manual"' in as_supervisor and 'id="run-publish"' not in as_supervisor


def test_the_committee_submits_returns_and_recomputes_through_the_page(draft, committee, client):
    later = NOW + dt.timedelta(hours=2)
    with time_machine.travel(later, tick=False):  # the whole session: an idle one would time out
        client_for(client, committee)
        client.post(reverse("assessment:run_recompute", args=[draft.pk]))
        assert Run.objects.get(pk=draft.pk).computed_at == later
        # The draft has manual items 未录入: submitting needs the confirmation, refused without it.
        refused_page = page(client.post(reverse("assessment:run_submit", args=[draft.pk]), follow=True))
        assert status_of(draft) == "draft"
        assert "请确认以上提示后再继续。" in refused_page and "有人工评分项未录入（暂计 0 分）" in refused_page
        assert 'name="confirm_warnings"' in refused_page
        response = client.post(
            reverse("assessment:run_submit", args=[draft.pk]), {"confirm_warnings": "1"}, follow=True
        )
        assert status_of(draft) == "review"
        assert "已提交委员会审核。" in page(response)
        client.post(reverse("assessment:run_return", args=[draft.pk]))
        assert status_of(draft) == "draft"


def test_a_step_out_of_order_is_refused_with_the_reason(in_review, committee, client):
    client_for(client, committee)

    submitted = page(client.post(reverse("assessment:run_submit", args=[in_review.pk]), follow=True))
    recomputed = page(client.post(reverse("assessment:run_recompute", args=[in_review.pk]), follow=True))

    assert "该考核已提交委员会审核。" in submitted
    assert "只有草稿状态的考核可以重新计算。" in recomputed
    assert status_of(in_review) == "review"


@pytest.mark.parametrize("step", ["run_recompute", "run_submit", "run_return", "run_publish"])
@pytest.mark.parametrize("role", ["secretary", "member", "other_secretary", "supervisor", "anonymous"])
def test_only_the_committee_takes_a_runs_steps(step, role, everyone, in_review, client):
    before = Run.objects.values_list("status", "computed_at", "notice_id").get(pk=in_review.pk)

    response = client_for(client, everyone[role]).post(reverse(f"assessment:{step}", args=[in_review.pk]))

    assert refused(response, role)
    assert Run.objects.values_list("status", "computed_at", "notice_id").get(pk=in_review.pk) == before
    assert not Finding.objects.exists()


# --- Publishing -------------------------------------------------------------------------------


def test_the_confirm_step_names_the_failing_branches_and_previews_the_notice(in_review, branch, committee, client):
    html = page(client_for(client, committee).get(reverse("assessment:run_publish", args=[in_review.pk])))

    failing = section(html, "publish-failing")
    assert branch.name in failing and "一票否决" in failing
    assert "1</strong> 个支部考核不合格" in html and "各下达一项整改" in html
    preview = section(html, "notice-preview")
    assert "关于2026年第一季度考核结果的通报" in preview
    assert "二、存在问题" in preview and f"1. {branch.name}，得分 87 分" in preview
    assert status_of(in_review) == "review"  # looking publishes nothing
    assert not Finding.objects.exists()


def test_publishing_through_the_page_opens_the_rectification_posts_the_notice_and_links_both(
    in_review, branch, other_branch, secretary, committee, client
):
    client_for(client, committee)
    confirm = page(client.get(reverse("assessment:run_publish", args=[in_review.pk])))
    key = re.search(r'name="confirmed" value="([^"]*)"', confirm).group(1)

    response = client.post(reverse("assessment:run_publish", args=[in_review.pk]), confirmed(key), follow=True)

    run = Run.objects.get(pk=in_review.pk)
    rectification = score_of(run, branch).rectification
    assert run.status == "published" and run.notice is not None
    assert (rectification.owner, rectification.branch) == (secretary, branch)
    assert score_of(run, other_branch).rectification is None
    html = page(response)
    assert "已发布2026年第一季度考核，通报已发至全矿。" in html
    assert reverse("bulletin:announcement_detail", args=[run.notice_id]) in section(html, "run-state")
    assert reverse("supervision:finding_detail", args=[rectification.finding_id]) in section(html, f"score-{branch.pk}")
    assert "supervision" not in section(html, f"score-{other_branch.pk}")
    assert 'id="run-publish"' not in html and 'id="run-manual"' not in html


def test_a_publish_that_skips_the_confirm_step_is_sent_back_to_it(in_review, committee, client):
    response = client_for(client, committee).post(reverse("assessment:run_publish", args=[in_review.pk]))

    assert response["Location"] == reverse("assessment:run_publish", args=[in_review.pk])
    assert status_of(in_review) == "review"
    assert not Finding.objects.exists() and not Announcement.objects.exists()


def test_a_publish_confirmed_before_the_failing_branches_changed_must_be_confirmed_again(
    in_review, other_branch, supervisor, committee, client
):
    client_for(client, committee)
    confirm = page(client.get(reverse("assessment:run_publish", args=[in_review.pk])))
    key = re.search(r'name="confirmed" value="([^"]*)"', confirm).group(1)
    veto(in_review, other_branch, supervisor)  # a supervisor fails another branch meanwhile

    response = client.post(reverse("assessment:run_publish", args=[in_review.pk]), confirmed(key), follow=True)

    assert "不合格支部名单已变化，请重新确认。" in page(response)
    assert other_branch.name in section(page(response), "publish-failing")
    assert status_of(in_review) == "review"
    assert not Finding.objects.exists()


def test_publishing_twice_through_the_page_opens_nothing_twice(in_review, committee, client):
    client_for(client, committee)
    key = re.search(
        r'name="confirmed" value="([^"]*)"', page(client.get(reverse("assessment:run_publish", args=[in_review.pk])))
    ).group(1)
    client.post(reverse("assessment:run_publish", args=[in_review.pk]), confirmed(key))

    again = client.post(reverse("assessment:run_publish", args=[in_review.pk]), confirmed(key), follow=True)

    assert "该考核已发布，不能再修改。" in page(again)
    assert (Finding.objects.count(), Rectification.objects.count(), Announcement.objects.count()) == (1, 1, 1)


@pytest.mark.parametrize("role", ["secretary", "member", "other_secretary", "supervisor", "anonymous"])
def test_only_the_committee_sees_the_confirm_step(role, everyone, in_review, client):
    response = client_for(client, everyone[role]).get(reverse("assessment:run_publish", args=[in_review.pk]))
    assert refused(response, role)


# --- Manual scores -----------------------------------------------------------------------------------


def manual_url(run):
    return reverse("assessment:manual_scores", args=[run.pk])


def row_data(run, branch, entries: dict) -> dict:
    """The POST of one branch's row: ``entries`` maps an item's name to (points, comment[, veto])."""
    bs = score_of(run, branch)
    data = {"row": str(bs.pk)}
    for name, values in entries.items():
        item_id = item_score(run, branch, name).item_id
        points, comment, *veto = values
        if points is not None:
            data[f"row{bs.pk}-points_{item_id}"] = points
        data[f"row{bs.pk}-comment_{item_id}"] = comment
        if veto and veto[0]:
            data[f"row{bs.pk}-veto_{item_id}"] = "on"
    return data


def manual_state(run):
    return sorted(
        ItemScore.objects.filter(branch_score__run=run, item__method="manual").values_list(
            "pk", "points", "manual_points", "comment", "veto_triggered", "entered_by_id"
        )
    )


@pytest.mark.parametrize("role", ROLES)
def test_the_manual_scores_page_is_for_supervisors(role, everyone, draft, client):
    response = client_for(client, everyone[role]).get(manual_url(draft))

    if role == "supervisor":
        assert response.status_code == 200
    else:
        assert refused(response, role)


@pytest.mark.parametrize("role", ["secretary", "member", "other_secretary", "committee", "anonymous"])
def test_nobody_but_a_supervisor_enters_a_manual_score(role, everyone, draft, branch, client):
    before = manual_state(draft)

    response = client_for(client, everyone[role]).post(
        manual_url(draft), row_data(draft, branch, {"重大事项经支委会研究决定": ("0", "未开展")})
    )

    assert refused(response, role)
    assert manual_state(draft) == before


def test_the_page_has_a_row_per_branch_with_an_input_per_manual_item(draft, branch, other_branch, supervisor, client):
    html = page(client_for(client, supervisor).get(manual_url(draft)))
    bs = score_of(draft, branch)
    review = item_score(draft, branch, "重大事项经支委会研究决定")
    veto_item = item_score(draft, branch, "记录造假")

    row = section(html, f"row-{bs.pk}")
    assert branch.name in row and other_branch.name not in row
    assert f'name="row{bs.pk}-points_{review.item_id}"' in row
    assert 'max="2"' in row and 'step="0.5"' in row
    assert f'name="row{bs.pk}-veto_{veto_item.item_id}"' in row
    assert f'name="row{bs.pk}-points_{veto_item.item_id}"' not in row  # a veto scores nothing
    assert row.count("manual-cell") == 3  # 民主评议 is automatic now
    assert f'id="row-{score_of(draft, other_branch).pk}"' in html


def test_a_supervisor_saves_a_row_and_the_total_follows(draft, branch, supervisor, client):
    with time_machine.travel(NOW, tick=False):
        client_for(client, supervisor)
        response = client.post(
            manual_url(draft) + "?page=1",
            row_data(
                draft,
                branch,
                {"重大事项经支委会研究决定": ("0.5", "民主评议未按程序开展"), "创新创优": ("1", "经验被推广")},
            ),
        )

    bs = score_of(draft, branch)
    assert response["Location"] == f"{manual_url(draft)}?page=1#row-{bs.pk}"
    review = item_score(draft, branch, "重大事项经支委会研究决定")
    assert (review.points, review.comment, review.entered_by, review.entered_at) == (
        Decimal("0.5"),
        "民主评议未按程序开展",
        supervisor,
        NOW,
    )
    assert item_score(draft, branch, "创新创优").points == Decimal("1")
    assert bs.total == Decimal("88.5")  # 87 (重大事项 未录入) + 0.5 + 1
    assert item_score(draft, branch, "记录造假").entered_at is None  # left blank: untouched
    client.force_login(supervisor)  # the session began at NOW
    html = page(client.get(manual_url(draft)))
    assert "民主评议未按程序开展" in section(html, f"row-{bs.pk}")
    assert f"{supervisor.display_name} 于" in section(html, f"cell-{bs.pk}-{review.item_id}")


def test_a_veto_ticked_on_the_page_fails_the_branch(draft, branch, supervisor, client):
    client_for(client, supervisor).post(
        manual_url(draft), row_data(draft, branch, {"记录造假": (None, "代签到经查实", True)})
    )

    bs = score_of(draft, branch)
    assert (bs.vetoed, bs.is_failing, bs.grade) == (True, True, "不合格")


@pytest.mark.parametrize(
    ("points", "comment", "message"),
    [
        ("2.5", "超出分值", "得分不能超过该项目的分值 2 分。"),
        ("-1", "负分", "得分不能为负数。"),
        ("1", "  ", "请填写评分说明。"),
        ("", "有说明没有分数", "请填写得分。"),
        ("abc", "不是数字", "请输入数字。"),
    ],
)
def test_a_bad_entry_is_shown_next_to_its_input_and_nothing_of_the_row_is_saved(
    draft, branch, supervisor, client, points, comment, message
):
    before = manual_state(draft)
    total = score_of(draft, branch).total
    data = row_data(draft, branch, {"重大事项经支委会研究决定": (points, comment), "创新创优": ("1", "研究记录不全")})

    response = client_for(client, supervisor).post(manual_url(draft), data)

    assert response.status_code == 400
    bs = score_of(draft, branch)
    cell = section(page(response), f"cell-{bs.pk}-{item_score(draft, branch, '重大事项经支委会研究决定').item_id}")
    assert message in cell
    assert "is-invalid" in cell
    assert "研究记录不全" in page(response)  # what was typed comes back
    assert manual_state(draft) == before  # the valid item of the row was not saved either
    assert bs.total == total


def test_a_row_sent_after_the_run_was_published_is_refused_and_loses_nothing(
    draft, branch, other_branch, supervisor, committee, client
):
    client_for(client, supervisor)
    client.post(manual_url(draft), row_data(draft, other_branch, {"重大事项经支委会研究决定": ("1", "评议材料不全")}))
    assert 'name="row' in page(client.get(manual_url(draft)))
    run_submit_for_review(run=draft, user=committee, now=NOW, confirmed=True)
    run_publish(run=draft, user=committee, now=NOW, confirmed=True)
    before = manual_state(draft)

    response = client.post(
        manual_url(draft), row_data(draft, branch, {"重大事项经支委会研究决定": ("0", "未开展民主评议")})
    )

    assert response.status_code == 409
    html = page(response)
    assert "该考核已发布，不能再修改。" in html
    assert "未开展民主评议" in section(html, f"row-{score_of(draft, branch).pk}")  # shown back as typed
    assert "评议材料不全" in html
    assert manual_state(draft) == before
    assert item_score(draft, other_branch, "重大事项经支委会研究决定").comment == "评议材料不全"


def test_a_published_runs_manual_scores_are_read_only(draft, supervisor, committee, client):
    run_submit_for_review(run=draft, user=committee, now=NOW, confirmed=True)
    run_publish(run=draft, user=committee, now=NOW, confirmed=True)

    html = page(client_for(client, supervisor).get(manual_url(draft)))

    assert "<fieldset" in html and " disabled>" in html
    assert "保存" not in html


def test_the_manual_page_finds_a_branch_by_name_and_pages_through_many(draft, branch, supervisor, client):
    for n in range(25):
        BranchFactory(name=f"测试{n:02d}队党支部")
    run_compute(run=draft, now=NOW)
    client_for(client, supervisor)

    first = page(client.get(manual_url(draft)))
    found = page(client.get(manual_url(draft), {"q": "综采"}))

    assert first.count('class="card shadow-sm mb-2 manual-row"') == 20
    assert "第 1 / 2 页" in first
    assert found.count('class="card shadow-sm mb-2 manual-row"') == 1 and branch.name in found


# --- The scheme --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_scheme_is_read_by_everyone_signed_in(role, everyone, client):
    response = client_for(client, everyone[role]).get(reverse("assessment:scheme_detail", args=[2026]))

    if role == "anonymous":
        assert refused(response, role)
    else:
        assert response.status_code == 200


def test_the_scheme_lists_items_by_category_with_their_rules_and_the_grade_bands(member, client):
    html = page(client_for(client, member).get(reverse("assessment:scheme_detail", args=[2026])))

    assert html.index("会议开展") < html.index("记录规范") < html.index("党员参与") < html.index("督导整改")
    assert "按“支部委员会每月至少1次”：每缺开一次扣 1 分，补开一次扣 0.5 分；本项最低 0 分。" in html
    assert "督导发现问题：轻微每条扣 0.5 分，一般每条扣 1 分，严重每条扣 2 分" in html
    assert "党员出勤率目标 90%，每低 1 个百分点扣 0.5 分" in html
    assert "由督导组酌情加分，0 至 3 分" in html
    assert "触发后考核等次为“较差”或“不合格”" in html
    bands = section(html, "bands")
    assert "90.00 分及以上" in bands and "80.00 分至 90.00 分以下" in bands and "0.00 分至 70.00 分以下" in bands
    assert "基本分满分 100.00 分" in html
    assert 'id="scheme-admin"' not in html


def test_the_scheme_page_links_to_the_admin_for_admins_only(supervisor, client):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    scheme = load_default_scheme(apps, 2026)

    as_admin = page(client_for(client, admin).get(reverse("assessment:scheme_detail", args=[2026])))
    client.logout()
    as_supervisor = page(client_for(client, supervisor).get(reverse("assessment:scheme_detail", args=[2026])))

    assert reverse("admin:assessment_scheme_change", args=[scheme.pk]) in as_admin
    assert 'id="scheme-admin"' not in as_supervisor


def test_a_year_without_a_scheme_is_a_404_and_the_schemes_link_opens_this_years(member, client):
    load_default_scheme(apps, 2027)  # next year's, already prepared
    with time_machine.travel(NOW, tick=False):
        client_for(client, member)
        assert client.get(reverse("assessment:scheme_detail", args=[1999])).status_code == 404
        response = client.get(reverse("assessment:scheme_latest"))
    assert response["Location"] == reverse("assessment:scheme_detail", args=[2026])


# --- Navigation ----------------------------------------------------------------------------------------


def test_the_navigation_takes_the_committee_to_the_runs_and_a_member_to_their_branch(
    draft, branch, member, supervisor, committee, client
):
    as_member = page(client_for(client, member).get(reverse("home"), follow=True))
    client.logout()
    as_committee = page(client_for(client, committee).get(reverse("home"), follow=True))

    assert reverse("assessment:my_branch_score") in as_member and reverse("assessment:run_list") not in as_member
    assert reverse("assessment:run_list") in as_committee
    assert client.get(reverse("assessment:my_branch_score"))["Location"] == reverse("assessment:run_list")


def test_my_branch_opens_its_latest_published_score_and_says_so_when_there_is_none(
    draft, branch, member, committee, client
):
    client_for(client, member)
    assert "所在支部暂无已发布的考核结果。" in page(client.get(reverse("assessment:my_branch_score")))

    run_submit_for_review(run=draft, user=committee, now=NOW, confirmed=True)
    run_publish(run=draft, user=committee, now=NOW, confirmed=True)

    response = client.get(reverse("assessment:my_branch_score"))
    assert response["Location"] == reverse("assessment:branch_score", args=[draft.pk, branch.pk])


# --- Query counts --------------------------------------------------------------------------------------


def test_the_ranking_costs_the_same_queries_for_20_branches_as_for_3(
    draft, supervisor, client, django_assert_num_queries
):
    BranchFactory()
    run_compute(run=draft, now=NOW)
    client_for(client, supervisor)
    url = reverse("assessment:run_detail", args=[draft.pk])
    client.get(url)

    # 9 of every page, the user's model permissions (2: a rule said no to publishing), and the
    # run, its bands, the ranking and whether a previous run exists
    with django_assert_num_queries(12):
        response = client.get(url, {"failing": ""})
    assert page(response).count('class="branch-link"') == 3

    for _ in range(17):
        BranchFactory()
    run_compute(run=draft, now=NOW)
    with django_assert_num_queries(12):
        response = client.get(url, {"failing": ""})
    assert page(response).count('class="branch-link"') == 20


def test_the_list_of_runs_costs_the_same_queries_for_one_run_as_for_three(
    draft, supervisor, committee, client, django_assert_num_queries
):
    client_for(client, supervisor)
    client.get(reverse("assessment:run_list"))
    # 9 of every page, model permissions (2); the runs, their bands, their grade counts, the schemes' years
    with django_assert_num_queries(12):
        client.get(reverse("assessment:run_list"))
    for start in (dt.date(2026, 4, 1), dt.date(2026, 7, 1)):
        run_compute(run=run_create(kind="quarter", period_start=start, user=committee, now=NOW), now=NOW)
    with django_assert_num_queries(12):
        response = client.get(reverse("assessment:run_list"))
    assert page(response).count('<tr id="run-') == 3


def test_the_manual_page_costs_the_same_queries_for_20_branches_as_for_3(
    draft, supervisor, client, django_assert_num_queries
):
    BranchFactory()
    run_compute(run=draft, now=NOW)
    client_for(client, supervisor)
    client.get(manual_url(draft))

    # 9 of every page (session and its refresh in a savepoint, user, scope, inbox, the navbar's name);
    # the run, its manual items, the page's count, its rows and their manual scores
    with django_assert_num_queries(11):
        response = client.get(manual_url(draft))
    assert page(response).count("manual-row") == 3

    for _ in range(17):
        BranchFactory()
    run_compute(run=draft, now=NOW)
    with django_assert_num_queries(11):
        response = client.get(manual_url(draft))
    assert page(response).count("manual-row") == 20


@pytest.mark.parametrize("name", ["assessment:my_branch_score", "assessment:scheme_latest"])
def test_the_shortcuts_send_anonymous_visitors_to_sign_in(name, client):
    assert refused(client.get(reverse(name)), "anonymous")


def confirmed(key: str) -> dict:
    """The publish form sent with the failing branches' key and the warnings' confirmation ticked."""
    return {"confirmed": key, "confirm_warnings": "1"}


def test_publishing_with_warnings_is_refused_without_the_confirmation_and_opens_nothing(in_review, committee, client):
    client_for(client, committee)
    confirm = page(client.get(reverse("assessment:run_publish", args=[in_review.pk])))
    key = re.search(r'name="confirmed" value="([^"]*)"', confirm).group(1)
    assert "有人工评分项未录入（暂计 0 分）" in section(confirm, "publish-warnings")

    refused_page = page(
        client.post(reverse("assessment:run_publish", args=[in_review.pk]), {"confirmed": key}, follow=True)
    )

    assert status_of(in_review) == "review"
    assert "请确认以上提示后再继续。" in refused_page
    assert not Finding.objects.exists()


# --- The ranking in pages (1,000 branches at group scale) ---------------------------------------


def test_the_ranking_shows_one_page_of_branches_and_the_next_page_keeps_the_filter(
    draft, supervisor, client, monkeypatch, django_assert_num_queries
):
    from assessment.views import runs as run_views

    monkeypatch.setattr(run_views, "RANKING_PAGE_SIZE", 2)
    BranchFactory()
    run_compute(run=draft, now=NOW)
    client_for(client, supervisor)
    url = reverse("assessment:run_detail", args=[draft.pk])
    client.get(url)

    with django_assert_num_queries(12):  # the same as unpaged: the page is cut from the ranking in memory
        first = client.get(url, {"failing": ""})
    assert page(first).count('class="branch-link"') == 2
    body = first.content.decode()
    assert "第 1 / 2 页" in body and "failing=&amp;page=2" in body.replace("page=2&amp;failing=", "failing=&amp;page=2")

    last = client.get(url, {"failing": "", "page": "2"})
    assert page(last).count('class="branch-link"') == 1  # the last ranked branch
    assert "上一页" in last.content.decode()


@pytest.mark.parametrize("raw", ["abc", "-1", "999"])
def test_a_garbage_ranking_page_is_a_page_not_an_error(draft, supervisor, client, raw):
    run_compute(run=draft, now=NOW)
    client_for(client, supervisor)
    response = client.get(reverse("assessment:run_detail", args=[draft.pk]), {"page": raw})
    assert response.status_code == 200
    assert page(response).count('class="branch-link"') >= 1
