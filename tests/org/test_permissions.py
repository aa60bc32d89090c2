"""Every org page for every role: who gets it, who is refused, and what each one sees."""

import pytest
from django.urls import reverse

from org.models import Post
from tests.conftest import client_for
from tests.factories import BranchFactory, GroupFactory, MemberFactory, MembershipFactory, PostFactory

ROLES = ["secretary", "member", "other_secretary", "supervisor", "anonymous"]


def url_of(page, people, branch, other_branch) -> str:
    """The URL of ``page``, a short name that reads as the case it tests."""
    members = {name: getattr(people[name], "member", None) for name in ("secretary", "member", "other_secretary")}
    return {
        "home": reverse("home"),
        "branch list": reverse("org:branch_list"),
        "own branch": reverse("org:branch_detail", args=[branch.pk]),
        "other branch": reverse("org:branch_detail", args=[other_branch.pk]),
        "the secretary": reverse("org:member_detail", args=[members["secretary"].pk]),
        "the member": reverse("org:member_detail", args=[members["member"].pk]),
        "the other secretary": reverse("org:member_detail", args=[members["other_secretary"].pk]),
    }[page]


# page -> the roles that may open it; every other signed-in role gets 403, anonymous the sign-in page.
# "own branch" is the branch of the secretary and the member; "other branch" the other secretary's.
ALLOWED = {
    "home": {"secretary", "member", "other_secretary", "supervisor"},
    "branch list": {"supervisor"},
    "own branch": {"secretary", "member", "supervisor"},
    "other branch": {"other_secretary", "supervisor"},
    # Members' pages: themselves, the managers of their branch, and supervisors.
    "the secretary": {"secretary", "supervisor"},
    "the member": {"member", "secretary", "supervisor"},
    "the other secretary": {"other_secretary", "supervisor"},
}

CASES = [(page, role) for page in ALLOWED for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("page", "role"), CASES, ids=[f"{page} as {role}" for page, role in CASES])
def test_each_page_is_open_to_its_roles_and_refused_to_the_others(client, people, branch, other_branch, page, role):
    url = url_of(page, people, branch, other_branch)

    response = client_for(client, people[role]).get(url)

    if role == "anonymous":
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"
    elif role in ALLOWED[page]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.django_db
def test_an_unknown_branch_or_member_is_not_found(client, supervisor, group):
    client_for(client, supervisor)

    assert client.get(reverse("org:branch_detail", args=[99999])).status_code == 404
    assert client.get(reverse("org:member_detail", args=[99999])).status_code == 404
    # A group is not a branch, even for someone who sees every branch.
    assert client.get(reverse("org:branch_detail", args=[group.pk])).status_code == 404


# --- What each role sees ------------------------------------------------------


@pytest.mark.django_db
def test_a_member_sees_their_branch_committee_and_groups_but_not_the_roster(client, member, secretary, branch):
    html = client_for(client, member).get(reverse("org:branch_detail", args=[branch.pk])).content.decode()

    assert branch.name in html
    assert "王书记" in html  # the committee card
    assert "综采一队第一党小组" in html
    assert 'id="member-table"' not in html
    assert secretary.member.masked_id_number not in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["secretary", "supervisor"])
def test_the_secretary_and_supervisors_see_the_roster_with_masked_id_numbers_only(client, people, branch, role):
    html = client_for(client, people[role]).get(reverse("org:branch_detail", args=[branch.pk])).content.decode()

    assert 'id="member-table"' in html
    for user in (people["secretary"], people["member"]):
        assert user.member.name in html
        assert user.member.masked_id_number in html
        assert user.member.id_number not in html
    assert people["other_secretary"].member.name not in html


@pytest.mark.django_db
def test_a_member_page_shows_the_id_number_masked(client, secretary, member):
    html = client_for(client, secretary).get(reverse("org:member_detail", args=[member.member.pk])).content.decode()

    assert member.member.name in html
    assert member.member.masked_id_number in html
    assert member.member.id_number not in html


@pytest.mark.django_db
def test_the_branch_list_shows_every_branch_to_a_supervisor(client, supervisor, branch, other_branch):
    html = client_for(client, supervisor).get(reverse("org:branch_list")).content.decode()

    assert branch.name in html and other_branch.name in html


@pytest.mark.django_db
def test_a_refused_page_does_not_leak_the_branch(client, member, other_branch):
    response = client_for(client, member).get(reverse("org:branch_detail", args=[other_branch.pk]))

    assert response.status_code == 403
    assert other_branch.name not in response.content.decode()


# --- Query counts do not grow with rows ---------------------------------------

# Both include the request's fixed costs: the session (read, and its save with a savepoint,
# since sessions slide), the user, the scope (3 to 5 queries), the inbox badge, and for a refused
# rule the ModelBackend's two permission queries.
BRANCH_LIST_QUERIES = 7
# + 1 for the 支委分工 (PostDuty) shown beside each post.
# + 1 for the 先锋岗 / 责任区 held today (practice_tags.pioneer_posts).
BRANCH_DETAIL_QUERIES = 18
# The secretary's home adds "my branch" and its meeting summary (upcoming, awaiting records).
HOME_QUERIES = {"supervisor": 8, "secretary": 14}


def add_branches(n):
    for _ in range(n):
        b = BranchFactory()
        GroupFactory(parent=b)
        MembershipFactory(organization=b)


def add_members(branch, group, n):
    for i in range(n):
        m = MemberFactory()
        MembershipFactory(member=m, organization=branch)
        MembershipFactory(member=m, organization=group)
        if i == 0:
            PostFactory(member=m, organization=group, role=Post.Role.GROUP_LEADER)
        elif i < 4:
            PostFactory(member=m, organization=branch, role=Post.Role.ORGANIZATION)


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 20])
def test_the_branch_list_costs_the_same_queries_for_1_or_20_branches(client, supervisor, django_assert_num_queries, n):
    add_branches(n)
    client_for(client, supervisor)

    with django_assert_num_queries(BRANCH_LIST_QUERIES):
        response = client.get(reverse("org:branch_list"))

    assert response.content.decode().count("/org/branches/") >= n


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 20])
def test_the_branch_page_costs_the_same_queries_for_1_or_20_members(
    client, secretary, branch, group, django_assert_num_queries, n
):
    add_members(branch, group, n)
    GroupFactory(parent=branch)
    client_for(client, secretary)

    with django_assert_num_queries(BRANCH_DETAIL_QUERIES):
        response = client.get(reverse("org:branch_detail", args=[branch.pk]))

    assert response.content.decode().count("/org/members/") == n + 1  # and the secretary


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 20])
@pytest.mark.parametrize("role", ["supervisor", "secretary"])
def test_the_home_page_costs_the_same_queries_for_1_or_20_branches(
    client, people, branch, django_assert_num_queries, role, n
):
    add_branches(n)
    add_members(branch, GroupFactory(parent=branch), n)
    client_for(client, people[role])

    with django_assert_num_queries(HOME_QUERIES[role]):
        response = client.get(reverse("home"))

    assert branch.name in response.content.decode()
