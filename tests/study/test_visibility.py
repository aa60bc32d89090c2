"""Who sees which study item, who writes, reviews and publishes: at every audience boundary.

Each case checks the list filter (``visible_items`` / ``items_for_user``) and the predicate
(``study.view_item``) together, so the two can never disagree.
"""

import pytest

from org import rules as org_rules
from org.models import Post, StaffRole
from study.models import StudyItem
from study.selectors import editable_items, items_for_user, review_queue, visible_items
from tests.factories import (
    BranchFactory,
    CommitteeFactory,
    GroupFactory,
    MeetingFactory,
    MembershipFactory,
    StudyItemFactory,
    member_with_login,
    staff_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(branch, other_branch, group, secretary, member, other_secretary, supervisor):
    third = BranchFactory(name="机电队党支部")
    people = {
        "secretary": secretary,
        "member": member,
        "other_secretary": other_secretary,
        "supervisor": supervisor,
        "jijian": staff_user(username="jijian", role=StaffRole.Role.DISCIPLINE_DEPT),
        "committee": staff_user(username="weiyuan", role=StaffRole.Role.COMMITTEE),
        "propaganda": member_with_login(branch=branch, username="xuanchuan", role=Post.Role.PROPAGANDA),
        "organizer": member_with_login(branch=branch, username="zuzhi", role=Post.Role.ORGANIZATION),
        "deputy": member_with_login(branch=other_branch, username="fushuji", role=Post.Role.DEPUTY_SECRETARY),
        "group_leader": member_with_login(
            branch=third, group=GroupFactory(parent=third), username="zuzhang", role=Post.Role.GROUP_LEADER
        ),
        "other_member": member_with_login(branch=other_branch, username="other_member"),
        "anonymous": None,
    }
    committee_org = CommitteeFactory()
    items = {
        "mine": StudyItemFactory(title="全矿", organization=committee_org),
        "for_branch": StudyItemFactory(title="综采", audience="branches", branches=[branch]),
        "for_two": StudyItemFactory(title="综采和机电", audience="branches", branches=[branch, third]),
        "for_secretaries": StudyItemFactory(title="书记", audience="roles", roles="secretary"),
        "for_committee": StudyItemFactory(title="支委", audience="roles", roles="committee"),
        "branch_draft": StudyItemFactory(title="支部草稿", organization=branch, state="draft"),
        "branch_in_review": StudyItemFactory(title="支部待审", organization=branch, state="in_review"),
        "branch_withdrawn": StudyItemFactory(title="支部撤回", organization=branch, state="withdrawn"),
        "mine_draft": StudyItemFactory(title="全矿草稿", organization=committee_org, state="draft"),
    }
    return people, items


# What each login sees in the library (published items of its audiences).
LIBRARY = {
    "member": {"mine", "for_branch", "for_two"},
    "propaganda": {"mine", "for_branch", "for_two", "for_committee"},
    "organizer": {"mine", "for_branch", "for_two", "for_committee"},
    "secretary": {"mine", "for_branch", "for_two", "for_secretaries", "for_committee"},
    "other_secretary": {"mine", "for_secretaries", "for_committee"},
    "deputy": {"mine", "for_secretaries", "for_committee"},
    "other_member": {"mine"},
    "group_leader": {"mine", "for_two"},
    "supervisor": {"mine", "for_branch", "for_two", "for_secretaries", "for_committee"},
    "jijian": {"mine", "for_branch", "for_two", "for_secretaries", "for_committee"},
    "committee": {"mine", "for_branch", "for_two", "for_secretaries", "for_committee"},
    "anonymous": set(),
}

# What each login may open besides: what it writes or reviews.
EXTRA = {
    "secretary": {"branch_draft", "branch_in_review", "branch_withdrawn"},
    "propaganda": {"branch_draft", "branch_in_review", "branch_withdrawn"},
    "supervisor": {"branch_in_review", "branch_withdrawn", "mine_draft"},
}


@pytest.mark.parametrize("who", sorted(LIBRARY))
def test_the_library_shows_each_login_exactly_the_published_items_of_its_audiences(world, who):
    people, items = world
    user = people[who]
    shown = {name for name, item in items.items() if visible_items(user).filter(pk=item.pk).exists()}
    assert shown == LIBRARY[who]


@pytest.mark.parametrize("who", sorted(LIBRARY))
def test_the_view_predicate_and_the_filter_agree_for_every_item(world, who):
    people, items = world
    user = people[who]
    expected = LIBRARY[who] | EXTRA.get(who, set())
    for name, item in items.items():
        loaded = StudyItem.objects.select_related("organization").prefetch_related("branches").get(pk=item.pk)
        in_list = items_for_user(user).filter(pk=item.pk).exists()
        allowed = False if user is None else user.has_perm("study.view_item", loaded)
        assert in_list == allowed == (name in expected), name


def test_an_item_for_two_of_a_login_s_branches_is_listed_once(world, branch):
    _people, items = world
    both = member_with_login(branch=branch, username="both")
    MembershipFactory(member=both.member, organization=items["for_two"].branches.exclude(pk=branch.pk).get())
    assert list(visible_items(both)).count(items["for_two"]) == 1


def test_drafts_reviews_and_withdrawn_items_never_reach_the_library(world):
    people, _items = world
    for who in ("secretary", "propaganda", "supervisor", "committee"):
        states = set(visible_items(people[who]).values_list("state", flat=True))
        assert states == {StudyItem.State.PUBLISHED}, who


def test_an_item_stops_being_visible_the_moment_it_is_withdrawn(world):
    people, items = world
    item = items["mine"]
    assert visible_items(people["member"]).filter(pk=item.pk).exists()
    StudyItem.objects.filter(pk=item.pk).update(state=StudyItem.State.WITHDRAWN)
    assert not visible_items(people["member"]).filter(pk=item.pk).exists()
    assert not people["member"].has_perm("study.view_item", StudyItem.objects.get(pk=item.pk))


def test_a_branch_s_secretary_and_propaganda_member_write_its_items_and_nobody_else_of_a_branch(world):
    people, items = world
    draft = StudyItem.objects.select_related("organization").get(pk=items["branch_draft"].pk)
    writers = {who for who, user in people.items() if user is not None and user.has_perm("study.edit_item", draft)}
    assert writers == {"secretary", "propaganda"}
    # The published items of the fixture are the 党委's: not the branch's to edit.
    assert set(editable_items(people["propaganda"]).values_list("pk", flat=True)) == {
        items[n].pk for n in ("branch_draft", "branch_in_review", "branch_withdrawn")
    }
    assert not editable_items(people["organizer"]).exists()
    assert not editable_items(people["other_secretary"]).exists()


def test_the_work_department_writes_the_mine_s_items_and_reviews_but_discipline_does_not(world):
    people, items = world
    mine = StudyItem.objects.select_related("organization").get(pk=items["mine_draft"].pk)
    writers = {who for who, user in people.items() if user is not None and user.has_perm("study.edit_item", mine)}
    assert writers == {"supervisor"}
    reviewers = {who for who, user in people.items() if user is not None and user.has_perm("study.review_item")}
    assert reviewers == {"supervisor"}
    assert list(review_queue(people["supervisor"])) == [items["branch_in_review"]]
    assert not review_queue(people["jijian"]).exists()
    assert not review_queue(people["secretary"]).exists()


def test_only_the_meeting_s_branch_writers_and_the_work_department_publish_its_recording(world, branch):
    people, _items = world
    meeting = MeetingFactory(branch=branch, types=["party_lesson"])
    allowed = {
        who for who, user in people.items() if user is not None and user.has_perm("study.publish_recording", meeting)
    }
    assert allowed == {"secretary", "propaganda", "supervisor"}


def test_the_rules_spell_audiences_roles_and_states_as_the_model_does():
    assert org_rules.STUDY_AUDIENCE_MINE == StudyItem.Audience.MINE
    assert org_rules.STUDY_AUDIENCE_BRANCHES == StudyItem.Audience.BRANCHES
    assert org_rules.STUDY_AUDIENCE_ROLES == StudyItem.Audience.ROLES
    assert org_rules.STUDY_ROLE_SECRETARY == StudyItem.Role.SECRETARY
    assert org_rules.STUDY_ROLE_COMMITTEE == StudyItem.Role.COMMITTEE
    assert org_rules.STUDY_PUBLISHED == StudyItem.State.PUBLISHED
    assert org_rules.STUDY_DRAFT == StudyItem.State.DRAFT


def test_editable_item_for_user_hides_what_one_cannot_see_and_refuses_what_one_only_reads(world):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from study.selectors import editable_item_for_user

    people, items = world
    draft = items["branch_draft"]
    assert editable_item_for_user(people["propaganda"], draft.pk) == draft
    with pytest.raises(Http404):
        editable_item_for_user(people["member"], draft.pk)
    with pytest.raises(PermissionDenied):
        editable_item_for_user(people["member"], items["mine"].pk)


def test_a_propaganda_post_that_ended_yesterday_writes_nothing_today(branch):
    import datetime as dt

    from django.utils import timezone

    from org.scope import forget_scope

    user = member_with_login(branch=branch, username="former", role=Post.Role.PROPAGANDA)
    draft = StudyItemFactory(organization=branch, state="draft")
    draft = StudyItem.objects.select_related("organization").get(pk=draft.pk)
    assert user.has_perm("study.edit_item", draft)
    post = Post.objects.get(member__user=user)
    post.started_on = timezone.localdate() - dt.timedelta(days=30)
    post.ended_on = timezone.localdate()  # exclusive: the first day it no longer holds
    post.save()
    forget_scope(user.pk)
    user = type(user).objects.get(pk=user.pk)
    assert not user.has_perm("study.edit_item", draft)
    assert not editable_items(user).exists()
    post.ended_on = timezone.localdate() + dt.timedelta(days=1)  # still holds it today
    post.save()
    user = type(user).objects.get(pk=user.pk)
    assert user.has_perm("study.edit_item", draft)
