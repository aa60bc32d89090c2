import datetime as dt
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bulletin.models import Announcement
from org.demo import DEMO_PASSWORD
from org.models import Member, Membership, Organization, Post, StaffRole, User
from org.selectors import branch_members_on

SEEDED_MODELS = (Organization, Member, Membership, Post, StaffRole, User, Announcement)

# What each demo login must see on its home page after signing in.
HOME_OF = {
    "admin": ['id="all-branches"'],
    "supervisor": ['id="all-branches"'],
    "jijian": ['id="all-branches"'],
    "committee": ['id="all-branches"'],
    "shuji": ['id="my-branch"', "综采一队党支部"],
    "shuji2": ['id="my-branch"', "掘进二队党支部"],
    "zuzhang": ['id="my-branch"', "综采一队党支部"],
    "dangyuan": ['id="announcements"', "综采一队党支部召开支部党员大会的通知", "关于认真落实“三会一课”制度的通知"],
    "yubei": ['id="announcements"', "综采一队党支部召开支部党员大会的通知"],
}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def printed_logins(output: str) -> list[str]:
    return re.findall(r"^([a-z0-9]+)\s", output, flags=re.MULTILINE)


def snapshot() -> dict[str, int]:
    counts = {m.__name__: m.objects.count() for m in SEEDED_MODELS}
    counts |= {f"history of {m.__name__}": m.history.count() for m in (Organization, Member, Membership, Post)}
    counts["password hashes"] = hash(tuple(User.objects.order_by("pk").values_list("password", flat=True)))
    return counts


@pytest.mark.django_db
def test_running_it_twice_changes_nothing_and_prints_the_same_logins():
    first_output = seed()
    after_first = snapshot()
    second_output = seed()

    assert snapshot() == after_first
    assert second_output == first_output
    assert after_first["Member"] == 200


@pytest.mark.django_db
def test_running_it_again_weeks_later_changes_nothing_either():
    seed()
    after_first = snapshot()

    with time_machine.travel(timezone.now() + dt.timedelta(days=40), tick=False):
        seed()

    assert snapshot() == after_first


@pytest.mark.django_db
def test_it_prints_every_demo_login_with_the_shared_password():
    output = seed()

    assert printed_logins(output) == list(HOME_OF)
    assert DEMO_PASSWORD in output


@pytest.mark.django_db
def test_it_puts_back_a_demo_password_someone_changed():
    seed()
    user = User.objects.get(username="shuji")
    user.set_password("changed-by-someone-1")
    user.save()

    seed()

    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_every_printed_login_signs_in_and_lands_on_its_own_home():
    logins = printed_logins(seed())

    for username in logins:
        client = Client()
        response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD}, follow=True)
        html = response.content.decode()
        assert response.redirect_chain == [(reverse("home"), 302)], username
        for marker in HOME_OF[username]:
            assert marker in html, (username, marker)
        if username in ("shuji", "shuji2", "zuzhang", "dangyuan", "yubei"):
            assert 'id="all-branches"' not in html, username
        if username in ("dangyuan", "yubei"):
            # Another branch's announcement is not theirs to read.
            assert "掘进二队党支部“安全生产”主题党日安排" not in html, username


@pytest.mark.django_db
def test_the_demo_mine_has_branches_groups_posts_and_members_in_proportion():
    seed()
    today = timezone.localdate()
    committee = Organization.objects.get(kind=Organization.Kind.COMMITTEE)
    branches = list(Organization.objects.branches())

    assert committee.name == "兴隆煤矿党委"
    assert [b.name for b in branches] == [
        "综采一队党支部",
        "掘进二队党支部",
        "机电队党支部",
        "运输队党支部",
        "通风队党支部",
        "洗煤厂党支部",
        "机关第一党支部",
        "机关第二党支部",
    ]
    assert {b.parent.name for b in branches if b.name.startswith("机关")} == {"机关党总支"}
    for branch in branches:
        groups = Organization.objects.groups().filter(parent=branch)
        assert 2 <= groups.count() <= 4, branch
        roles = set(Post.objects.filter(organization=branch).values_list("role", flat=True))
        assert {Post.Role.SECRETARY, Post.Role.ORGANIZATION, Post.Role.PROPAGANDA, Post.Role.DISCIPLINE} <= roles
        for group in groups:
            assert Post.objects.filter(organization=group, role=Post.Role.GROUP_LEADER).count() == 1, group
        assert branch_members_on(branch, on=today).count() >= 15

    # Posts are elected: a probationary member holds none.
    assert not Post.objects.filter(member__category=Member.Category.PROBATIONARY).exists()
    assert Post.objects.filter(organization__kind=Organization.Kind.BRANCH, role=Post.Role.DEPUTY_SECRETARY).exists()


@pytest.mark.django_db
def test_demo_members_are_valid_and_about_a_tenth_are_probationary_joined_within_a_year():
    seed()
    today = timezone.localdate()
    members = list(Member.objects.all())
    probationary = [m for m in members if m.category == Member.Category.PROBATIONARY]

    for m in members:
        m.full_clean()  # ID number check character, phone format, the probationary constraint
        born = dt.date(int(m.id_number[6:10]), int(m.id_number[10:12]), int(m.id_number[12:14]))
        assert dt.date(1965, 1, 1) <= born <= dt.date(2000, 12, 31)
        # GB 11643: the 17th digit is odd for men, even for women.
        assert (int(m.id_number[16]) % 2 == 1) == (m.gender == Member.Gender.MALE), m
    assert 0.05 <= len(probationary) / len(members) <= 0.15
    for m in probationary:
        assert m.full_member_on is None
        assert today - dt.timedelta(days=365) <= m.joined_on < today
    for m in members:
        if m.category == Member.Category.FULL:
            assert m.joined_on < m.full_member_on < today
    assert len({m.name for m in members}) == len(members)


@pytest.mark.django_db
def test_members_who_left_have_only_ended_memberships():
    seed()
    today = timezone.localdate()
    leavers = Member.objects.filter(status=Member.Status.TRANSFERRED_OUT)

    assert leavers.count() == 2
    for m in leavers:
        memberships = list(m.memberships.all())
        assert memberships
        assert all(ms.ended_on is not None and ms.ended_on <= today for ms in memberships)
    # ... and one member moved between branches: the old membership ends the day the new one starts.
    moved = Member.objects.filter(memberships__ended_on__isnull=False, status=Member.Status.ACTIVE).distinct().get()
    old, new = sorted(
        moved.memberships.filter(organization__kind=Organization.Kind.BRANCH), key=lambda ms: ms.started_on
    )
    assert old.ended_on == new.started_on
    assert old.organization.name == "运输队党支部" and new.organization.name == "通风队党支部"


@pytest.mark.django_db
def test_mine_wide_and_branch_announcements_with_one_pinned():
    seed()

    assert Announcement.objects.filter(organization__isnull=True).count() >= 3
    assert Announcement.objects.filter(organization__kind=Organization.Kind.BRANCH).count() >= 2
    assert Announcement.objects.filter(pinned=True).count() == 1
    assert not Announcement.objects.filter(published_at__gt=timezone.now()).exists()
