"""The 技术攻关 pages: what each role may open or do, bad input where it enters, pinned query counts."""

import pytest
from django.urls import reverse

from practice.models import Project, ProjectEvidence
from tests.conftest import client_for
from tests.factories import member_with_login

from .conftest import member_of, open_project, photo, reported

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(branch, group, group_leader):
    return open_project(branch=branch, group=group, user=group_leader, leader=member_of(group_leader))


@pytest.fixture
def roles(people, group_leader, verifier):
    return {**people, "group_leader": group_leader, "verifier": verifier}


def _form(**extra):
    data = {
        "title": "综采工作面降尘",
        "source": "safety",
        "problem": "粉尘浓度超标",
        "started_on": "2026-12-01",
        "metric": "粉尘浓度",
        "unit": "mg/m³",
        "baseline_value": "10",
        "target_value": "6",
        "form_token": "tok-1",
    }
    data.update(extra)
    return data


def test_a_group_leader_opens_a_project_of_their_group_and_a_second_submit_changes_nothing(
    client, branch, group, group_leader
):
    c = client_for(client, group_leader)
    url = reverse("practice:project_create", args=[branch.pk])
    data = _form(group=group.pk, leader=member_of(group_leader).pk, workers="张三 采煤机司机")
    response = c.post(url, data)
    project = Project.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("practice:project_detail", args=[project.pk])
    assert project.group == group
    again = c.post(url, data)
    assert again.status_code == 400
    assert "请勿重复提交" in again.content.decode()
    assert Project.objects.count() == 1


def test_the_form_refuses_a_project_without_leader_or_target_in_chinese(client, branch, group, group_leader):
    c = client_for(client, group_leader)
    response = c.post(
        reverse("practice:project_create", args=[branch.pk]), _form(group=group.pk, metric="", target_value="")
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "请指定项目负责人" in body
    assert "请填写目标指标" in body
    assert "请填写目标值" in body
    assert not Project.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("member", 403), ("other_secretary", 404), ("anonymous", 302)])
def test_others_may_not_open_a_project_of_the_branch(client, people, branch, role, status):
    c = client_for(client, people[role])
    response = c.post(reverse("practice:project_create", args=[branch.pk]), _form())
    assert response.status_code == status
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("secretary", 200),
        ("group_leader", 200),
        ("member", 200),
        ("supervisor", 200),
        ("verifier", 404),
        ("other_secretary", 404),
        ("anonymous", 302),
    ],
)
def test_who_sees_a_project_before_it_is_reported(client, roles, project, role, status):
    response = client_for(client, roles[role]).get(reverse("practice:project_detail", args=[project.pk]))
    assert response.status_code == status
    if status == 200:
        assert "综采工作面降尘" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "status"),
    [("member", 403), ("supervisor", 403), ("other_secretary", 404), ("verifier", 404), ("anonymous", 302)],
)
def test_others_may_not_edit_start_or_end_a_project(client, roles, project, role, status):
    c = client_for(client, roles[role])
    for name, data in [
        ("project_edit", {**_form(), "title": "改名"}),
        ("project_start", {}),
        ("project_terminate", {"reason": "不做了"}),
        ("project_report", {"measured_value": "6", "outcome": "x"}),
    ]:
        assert c.post(reverse(f"practice:{name}", args=[project.pk]), data).status_code == status, name
    project.refresh_from_db()
    assert (project.title, project.state) == ("综采工作面降尘", Project.State.OPENED)


def test_the_secretary_edits_and_starts_the_project(client, secretary, project):
    c = client_for(client, secretary)
    response = c.post(reverse("practice:project_edit", args=[project.pk]), {**_form(), "title": "工作面降尘二期"})
    assert response.status_code == 302
    c.post(reverse("practice:project_start", args=[project.pk]))
    project.refresh_from_db()
    assert (project.title, project.state) == ("工作面降尘二期", Project.State.IN_PROGRESS)


def test_the_report_page_refuses_an_outcome_without_evidence(client, group_leader, project, verifier, safety_dept):
    c = client_for(client, group_leader)
    c.post(reverse("practice:project_start", args=[project.pk]))
    response = c.post(
        reverse("practice:project_report", args=[project.pk]),
        {"measured_value": "6", "outcome": "下降 40 %", "verifier": f"{safety_dept.pk}:{verifier.pk}"},
    )
    assert response.status_code == 400
    assert "请上传成果佐证材料" in response.content.decode()
    project.refresh_from_db()
    assert project.state == Project.State.IN_PROGRESS


def test_the_report_page_sends_the_outcome_with_a_photo_to_the_verifier(
    client, group_leader, project, verifier, safety_dept
):
    c = client_for(client, group_leader)
    c.post(reverse("practice:project_start", args=[project.pk]))
    response = c.post(
        reverse("practice:project_report", args=[project.pk]),
        {
            "measured_value": "6",
            "money_estimate": "120000",
            "outcome": "下降 40 %",
            "verifier": f"{safety_dept.pk}:{verifier.pk}",
            "files": [photo()],
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.state, project.verifier, project.department) == (Project.State.REPORTED, verifier, safety_dept)


@pytest.fixture
def reported_project(project, group_leader, verifier, safety_dept):
    reported(project, user=group_leader, verifier=verifier, department=safety_dept)
    project.refresh_from_db()
    return project


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("secretary", 403),
        ("group_leader", 403),
        ("member", 403),
        ("supervisor", 403),
        ("other_secretary", 404),
        ("anonymous", 302),
    ],
)
def test_only_the_named_verifier_may_verify(client, roles, reported_project, role, status):
    c = client_for(client, roles[role])
    response = c.post(
        reverse("practice:project_verify", args=[reported_project.pk]), {"decision": "pass", "comment": "好"}
    )
    assert response.status_code == status
    reported_project.refresh_from_db()
    assert reported_project.state == Project.State.REPORTED


def test_the_verifier_verifies_and_the_project_is_locked_against_edits(client, roles, reported_project):
    c = client_for(client, roles["verifier"])
    assert c.get(reverse("practice:project_detail", args=[reported_project.pk])).status_code == 200
    response = c.post(
        reverse("practice:project_verify", args=[reported_project.pk]), {"decision": "pass", "comment": "经检测属实"}
    )
    assert response.status_code == 302
    reported_project.refresh_from_db()
    assert reported_project.state == Project.State.VERIFIED
    leader = client_for(client, roles["secretary"])
    response = leader.post(reverse("practice:project_edit", args=[reported_project.pk]), {**_form(), "title": "改"})
    assert response.status_code == 302
    reported_project.refresh_from_db()
    assert reported_project.title == "综采工作面降尘"
    page = leader.get(reverse("practice:project_detail", args=[reported_project.pk])).content.decode()
    assert "项目已锁定" in page


@pytest.mark.parametrize(
    ("role", "status"),
    [("member", 200), ("supervisor", 200), ("verifier", 200), ("other_secretary", 404), ("anonymous", 302)],
)
def test_evidence_is_served_only_to_those_who_see_the_project(client, roles, reported_project, role, status):
    evidence = ProjectEvidence.objects.get(project=reported_project)
    response = client_for(client, roles[role]).get(reverse("practice:project_evidence", args=[evidence.pk]))
    assert response.status_code == status
    if status == 200:
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


def test_the_list_shows_only_the_branches_projects_to_another_secretary(client, project, other_secretary, other_branch):
    mine = open_project(
        branch=other_branch, group=None, user=other_secretary, leader=member_of(other_secretary), title="掘进提效"
    )
    body = client_for(client, other_secretary).get(reverse("practice:project_list")).content.decode()
    assert mine.title in body
    assert project.title not in body


def _many_projects(branch, group, group_leader, n, first=0):
    for i in range(first, first + n):
        extra = member_with_login(branch=branch, group=group, username=f"m{i}", name=f"成员{i}")
        open_project(
            branch=branch,
            group=group,
            user=group_leader,
            leader=member_of(group_leader),
            title=f"攻关{i}",
            party_members=[member_of(extra)],
        )


def test_the_list_and_detail_query_counts_do_not_grow(
    client, branch, group, group_leader, supervisor, django_assert_num_queries
):
    c = client_for(client, supervisor)
    _many_projects(branch, group, group_leader, 1)
    first = Project.objects.order_by("id").first()
    c.get(reverse("practice:project_list"))
    with django_assert_num_queries(LIST_QUERIES):
        c.get(reverse("practice:project_list"))
    with django_assert_num_queries(DETAIL_QUERIES):
        c.get(reverse("practice:project_detail", args=[first.pk]))
    _many_projects(branch, group, group_leader, 5, first=1)
    with django_assert_num_queries(LIST_QUERIES):
        c.get(reverse("practice:project_list"))
    with django_assert_num_queries(DETAIL_QUERIES):
        c.get(reverse("practice:project_detail", args=[first.pk]))


LIST_QUERIES = 7
DETAIL_QUERIES = 11


def test_anonymous_is_sent_to_sign_in_from_the_list(client):
    response = client.get(reverse("practice:project_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_verifier_sees_the_outcome_and_its_evidence_before_deciding(client, roles, reported_project):
    body = (
        client_for(client, roles["verifier"])
        .get(reverse("practice:project_verify", args=[reported_project.pk]))
        .content.decode()
    )
    evidence = ProjectEvidence.objects.get(project=reported_project)
    assert "粉尘浓度下降 40 %" in body
    assert reverse("practice:project_evidence", args=[evidence.pk]) in body
