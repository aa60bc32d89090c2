import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from org.models import Member, Membership, Post, StaffRole
from org.scope import ANONYMOUS, compute_scope, get_scope
from org.selectors import branch_members_on
from org.validators import id_number_check_char, mask_id_number, validate_id_number
from tests.factories import (
    BranchFactory,
    GroupFactory,
    MemberFactory,
    MembershipFactory,
    PostFactory,
    UserFactory,
    member_with_login,
    staff_user,
)

# The example of GB 11643-1999 itself: born 1949-12-31 in 北京市朝阳区, check character X.
VALID_WITH_X = "11010519491231002X"


def with_check_char(first17: str) -> str:
    return first17 + id_number_check_char(first17)


def error_of(value: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_id_number(value)
    return caught.value


# --- ID numbers -------------------------------------------------------------


def test_an_id_number_whose_check_character_is_x_is_valid():
    validate_id_number(VALID_WITH_X)
    validate_id_number(with_check_char("37088319850615123"))


def test_an_id_number_with_a_wrong_check_character_is_rejected():
    error = error_of("110105194912310021")

    assert error.code == "id_checksum"
    assert error.messages == ["身份证号校验位不正确。"]


@pytest.mark.parametrize(
    "first17",
    [
        "11010519490231002",  # 31 February
        "11010519491301002",  # month 13
        "11010518991231002",  # before 1900
    ],
)
def test_an_id_number_with_an_impossible_birth_date_is_rejected_even_with_a_correct_check_character(first17):
    error = error_of(with_check_char(first17))

    assert error.code == "id_birth"
    assert error.messages == ["身份证号中的出生日期无效。"]


@pytest.mark.parametrize(
    "value",
    [
        VALID_WITH_X[:-1],  # 17 characters
        VALID_WITH_X + "1",  # 19 characters
        "110105491231002",  # the old 15-digit form
        "1101051949123100X2",  # X not at the end
        "",
    ],
)
def test_an_id_number_of_the_wrong_length_or_form_is_rejected(value):
    error = error_of(value)

    assert error.code == "id_format"
    assert error.messages == ["身份证号应为18位（最后一位可为X）。"]


@pytest.mark.django_db
def test_a_member_with_a_bad_id_number_fails_validation_on_that_field():
    member = MemberFactory.build(id_number="110105194912310021")

    with pytest.raises(ValidationError) as caught:
        member.full_clean()

    assert caught.value.message_dict["id_number"] == ["身份证号校验位不正确。"]


def test_a_masked_id_number_shows_at_most_the_first_three_and_the_last_four_characters():
    assert mask_id_number(VALID_WITH_X) == "110***********002X"
    assert MemberFactory.build(id_number=VALID_WITH_X).masked_id_number == "110***********002X"
    assert sum(c != "*" for c in mask_id_number(VALID_WITH_X)) == 7
    assert mask_id_number("1234567") == "*******"
    assert mask_id_number("12345678") == "123*5678"
    assert mask_id_number("12345") == "*****"


# --- Who was a member on a date --------------------------------------------

D = dt.date(2026, 3, 15)  # the day of the joins, leaves and the transfer
DAY_BEFORE = D - dt.timedelta(days=1)


@pytest.fixture
def mid_month_changes(db):
    """A branch in March: one member throughout, one joining on the 15th, one leaving, one transferred in."""
    branch, other = BranchFactory(), BranchFactory()
    group = GroupFactory(parent=branch)
    people = {name: MemberFactory(name=name) for name in ("全月", "月中加入", "月中离开", "月中转入", "已转出")}
    MembershipFactory(member=people["全月"], organization=branch, started_on=dt.date(2020, 1, 1))
    # A group membership as well: the member must still be listed once.
    MembershipFactory(member=people["全月"], organization=group, started_on=dt.date(2020, 1, 1))
    MembershipFactory(member=people["月中加入"], organization=branch, started_on=D)
    MembershipFactory(member=people["月中离开"], organization=branch, started_on=dt.date(2020, 1, 1), ended_on=D)
    MembershipFactory(member=people["月中转入"], organization=other, started_on=dt.date(2020, 1, 1), ended_on=D)
    MembershipFactory(member=people["月中转入"], organization=branch, started_on=D)
    people["已转出"].status = Member.Status.TRANSFERRED_OUT
    people["已转出"].save()
    MembershipFactory(member=people["已转出"], organization=branch, started_on=dt.date(2020, 1, 1))
    return branch, other


def names_on(branch, on, django_assert_num_queries) -> list[str]:
    with django_assert_num_queries(1):
        return [m.name for m in branch_members_on(branch, on=on)]


def test_the_day_before_the_changes_the_leaver_is_still_a_member_and_the_newcomers_are_not(
    mid_month_changes, django_assert_num_queries
):
    branch, other = mid_month_changes

    assert sorted(names_on(branch, DAY_BEFORE, django_assert_num_queries)) == sorted(["全月", "月中离开"])
    assert names_on(other, DAY_BEFORE, django_assert_num_queries) == ["月中转入"]


def test_on_the_day_of_a_transfer_the_member_belongs_to_the_new_branch_only(
    mid_month_changes, django_assert_num_queries
):
    branch, other = mid_month_changes

    assert sorted(names_on(branch, D, django_assert_num_queries)) == sorted(["全月", "月中加入", "月中转入"])
    assert names_on(other, D, django_assert_num_queries) == []


# --- Full members and votes -------------------------------------------------


def test_a_probationary_member_is_never_a_full_member_and_never_votes():
    member = MemberFactory.build(category=Member.Category.PROBATIONARY, joined_on=dt.date(2026, 1, 1))

    assert not member.is_full_member_on(dt.date(2030, 1, 1))
    assert not member.can_vote_on(dt.date(2030, 1, 1))


def test_a_member_is_full_and_votes_from_the_day_of_becoming_full_not_the_day_before():
    member = MemberFactory.build(category=Member.Category.FULL, full_member_on=D)

    assert not member.is_full_member_on(DAY_BEFORE)
    assert not member.can_vote_on(DAY_BEFORE)
    assert member.is_full_member_on(D)
    assert member.can_vote_on(D)


def test_a_full_member_without_a_recorded_full_date_votes():
    member = MemberFactory.build(category=Member.Category.FULL, full_member_on=None)

    assert member.can_vote_on(D)


@pytest.mark.parametrize(
    "status",
    [
        Member.Status.DISCIPLINARY_PROBATION,
        Member.Status.TRANSFERRED_OUT,
        Member.Status.SUSPENDED,
        Member.Status.EXPELLED,
        Member.Status.DECEASED,
    ],
)
def test_a_full_member_not_in_good_standing_has_no_vote(status):
    member = MemberFactory.build(category=Member.Category.FULL, full_member_on=dt.date(2010, 1, 1), status=status)

    assert member.is_full_member_on(D)
    assert not member.can_vote_on(D)


# --- Constraints ------------------------------------------------------------


@pytest.mark.django_db
def test_a_probationary_member_with_a_full_date_is_rejected_with_its_message():
    member = MemberFactory.build(category=Member.Category.PROBATIONARY, full_member_on=D)

    with pytest.raises(ValidationError) as caught:
        member.full_clean()
    assert caught.value.messages == ["预备党员不能有转正日期。"]

    with pytest.raises(IntegrityError), transaction.atomic():
        member.save()
    assert not Member.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("ended_on", [D - dt.timedelta(days=1), D], ids=["before the start", "on the start"])
def test_a_membership_ending_before_or_on_its_start_is_rejected_with_its_message(ended_on):
    membership = MembershipFactory.build(
        member=MemberFactory(), organization=BranchFactory(), started_on=D, ended_on=ended_on
    )

    with pytest.raises(ValidationError) as caught:
        membership.full_clean()
    assert caught.value.messages == ["结束日期必须晚于起始日期。"]

    with pytest.raises(IntegrityError), transaction.atomic():
        membership.save()
    assert not Membership.objects.exists()


@pytest.mark.django_db
def test_a_post_ending_before_its_start_is_rejected_with_its_message():
    post = PostFactory.build(
        member=MemberFactory(), organization=BranchFactory(), started_on=D, ended_on=D - dt.timedelta(days=1)
    )

    with pytest.raises(ValidationError) as caught:
        post.full_clean()
    assert caught.value.messages == ["离任日期必须晚于任职日期。"]


# --- Scope of each role -----------------------------------------------------


def test_anonymous_has_the_empty_scope():
    assert get_scope(AnonymousUser()) is ANONYMOUS
    assert not ANONYMOUS.sees_all_branches and ANONYMOUS.home_branch_id is None


@pytest.mark.django_db
def test_a_secretary_manages_their_branch_and_belongs_to_it_and_their_group(secretary, branch, group, other_branch):
    scope = get_scope(secretary)

    assert scope.member_id == secretary.member.pk
    assert scope.branch_ids == {branch.pk}
    assert scope.group_ids == {group.pk}
    assert scope.secretary_branch_ids == {branch.pk}
    assert scope.committee_branch_ids == {branch.pk}
    assert scope.home_branch_id == branch.pk
    assert scope.is_branch_manager
    assert not scope.sees_all_branches and not scope.is_supervisor and not scope.is_admin


@pytest.mark.django_db
def test_an_ordinary_member_belongs_to_their_branch_and_manages_nothing(member, branch, group):
    scope = get_scope(member)

    assert scope.branch_ids == {branch.pk}
    assert scope.group_ids == {group.pk}
    assert scope.committee_branch_ids == frozenset() and scope.secretary_branch_ids == frozenset()
    assert scope.led_group_ids == frozenset()
    assert scope.home_branch_id == branch.pk
    assert not scope.is_branch_manager and not scope.sees_all_branches


@pytest.mark.django_db
def test_a_committee_member_of_a_branch_manages_it_without_being_its_secretary(branch):
    user = member_with_login(branch=branch, username="zuzhi", role=Post.Role.ORGANIZATION)
    scope = get_scope(user)

    assert scope.committee_branch_ids == {branch.pk}
    assert scope.secretary_branch_ids == frozenset()


@pytest.mark.django_db
def test_a_group_leader_leads_the_group_and_reaches_its_branch(branch, group):
    user = member_with_login(branch=branch, group=group, username="zuzhang", role=Post.Role.GROUP_LEADER)
    scope = get_scope(user)

    assert scope.led_group_ids == {group.pk}
    assert scope.led_group_branch_ids == {branch.pk}
    assert scope.committee_branch_ids == frozenset()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "supervisor", "committee"),
    [
        (StaffRole.Role.WORK_DEPT, True, False),
        (StaffRole.Role.DISCIPLINE_DEPT, True, False),
        (StaffRole.Role.COMMITTEE, False, True),
        (StaffRole.Role.ADMIN, True, True),
    ],
)
def test_staff_roles_see_every_branch_and_only_supervisors_supervise(role, supervisor, committee):
    scope = get_scope(staff_user(username=f"staff-{role}", role=role))

    assert scope.sees_all_branches
    assert scope.is_supervisor is supervisor
    assert scope.is_committee is committee
    assert scope.is_admin is (role == StaffRole.Role.ADMIN)
    assert scope.member_id is None and scope.home_branch_id is None


@pytest.mark.django_db
def test_a_superuser_without_a_staff_role_is_an_admin():
    scope = get_scope(UserFactory(username="root", is_superuser=True))

    assert scope.is_admin and scope.sees_all_branches


@pytest.mark.django_db
def test_a_transferred_out_member_has_no_member_scope(member):
    Member.objects.filter(user=member).update(status=Member.Status.TRANSFERRED_OUT)

    scope = get_scope(member)

    assert scope.member_id is None and scope.branch_ids == frozenset()


@pytest.mark.django_db
def test_an_ended_post_or_membership_no_longer_counts_on_a_later_date(branch):
    user = UserFactory(username="former")
    m = MemberFactory(user=user)
    MembershipFactory(member=m, organization=branch, started_on=dt.date(2020, 1, 1), ended_on=D)
    PostFactory(member=m, organization=branch, started_on=dt.date(2020, 1, 1), ended_on=D)

    before, after = compute_scope(user, on=DAY_BEFORE), compute_scope(user, on=D)

    assert before.branch_ids == {branch.pk} and before.secretary_branch_ids == {branch.pk}
    assert after.branch_ids == frozenset() and after.secretary_branch_ids == frozenset()


@pytest.mark.django_db
def test_the_scope_is_computed_once_per_user_object(secretary, django_assert_num_queries):
    get_scope(secretary)

    with django_assert_num_queries(0):
        get_scope(secretary)


@pytest.mark.django_db
def test_a_lower_case_x_check_character_is_stored_upper_case_so_it_stays_unique():
    first17 = "11010519491231002"
    assert id_number_check_char(first17) == "X"
    member = MemberFactory(id_number=first17 + "x")
    member.refresh_from_db()
    assert member.id_number == first17 + "X"
    with pytest.raises(IntegrityError):
        MemberFactory(id_number=first17 + "x")
