"""Personal details on member pages: phones within a 党小组长's own group only, ID numbers masked to 3 + 4."""

import pytest
from django.urls import reverse

from org.models import Post
from tests.conftest import client_for
from tests.factories import GroupFactory, MemberFactory, MembershipFactory, member_with_login


@pytest.fixture
def leader(branch, group):
    """The 党小组长 of ``group`` (the first group of ``branch``)."""
    return member_with_login(branch=branch, group=group, username="leader", role=Post.Role.GROUP_LEADER, name="周组长")


def _member_in(branch, group, phone):
    m = MemberFactory(phone=phone)
    MembershipFactory(member=m, organization=branch)
    MembershipFactory(member=m, organization=group)
    return m


@pytest.mark.django_db
def test_a_group_leader_sees_the_phone_of_a_member_of_their_own_group(client, leader, branch, group):
    own = _member_in(branch, group, "13800000001")

    html = client_for(client, leader).get(reverse("org:member_detail", args=[own.pk])).content.decode()

    assert "13800000001" in html


@pytest.mark.django_db
def test_a_group_leader_does_not_see_the_phone_of_a_member_of_another_group(client, leader, branch):
    other_group = GroupFactory(name="综采一队第二党小组", parent=branch)
    other = _member_in(branch, other_group, "13800000002")

    response = client_for(client, leader).get(reverse("org:member_detail", args=[other.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert other.name in html
    assert "13800000002" not in html
    assert "手机号" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["secretary", "supervisor"])
def test_the_secretary_and_supervisors_see_phones_of_every_group_of_the_branch(client, people, branch, role):
    other_group = GroupFactory(name="综采一队第二党小组", parent=branch)
    other = _member_in(branch, other_group, "13800000003")

    html = client_for(client, people[role]).get(reverse("org:member_detail", args=[other.pk])).content.decode()

    assert "13800000003" in html


@pytest.mark.django_db
def test_a_member_sees_their_own_phone(client, member):
    member.member.phone = "13800000004"
    member.member.save()

    html = client_for(client, member).get(reverse("org:member_detail", args=[member.member.pk])).content.decode()

    assert "13800000004" in html


@pytest.mark.django_db
def test_the_member_page_shows_only_the_first_three_and_last_four_id_characters(client, secretary, member):
    id_number = member.member.id_number

    html = client_for(client, secretary).get(reverse("org:member_detail", args=[member.member.pk])).content.decode()

    assert f"{id_number[:3]}{'*' * 11}{id_number[-4:]}" in html
    assert id_number[6:14] not in html  # the birth date
    assert id_number[:6] not in html  # the county
