"""Dated 党籍状态 (留党察看 …), vote rights on a date, and who may hold a post (issue 9 rule 6)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from org.models import Member, MemberStatusPeriod, Post
from tests.factories import BranchFactory, MemberFactory, PostFactory

MARCH_1 = dt.date(2026, 3, 1)
SEPT_1 = dt.date(2026, 9, 1)


@pytest.fixture
def on_probation(db):
    """A full member under 留党察看 from 1 March to 1 September (end exclusive, as for memberships)."""
    member = MemberFactory(name="察看党员", full_member_on=dt.date(2010, 7, 1))
    MemberStatusPeriod.objects.create(
        member=member, status=Member.Status.DISCIPLINARY_PROBATION, started_on=MARCH_1, ended_on=SEPT_1
    )
    return member


@pytest.mark.django_db
def test_a_member_under_disciplinary_probation_from_1_march_cannot_vote_on_1_march(on_probation):
    assert on_probation.status_on(MARCH_1) == Member.Status.DISCIPLINARY_PROBATION
    assert not on_probation.can_vote_on(MARCH_1)


@pytest.mark.django_db
def test_the_same_member_votes_the_day_before_it_starts(on_probation):
    assert on_probation.can_vote_on(MARCH_1 - dt.timedelta(days=1))


@pytest.mark.django_db
def test_the_same_member_cannot_vote_on_the_last_day_of_the_period(on_probation):
    assert not on_probation.can_vote_on(SEPT_1 - dt.timedelta(days=1))


@pytest.mark.django_db
def test_the_same_member_votes_again_on_1_september_when_the_period_ends(on_probation):
    assert on_probation.status_on(SEPT_1) == Member.Status.ACTIVE
    assert on_probation.can_vote_on(SEPT_1)


@pytest.mark.django_db
def test_a_current_status_without_dated_history_holds_on_every_date():
    member = MemberFactory(status=Member.Status.DISCIPLINARY_PROBATION)

    assert not member.can_vote_on(dt.date(2000, 1, 1))
    assert not member.can_vote_on(dt.date(2030, 1, 1))


@pytest.mark.django_db
def test_a_current_status_with_dated_history_holds_only_within_its_dates():
    member = MemberFactory(status=Member.Status.DISCIPLINARY_PROBATION)
    MemberStatusPeriod.objects.create(member=member, status=Member.Status.DISCIPLINARY_PROBATION, started_on=MARCH_1)

    assert member.can_vote_on(MARCH_1 - dt.timedelta(days=1))
    assert not member.can_vote_on(dt.date(2030, 1, 1))


@pytest.mark.django_db
def test_vote_rights_of_many_members_cost_one_query_with_the_history_prefetched(
    on_probation, django_assert_num_queries
):
    MemberFactory.create_batch(5)

    with django_assert_num_queries(2):
        members = list(Member.objects.with_status_history())
        votes = [m.can_vote_on(MARCH_1) for m in members]

    assert votes.count(False) == 1


@pytest.mark.django_db
def test_overlapping_status_periods_are_refused(on_probation):
    overlapping = MemberStatusPeriod(
        member=on_probation, status=Member.Status.SUSPENDED, started_on=dt.date(2026, 8, 31)
    )

    with pytest.raises(ValidationError) as caught:
        overlapping.full_clean()

    assert "与该党员已有的党籍状态记录时间重叠。" in caught.value.messages


@pytest.mark.django_db
def test_a_period_starting_on_the_exclusive_end_of_the_last_does_not_overlap(on_probation):
    MemberStatusPeriod(member=on_probation, status=Member.Status.SUSPENDED, started_on=SEPT_1).full_clean()


@pytest.mark.django_db
def test_a_status_period_of_active_is_refused(db):
    period = MemberStatusPeriod(member=MemberFactory(), status=Member.Status.ACTIVE, started_on=MARCH_1)

    with pytest.raises(ValidationError) as caught:
        period.full_clean()

    assert "“在册”无须记录期间，只记录留党察看等其他状态。" in caught.value.messages


# --- Posts ------------------------------------------------------------------------------------------


def post_for(member, role=Post.Role.ORGANIZATION, started_on=MARCH_1):
    return PostFactory.build(member=member, organization=BranchFactory(), role=role, started_on=started_on)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Post.Role.SECRETARY, Post.Role.ORGANIZATION, Post.Role.GROUP_LEADER])
def test_a_probationary_member_is_refused_as_a_post_holder(role):
    member = MemberFactory(name="预备党员甲", category=Member.Category.PROBATIONARY)
    post = post_for(member, role=role)

    with pytest.raises(ValidationError) as caught:
        post.full_clean()

    assert caught.value.messages == [
        f"预备党员甲在2026-03-01是预备党员，没有被选举权，不能担任{Post.Role(role).label}。"
    ]


@pytest.mark.django_db
def test_a_post_cannot_start_the_day_before_its_holder_became_a_full_member():
    member = MemberFactory(full_member_on=MARCH_1)

    with pytest.raises(ValidationError):
        post_for(member, started_on=MARCH_1 - dt.timedelta(days=1)).full_clean()
    post_for(member, started_on=MARCH_1).full_clean()


@pytest.mark.django_db
def test_a_member_under_disciplinary_probation_cannot_take_a_post(on_probation):
    with pytest.raises(ValidationError) as caught:
        post_for(on_probation, started_on=dt.date(2026, 5, 1)).full_clean()

    assert "党籍状态为留党察看" in caught.value.messages[0]
    post_for(on_probation, started_on=SEPT_1).full_clean()


@pytest.fixture
def admin_client_(client, db):
    from org.models import User

    admin = User.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(admin)
    return client


@pytest.mark.django_db
def test_the_admin_refuses_a_probationary_post_holder_and_keeps_nothing(admin_client_):
    member = MemberFactory(name="预备党员乙", category=Member.Category.PROBATIONARY)
    branch = BranchFactory()

    response = admin_client_.post(
        reverse("admin:org_post_add"),
        {"member": member.pk, "organization": branch.pk, "role": Post.Role.PROPAGANDA, "started_on": "2026-03-01"},
    )

    assert response.status_code == 200
    assert "预备党员乙在2026-03-01是预备党员，没有被选举权，不能担任宣传委员。" in response.content.decode()
    assert not Post.objects.exists()


@pytest.mark.django_db
def test_the_member_admin_shows_the_status_history_inline_and_follows_it(admin_client_, on_probation):
    url = reverse("admin:org_member_change", args=[on_probation.pk])

    html = admin_client_.get(url).content.decode()

    assert "党籍状态记录" in html
    assert 'name="status_periods-0-started_on"' in html


@pytest.mark.django_db
def test_the_member_admin_refuses_a_new_probationary_member_with_a_post_inline(admin_client_):
    branch = BranchFactory()
    data = {
        "name": "新预备党员",
        "gender": "M",
        "id_number": "110101199003074514",
        "category": "probationary",
        "status": "active",
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
        "status_periods-TOTAL_FORMS": 0,
        "status_periods-INITIAL_FORMS": 0,
        "posts-TOTAL_FORMS": 1,
        "posts-INITIAL_FORMS": 0,
        "posts-0-organization": branch.pk,
        "posts-0-role": "organization",
        "posts-0-started_on": "2026-03-01",
    }

    response = admin_client_.post(reverse("admin:org_member_add"), data)

    assert response.status_code == 200
    assert "新预备党员在2026-03-01是预备党员，没有被选举权，不能担任组织委员。" in response.content.decode()
    assert not Member.objects.filter(name="新预备党员").exists()
