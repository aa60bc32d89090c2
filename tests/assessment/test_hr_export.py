"""The HR export (绩效): the .xlsx re-read with openpyxl matches the MemberScore rows; who may download it."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from assessment.hr_export import HEADERS
from assessment.models import MemberScore, Run
from assessment.participation import member_scores_compute
from bulletin.export_services import export_run
from org.models import Member, StaffRole
from tests.bulletin.export_helpers import _exports_in_a_folder_of_the_test, exported, request_job  # noqa: F401
from tests.conftest import client_for
from tests.factories import BranchFactory, staff_user

from .test_participation import LV, NOW, A, L, P, make_member, make_run, meetings_with

WORKER_QUERIES = 16  # the flip to done and its inbox line commit together: one savepoint (+2)

EXPECTED_HEADERS = [
    "支部", "姓名", "类别", "应参加", "出席", "迟到", "请假",
    "无故缺席", "讲党课", "参与得分", "出勤率", "可评优", "原因",
]  # fmt: skip


def _sheet(response):
    content = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(content), read_only=True).active
    # read-only mode drops trailing empty cells: pad every row to the header's width
    return [list(row) + [None] * (len(HEADERS) - len(row)) for row in ws.iter_rows(values_only=True)]


@pytest.fixture
def computed_run(db):
    first, second = BranchFactory(name="甲支部", sort_order=1), BranchFactory(name="乙支部", sort_order=2)
    zhang = make_member(second, name="张三")
    li = make_member(first, name="李四", category=Member.Category.PROBATIONARY)
    wang = make_member(first, name="=王五")  # a name Excel would take for a formula
    meetings_with(first, li, [P, P, L, LV])
    meetings_with(second, zhang, [A, P], month=3)
    meetings_with(first, wang, [P] * 10, month=1)
    run = make_run()
    member_scores_compute(run=run, failing_branch_ids={second.pk}, now=NOW)
    return run


def test_the_sheet_has_one_row_per_member_matching_the_stored_scores(computed_run, supervisor, client):
    response = exported(client_for(client, supervisor), reverse("assessment:hr_export", args=[computed_run.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    rows = _sheet(response)
    assert tuple(rows[0]) == HEADERS
    assert rows[0] == EXPECTED_HEADERS
    scores = {s.member.name: s for s in MemberScore.objects.filter(run=computed_run).select_related("member")}
    assert [r[1] for r in rows[1:]] == ["=王五", "李四", "张三"]  # branch order, then name
    for row in rows[1:]:
        s = scores[row[1]]
        assert row[0] == s.branch.name
        assert row[3:10] == [s.expected, s.attended, s.late, s.on_leave, s.absent, s.lessons_given, float(s.points)]
        assert row[10] == pytest.approx(s.attended / s.expected)
        assert row[11] == ("是" if s.eligible else "否")
        assert (row[12] or "") == s.ineligible_reason
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["李四"][2] == "预备"
    assert by_name["张三"][2] == "正式"
    assert by_name["李四"][3:11] == [4, 3, 1, 1, 0, 0, 9.5, 0.75]
    assert by_name["张三"][9:] == [7, 0.5, "否", "出勤率 50.0% 低于 90%；无故缺席 1 次；所在支部考核不合格"]
    assert by_name["=王五"][11:] == ["是", None]


def test_a_member_without_meetings_has_an_empty_rate_cell(db, supervisor, client):
    branch = BranchFactory()
    make_member(branch, name="赵六")
    run = make_run()
    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)

    rows = _sheet(exported(client_for(client, supervisor), reverse("assessment:hr_export", args=[run.pk])))

    assert rows[1][:4] == [branch.name, "赵六", "正式", 0]
    assert rows[1][10] is None


def test_the_committee_may_download_it_and_the_file_name_says_when_the_run_is_not_published(computed_run, client):
    committee = staff_user(username="committee", role=StaffRole.Role.COMMITTEE)

    response = exported(client_for(client, committee), reverse("assessment:hr_export", args=[computed_run.pk]))

    assert response.status_code == 200
    assert "%E6%9C%AA%E5%8F%91%E5%B8%83" in response["Content-Disposition"]  # 未发布
    Run.objects.filter(pk=computed_run.pk).update(status=Run.Status.PUBLISHED, published_at=NOW)
    published = exported(client, reverse("assessment:hr_export", args=[computed_run.pk]))
    assert "%E6%9C%AA%E5%8F%91%E5%B8%83" not in published["Content-Disposition"]


@pytest.mark.parametrize("who", ["secretary", "member", "other_secretary"])
def test_branch_people_may_not_download_it(computed_run, people, client, who):
    response = client_for(client, people[who]).get(reverse("assessment:hr_export", args=[computed_run.pk]))
    assert response.status_code == 403


def test_anonymous_is_sent_to_sign_in(computed_run, client):
    response = client.get(reverse("assessment:hr_export", args=[computed_run.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_unknown_run_is_404(db, supervisor, client):
    assert client_for(client, supervisor).get(reverse("assessment:hr_export", args=[999999])).status_code == 404


@pytest.mark.parametrize("size", [3, 30])
def test_the_export_costs_the_same_queries_for_3_or_30_members(db, supervisor, client, django_assert_num_queries, size):
    branch = BranchFactory()
    for _ in range(size):
        make_member(branch)
    run = make_run()
    member_scores_compute(run=run, failing_branch_ids=set(), now=NOW)
    job = request_job(client_for(client, supervisor), reverse("assessment:hr_export", args=[run.pk]))

    # The worker: claim, job, the run, the members' count, the rows, the filename's run, the
    # finish and the inbox message; the same for 3 or 30 members.
    with django_assert_num_queries(WORKER_QUERIES):
        export_run(job_id=job.pk, now=NOW)
    rows = _sheet(client.get(reverse("bulletin:export_download", args=[job.pk])))

    assert len(rows) == size + 1
    assert {r[9] for r in rows[1:]} == {Decimal("10")}
