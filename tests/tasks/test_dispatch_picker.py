"""The dispatch form's branch picker: grouped by 党总支 with a search box, one query for any number of
branches; the server checks every posted id whatever the page offered."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from org.models import Organization, Post
from tasks.models import Dispatch, Task

from ..conftest import client_for
from ..factories import BranchFactory, CommitteeFactory, OrganizationFactory, member_with_login, staff_user

pytestmark = pytest.mark.django_db


def _due():
    return (timezone.localdate() + dt.timedelta(days=7)).isoformat()


@pytest.fixture
def work_dept():
    return staff_user(username="wd", role="work_dept")


@pytest.fixture
def general_branch():
    return OrganizationFactory(name="机关党总支", kind=Organization.Kind.GENERAL_BRANCH, parent=CommitteeFactory())


def _branches(n, parent=None):
    out = []
    for i in range(n):
        b = BranchFactory(name=f"掘进{i}队党支部", **({"parent": parent} if parent else {}))
        member_with_login(branch=b, username=f"s{b.pk}", role=Post.Role.SECRETARY)
        out.append(b)
    return out


@pytest.mark.parametrize("n", [1, 30])
def test_the_picker_groups_branches_by_general_branch_in_a_fixed_number_of_queries(
    client, django_assert_num_queries, work_dept, general_branch, n
):
    _branches(n, general_branch)
    BranchFactory(name="洗选厂党支部")  # directly under the 党委
    c = client_for(client, work_dept)
    c.get(reverse("tasks:dispatch_create"))
    with django_assert_num_queries(QUERIES):
        html = c.get(reverse("tasks:dispatch_create")).content.decode()
    assert "data-branch-search" in html
    assert html.count("data-branch-group") == 2
    assert html.index("机关党总支") < html.index("掘进0队党支部")
    assert "直属党委的支部" in html
    assert html.count('name="organizations"') == n + 1
    assert "branch_picker.js" in html


# session, user, scope (2), the branches with their parents (1), inbox/todo badge, session save
QUERIES = 7


def test_the_chosen_branches_get_the_task(client, work_dept, general_branch):
    first, _second, third = _branches(3, general_branch)
    response = client_for(client, work_dept).post(
        reverse("tasks:dispatch_create"),
        {"title": "专项检查", "audience": "chosen", "organizations": [first.pk, third.pk], "due_date": _due()},
    )
    assert response.status_code == 302
    assert set(Task.objects.values_list("organization_id", flat=True)) == {first.pk, third.pk}


@pytest.mark.parametrize("bad", ["general_branch", "dissolved", "group_like", "not_a_number"])
def test_an_id_that_is_not_a_live_branch_is_refused_in_chinese_and_nothing_is_sent(
    client, work_dept, general_branch, bad
):
    [branch] = _branches(1, general_branch)
    dissolved = BranchFactory(name="已撤销支部", is_active=False)
    ids = {
        "general_branch": general_branch.pk,
        "dissolved": dissolved.pk,
        "group_like": OrganizationFactory(name="一组", kind=Organization.Kind.GROUP, parent=branch).pk,
        "not_a_number": "abc",
    }
    response = client_for(client, work_dept).post(
        reverse("tasks:dispatch_create"),
        {"title": "专项检查", "audience": "chosen", "organizations": [branch.pk, ids[bad]], "due_date": _due()},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "不存在或已撤销，不能下发" in html or "不是有效的支部" in html
    assert not Dispatch.objects.exists() and not Task.objects.exists()


def test_the_service_refuses_a_unit_that_is_not_a_branch(work_dept, general_branch):
    from django.core.exceptions import ValidationError

    from tasks.services import dispatch_send

    with pytest.raises(ValidationError) as caught:
        dispatch_send(
            title="专项检查",
            due_at=timezone.now() + dt.timedelta(days=3),
            audience=Dispatch.Audience.CHOSEN,
            organizations=[general_branch],
            user=work_dept,
            now=timezone.now(),
        )
    assert caught.value.message_dict["organizations"] == ["只能下发给现有的党支部：机关党总支。"]
    assert not Dispatch.objects.exists()
