"""The compliance pages: who may open them, what they show, and what they cost in queries."""

import datetime as dt
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from django.urls import reverse

from meetings.compliance import exemption_grant
from meetings.models import CadenceRule, Exemption, Meeting
from org.models import Organization
from tests.conftest import client_for
from tests.factories import BranchFactory, CommitteeFactory, GroupFactory, MeetingFactory

pytestmark = pytest.mark.usefixtures("_mid_july_2026")

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 7, 15, 10, 0, tzinfo=SHANGHAI)
ROLES = ["secretary", "member", "other_secretary", "supervisor", "anonymous"]
MONTHLY = ["committee_meeting", "theme_day", "general_meeting"]  # with a group meeting per group: every monthly rule


@pytest.fixture
def _mid_july_2026(time_machine):
    time_machine.move_to(NOW, tick=False)


def meeting(branch, held_on, types, *, group=None, counts_for=None, topic=None):
    start = dt.datetime.combine(held_on, dt.time(15), tzinfo=SHANGHAI)
    return MeetingFactory(
        branch=branch,
        group=group,
        types=types,
        status=Meeting.Status.APPROVED,
        planned_start=start,
        actual_start=start,
        counts_for=counts_for or held_on,
        **({"topic": topic} if topic else {}),
    )


def hold_every_monthly_meeting(branch, month: int) -> None:
    meeting(branch, dt.date(2026, month, 8), MONTHLY)
    for g in Organization.objects.groups().filter(parent=branch):
        meeting(branch, dt.date(2026, month, 9), ["group_meeting"], group=g)


def page(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.content.decode())


def matrix_cells(response, branch) -> dict[str, str]:
    """Column heading -> the text of ``branch``'s cell, as the matrix shows it."""
    doc = page(response)
    headings = [
        th.text_content().strip() for th in doc.get_element_by_id("compliance-matrix").find(".//thead").iter("th")
    ]
    row = doc.get_element_by_id(f"branch-{branch.pk}")
    cells = [td.text_content().strip() for td in row.iter("td")]
    return dict(zip(headings[1:], cells, strict=True))


# --- Who may open what ------------------------------------------------------------------------

ALLOWED = {
    "matrix": {"supervisor"},
    "own branch": {"secretary", "member", "supervisor"},
    "other branch": {"other_secretary", "supervisor"},
    "own cell": {"secretary", "member", "supervisor"},
    "other cell": {"other_secretary", "supervisor"},
}
CASES = [(p, role) for p in ALLOWED for role in ROLES]


def url_of(name, branch, other_branch) -> str:
    return {
        "matrix": reverse("meetings:compliance_matrix"),
        "own branch": reverse("meetings:branch_compliance", args=[branch.pk, 2026]),
        "other branch": reverse("meetings:branch_compliance", args=[other_branch.pk, 2026]),
        "own cell": reverse("meetings:compliance_cell", args=[branch.pk, "2026-03"]),
        "other cell": reverse("meetings:compliance_cell", args=[other_branch.pk, "2026-Q1"]),
    }[name]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), CASES, ids=[f"{p} as {role}" for p, role in CASES])
def test_each_compliance_page_is_open_to_its_roles_and_refused_to_the_others(
    client, people, branch, other_branch, name, role
):
    url = url_of(name, branch, other_branch)

    response = client_for(client, people[role]).get(url)

    if role == "anonymous":
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"
    elif role in ALLOWED[name]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.django_db
def test_the_committee_sees_the_matrix(client, db):
    from org.models import StaffRole
    from tests.factories import staff_user

    committee_member = staff_user(username="committee", role=StaffRole.Role.COMMITTEE)

    assert client_for(client, committee_member).get(reverse("meetings:compliance_matrix")).status_code == 200


@pytest.mark.django_db
def test_the_branch_view_without_a_year_shows_the_current_year(client, member, branch):
    response = client_for(client, member).get(reverse("meetings:branch_compliance", args=[branch.pk]))

    assert response.status_code == 200
    assert "2026年三会一课落实情况" in page(response).findtext(".//h1")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/meetings/compliance/?year=abc",
        "/meetings/compliance/?year=1999",
        "/meetings/compliance/?general_branch=999999",
        "/meetings/compliance/?general_branch=x",
    ],
)
def test_the_matrix_refuses_a_malformed_filter(client, supervisor, url):
    assert client_for(client, supervisor).get(url).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("period", ["2026-13", "2026-Q0", "26", "march", "1899-01"])
def test_the_drill_down_refuses_a_malformed_period(client, supervisor, branch, period):
    url = reverse("meetings:compliance_cell", args=[branch.pk, period])

    assert client_for(client, supervisor).get(url).status_code == 404


@pytest.mark.django_db
def test_a_group_is_not_a_branch_for_the_compliance_pages(client, supervisor, group):
    url = reverse("meetings:branch_compliance", args=[group.pk, 2026])

    assert client_for(client, supervisor).get(url).status_code == 404


# --- What the matrix shows ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_missing_month_shows_missing_for_that_branch_only(client, supervisor, branch, group, other_branch):
    hold_every_monthly_meeting(branch, 3)
    hold_every_monthly_meeting(other_branch, 4)

    response = client_for(client, supervisor).get(reverse("meetings:compliance_matrix"))

    ours, theirs = matrix_cells(response, branch), matrix_cells(response, other_branch)
    assert (ours["3月"], ours["4月"]) == ("达标", "未开")
    assert (theirs["3月"], theirs["4月"]) == ("未开", "达标")
    assert ours["7月"] == theirs["7月"] == "进行中"
    assert ours["8月"] == "", "a month not begun is not judged"
    assert ours["Q1"] == "未开", "no general meeting counted as a party lesson, and none in the quarter for it"
    assert ours["全年"] == "进行中"
    assert list(ours)[:12] == [f"{m}月" for m in range(1, 13)]
    assert [k for k in ours if k.startswith("Q")] == ["Q1", "Q2", "Q3", "Q4"]


@pytest.mark.django_db
def test_a_late_month_shows_late_and_its_cell_links_to_the_drill_down(client, supervisor, branch, group):
    meeting(branch, dt.date(2026, 5, 8), ["theme_day", "general_meeting"])
    meeting(branch, dt.date(2026, 5, 9), ["group_meeting"], group=group)
    meeting(branch, dt.date(2026, 6, 2), ["committee_meeting"], counts_for=dt.date(2026, 5, 30))

    response = client_for(client, supervisor).get(reverse("meetings:compliance_matrix"))

    assert matrix_cells(response, branch)["5月"] == "补开"
    row = page(response).get_element_by_id(f"branch-{branch.pk}")
    hrefs = [a.get("href") for a in row.iter("a")]
    assert reverse("meetings:compliance_cell", args=[branch.pk, "2026-05"]) in hrefs
    assert reverse("meetings:compliance_cell", args=[branch.pk, "2026-Q2"]) in hrefs
    assert reverse("meetings:branch_compliance", args=[branch.pk, 2026]) in hrefs


@pytest.mark.django_db
def test_an_exempt_month_shows_exempt(client, supervisor, branch):
    for r in CadenceRule.objects.filter(period="month"):
        exemption_grant(
            branch=branch, rule=r, period_start=dt.date(2026, 2, 1), reason="新成立支部", user=supervisor, now=NOW
        )

    response = client_for(client, supervisor).get(reverse("meetings:compliance_matrix"))

    cells = matrix_cells(response, branch)
    assert (cells["1月"], cells["2月"]) == ("未开", "豁免")


@pytest.mark.django_db
def test_the_matrix_can_show_one_general_branch_and_another_year(client, supervisor, branch, other_branch):
    general = Organization.objects.create(
        name="机电总支", kind=Organization.Kind.GENERAL_BRANCH, parent=CommitteeFactory()
    )
    inside = BranchFactory(parent=general, name="机电一队党支部")
    meeting(inside, dt.date(2025, 12, 3), MONTHLY)

    response = client_for(client, supervisor).get(
        reverse("meetings:compliance_matrix"), {"general_branch": general.pk, "year": 2025}
    )

    doc = page(response)
    assert [tr.get("id") for tr in doc.get_element_by_id("compliance-matrix").findall(".//tbody/tr")] == [
        f"branch-{inside.pk}"
    ]
    assert matrix_cells(response, inside)["12月"] == "达标"
    assert matrix_cells(response, inside)["11月"] == "未开"
    assert "机电总支" in doc.get_element_by_id("compliance-filter").text_content()


@pytest.mark.django_db
@pytest.mark.parametrize("n_branches", [2, 10])
def test_the_matrix_query_count_does_not_grow_with_branches(client, supervisor, n_branches, django_assert_num_queries):
    for i in range(n_branches):
        b = BranchFactory()
        g = GroupFactory(parent=b)
        hold_every_monthly_meeting(b, 1 + i % 6)
        meeting(b, dt.date(2026, 2, 3), ["group_meeting"], group=g, counts_for=dt.date(2026, 1, 30))
        exemption_grant(
            branch=b,
            rule=CadenceRule.objects.get(name="支部委员会每月至少1次"),
            period_start=dt.date(2026, 3, 1),
            reason="新成立",
            user=supervisor,
            now=NOW,
        )
    c = client_for(client, supervisor)
    c.get(reverse("meetings:compliance_matrix"))  # session and scope warm-up aside, every request costs the same

    # session, user, scope (2), general branches, branches, the engine (4), the layout's own (3)
    with django_assert_num_queries(14):  # + the rollup read, + the paginator's COUNT (50 a page)
        response = c.get(reverse("meetings:compliance_matrix"))

    assert len(page(response).get_element_by_id("compliance-matrix").findall(".//tbody/tr")) == n_branches


# --- A branch's own year ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_branch_view_shows_each_rule_and_each_group(client, member, branch, group):
    quiet = GroupFactory(parent=branch, name="第二党小组")
    meeting(branch, dt.date(2026, 3, 9), ["group_meeting"], group=group)

    response = client_for(client, member).get(reverse("meetings:branch_compliance", args=[branch.pk, 2026]))

    rows = {}
    for tr in page(response).get_element_by_id("compliance-branch").find("tbody"):
        th = tr.find("th")
        rows[" ".join(th.text_content().split())] = [
            (td.text_content().strip(), int(td.get("colspan"))) for td in tr.iter("td")
        ]
    assert rows[f"党小组会每月至少1次 {group.name}"][2] == ("达标", 1)
    assert rows[f"党小组会每月至少1次 {quiet.name}"][2] == ("未开", 1)
    # The monthly 基层会议 is a 支部党员大会: a 党小组会 alone does not hold it.
    assert rows["基层会议每月至少1次（支部党员大会）"][2] == ("未开", 1)
    assert rows["支部委员会每月至少1次"][:3] == [("未开", 1)] * 3
    assert rows["支部党员大会每季度至少1次"] == [("未开", 3), ("未开", 3), ("进行中", 3), ("", 3)]
    assert rows["组织生活会每年至少1次"] == [("进行中", 12)]


@pytest.mark.django_db
@pytest.mark.parametrize("n_groups", [1, 5])
def test_the_branch_view_query_count_does_not_grow_with_groups(
    client, member, branch, n_groups, django_assert_num_queries
):
    for _ in range(n_groups):
        g = GroupFactory(parent=branch)
        meeting(branch, dt.date(2026, 4, 9), ["group_meeting"], group=g)
    c = client_for(client, member)
    c.get(reverse("meetings:branch_compliance", args=[branch.pk, 2026]))

    with django_assert_num_queries(16):  # + the rollup read
        response = c.get(reverse("meetings:branch_compliance", args=[branch.pk, 2026]))

    # one row per group, the member's own group included
    assert response.content.decode().count("党小组会每月至少1次") == n_groups + 1


# --- The drill-down and exemptions ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_drill_down_lists_per_rule_the_meetings_that_counted(client, secretary, branch, group):
    on_time = meeting(branch, dt.date(2026, 3, 9), ["general_meeting", "theme_day"], topic="学习安全生产条例")
    late = meeting(
        branch, dt.date(2026, 4, 2), ["committee_meeting"], counts_for=dt.date(2026, 3, 31), topic="补开支委会"
    )

    response = client_for(client, secretary).get(reverse("meetings:compliance_cell", args=[branch.pk, "2026-03"]))

    doc = page(response)
    committee = doc.get_element_by_id(f"rule-{CadenceRule.objects.get(name='支部委员会每月至少1次').pk}")
    assert "补开" in committee.find(".//span[@class='badge bg-warning text-dark ms-auto']").text_content()
    assert committee.xpath(".//a/@href") == [reverse("meetings:meeting_detail", args=[late.pk])]
    theme = doc.get_element_by_id(f"rule-{CadenceRule.objects.get(name='主题党日每月1次').pk}")
    assert theme.xpath(".//a/@href") == [reverse("meetings:meeting_detail", args=[on_time.pk])]
    assert "达标" in theme.text_content()
    groups_rule = CadenceRule.objects.get(name="党小组会每月至少1次")
    assert "未开" in doc.get_element_by_id(f"rule-{groups_rule.pk}-group-{group.pk}").text_content()
    assert "exemption-form" not in response.content.decode(), "only supervisors grant exemptions"


@pytest.mark.django_db
def test_a_supervisor_grants_an_exemption_from_the_drill_down(client, supervisor, branch):
    general = CadenceRule.objects.get(name="支部党员大会每季度至少1次")
    url = reverse("meetings:compliance_cell", args=[branch.pk, "2026-Q1"])
    c = client_for(client, supervisor)
    assert "exemption-form" in c.get(url).content.decode()

    response = c.post(url, {"rule": general.pk, "reason": "支部于三月新成立"})

    assert response.status_code == 302
    exemption = Exemption.objects.get()
    assert (exemption.branch, exemption.rule, exemption.period_start) == (branch, general, dt.date(2026, 1, 1))
    assert (exemption.approved_by, exemption.approved_at) == (supervisor, NOW)
    card = page(c.get(url)).get_element_by_id(f"rule-{general.pk}")
    assert "豁免" in card.text_content()
    assert "支部于三月新成立" in card.text_content()


@pytest.mark.django_db
def test_an_exemption_form_without_a_reason_is_refused(client, supervisor, branch):
    general = CadenceRule.objects.get(name="支部党员大会每季度至少1次")
    url = reverse("meetings:compliance_cell", args=[branch.pk, "2026-Q1"])

    response = client_for(client, supervisor).post(url, {"rule": general.pk, "reason": ""})

    assert response.status_code == 400
    assert not Exemption.objects.exists()


@pytest.mark.django_db
def test_a_rule_of_another_period_cannot_be_exempted_from_a_month(client, supervisor, branch):
    quarterly = CadenceRule.objects.get(name="支部党员大会每季度至少1次")
    url = reverse("meetings:compliance_cell", args=[branch.pk, "2026-02"])

    response = client_for(client, supervisor).post(url, {"rule": quarterly.pk, "reason": "新成立"})

    assert response.status_code == 400
    assert not Exemption.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["secretary", "member", "other_secretary", "anonymous"])
def test_only_supervisors_grant_exemptions(client, people, branch, role):
    general = CadenceRule.objects.get(name="支部党员大会每季度至少1次")
    url = reverse("meetings:compliance_cell", args=[branch.pk, "2026-Q1"])

    response = client_for(client, people[role]).post(url, {"rule": general.pk, "reason": "自己批准自己"})

    assert response.status_code == (302 if role == "anonymous" else 403)
    if role == "anonymous":
        assert response.url.startswith(reverse("login"))
    assert not Exemption.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("n_meetings", [1, 6])
def test_the_drill_down_query_count_does_not_grow_with_meetings(
    client, supervisor, branch, group, n_meetings, django_assert_num_queries
):
    for day in range(1, n_meetings + 1):
        meeting(branch, dt.date(2026, 3, day), ["general_meeting", "theme_day"])
        meeting(branch, dt.date(2026, 3, day), ["group_meeting"], group=group)
    url = reverse("meetings:compliance_cell", args=[branch.pk, "2026-03"])
    c = client_for(client, supervisor)
    c.get(url)

    with django_assert_num_queries(14):  # + the rollup read
        response = c.get(url)

    assert response.content.decode().count('href="/meetings/') >= 3 * n_meetings
