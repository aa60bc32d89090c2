"""The compliance matrix as .xlsx: the page's states for every branch, its filters, its permission."""

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from bulletin.export_services import export_run
from meetings.compliance import exemption_grant
from meetings.exports import COMPLIANCE_MATRIX as KIND
from meetings.models import CadenceRule
from org.models import Organization
from tests.bulletin.export_helpers import _exports_in_a_folder_of_the_test, exported, request_job  # noqa: F401
from tests.conftest import client_for
from tests.factories import BranchFactory, CommitteeFactory, GroupFactory
from tests.meetings.test_compliance_pages import NOW, ROLES, hold_every_monthly_meeting, matrix_cells, meeting

pytestmark = pytest.mark.usefixtures("_july")

URL = reverse("meetings:compliance_matrix_xlsx")


@pytest.fixture
def _july(time_machine):
    time_machine.move_to(NOW, tick=False)


def sheet(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [["" if v is None else v for v in row] for row in wb.active.iter_rows(values_only=True)]


def by_branch(rows) -> dict[str, dict[str, str]]:
    header = rows[0]
    return {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}


@pytest.fixture
def mine(db, branch, group, other_branch, supervisor):
    """Demo-like: a 党总支 with a branch that holds everything, one late month, one exempt, one missing."""
    general = Organization.objects.create(name="机电总支", kind=Organization.Kind.GENERAL_BRANCH, parent=branch.parent)
    good = BranchFactory(parent=general, name="机电一队党支部")
    for month in range(1, 7):
        hold_every_monthly_meeting(good, month)
    for month in (2, 5):
        meeting(good, dt.date(2026, month, 20), ["party_lesson"])
    hold_every_monthly_meeting(branch, 3)
    meeting(branch, dt.date(2026, 5, 8), ["theme_day", "general_meeting"])
    meeting(branch, dt.date(2026, 5, 9), ["group_meeting"], group=group)
    meeting(branch, dt.date(2026, 6, 2), ["committee_meeting"], counts_for=dt.date(2026, 5, 30))
    for r in CadenceRule.objects.filter(period="month"):
        exemption_grant(
            branch=other_branch, rule=r, period_start=dt.date(2026, 2, 1), reason="新成立", user=supervisor, now=NOW
        )
    return general, good


@pytest.mark.django_db
def test_every_cell_reads_as_the_matrix_page_shows_it(client, supervisor, branch, other_branch, mine):
    _general, good = mine
    c = client_for(client, supervisor)
    rows = by_branch(sheet(exported(c, URL)))

    page = c.get(reverse("meetings:compliance_matrix"))
    for b in (branch, other_branch, good):
        assert {k: v for k, v in rows[b.name].items() if k not in ("党总支", "支部")} == matrix_cells(page, b)
    assert rows[good.name]["党总支"] == "机电总支"
    assert rows[branch.name]["党总支"] == "直属党支部"
    assert (rows[branch.name]["3月"], rows[branch.name]["5月"], rows[branch.name]["8月"]) == ("达标", "补开", "")
    assert rows[other_branch.name]["2月"] == "豁免"
    assert rows[good.name]["6月"] == "达标"
    assert list(rows[good.name])[2:14] == [f"{m}月" for m in range(1, 13)]


@pytest.mark.django_db
def test_the_export_has_every_branch_not_one_page_grouped_by_general_branch(client, supervisor, branch, mine):
    _general, _good = mine
    for i in range(55):
        BranchFactory(parent=branch.parent, name=f"测试{i:02d}党支部")
    rows = sheet(exported(client_for(client, supervisor), URL))[1:]
    assert len(rows) == Organization.objects.branches().count() == 58
    groups = [r[0] for r in rows]
    # Each 党总支's branches together, as on the page.
    assert groups.count("机电总支") == 1
    assert [g for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g] in (
        ["直属党支部", "机电总支"],
        ["机电总支", "直属党支部"],
    )


@pytest.mark.django_db
def test_the_export_keeps_the_page_filters(client, supervisor, branch, other_branch, mine):
    general, good = mine
    c = client_for(client, supervisor)
    assert [r[1] for r in sheet(exported(c, URL, {"q": "机电"}))[1:]] == [good.name]
    problems = [r[1] for r in sheet(exported(c, URL, {"problems": "1"}))[1:]]
    assert good.name not in problems
    assert branch.name in problems and other_branch.name in problems
    assert [r[1] for r in sheet(exported(c, URL, {"general_branch": general.pk}))[1:]] == [good.name]
    assert sheet(exported(c, URL, {"q": "没有这个支部"})) == [sheet(exported(c, URL))[0]]
    assert c.get(URL, {"year": "abc"}).status_code == 404
    assert c.get(URL, {"general_branch": "x"}).status_code == 404


@pytest.mark.django_db
def test_the_matrix_page_links_to_the_export_with_its_filters(client, supervisor, mine):
    body = client_for(client, supervisor).get(reverse("meetings:compliance_matrix"), {"q": "机电", "page": "1"})
    assert f'href="{URL}?q=%E6%9C%BA%E7%94%B5"' in body.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_export_is_open_to_whom_the_matrix_is_open(client, people, role):
    matrix = client_for(client, people[role]).get(reverse("meetings:compliance_matrix"))
    response = client_for(client, people[role]).get(URL)
    if role == "supervisor":  # to the page whose button queues the job
        assert response.status_code == 302 and response.url.startswith(reverse("bulletin:export_start", args=[KIND]))
        response = client.get(response.url)
    assert response.status_code == matrix.status_code
    if role == "anonymous":
        assert response.url == f"{reverse('login')}?next={URL}"
    elif role != "supervisor":
        assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("n_branches", [1, 12])
def test_the_export_query_count_does_not_grow_with_branches(client, supervisor, n_branches, django_assert_num_queries):
    committee = CommitteeFactory()
    general = Organization.objects.create(name="综采总支", kind=Organization.Kind.GENERAL_BRANCH, parent=committee)
    for i in range(n_branches):
        b = BranchFactory(parent=general if i % 2 else committee)
        g = GroupFactory(parent=b)
        hold_every_monthly_meeting(b, 1 + i % 6)
        meeting(b, dt.date(2026, 2, 3), ["group_meeting"], group=g, counts_for=dt.date(2026, 1, 30))
    c = client_for(client, supervisor)
    job = request_job(c, URL)

    # The worker: claim, job, the branches' count, rules, the rollup read, the engine's (groups,
    # exemptions, meetings, ...), the finish and the inbox message.
    with django_assert_num_queries(WORKER_QUERIES):
        export_run(job_id=job.pk, now=timezone.now())

    assert len(sheet(c.get(reverse("bulletin:export_download", args=[job.pk])))) == 1 + n_branches


WORKER_QUERIES = 19  # the flip to done and its inbox line commit together: one savepoint (+2)
