"""What a login is, computed once per request: its member, branches, posts and staff roles.

Predicates in ``org.rules`` and filters in the selectors read this instead of
querying again, so a page's query count does not grow with the checks it makes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from .models import Member, Membership, Organization, Post, StaffRole


@dataclass(frozen=True)
class Scope:
    member_id: int | None = None
    branch_ids: frozenset[int] = field(default_factory=frozenset)
    group_ids: frozenset[int] = field(default_factory=frozenset)
    committee_branch_ids: frozenset[int] = field(default_factory=frozenset)
    secretary_branch_ids: frozenset[int] = field(default_factory=frozenset)
    # 书记 only (not 副书记): the one who approves leave
    chief_secretary_branch_ids: frozenset[int] = field(default_factory=frozenset)
    led_group_ids: frozenset[int] = field(default_factory=frozenset)
    # branch id of each led group, so that group leaders can reach their branch's pages
    led_group_branch_ids: frozenset[int] = field(default_factory=frozenset)
    # 宣传委员 posts: with the 书记, they write the branch's study materials. A plain default (not
    # a factory) so that a scope cached before this field existed still reads it.
    propaganda_branch_ids: frozenset[int] = frozenset()
    staff_roles: frozenset[str] = field(default_factory=frozenset)
    is_superuser: bool = False

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or StaffRole.Role.ADMIN in self.staff_roles

    @property
    def is_supervisor(self) -> bool:
        return self.is_admin or bool(self.staff_roles & set(StaffRole.SUPERVISOR_ROLES))

    @property
    def is_committee(self) -> bool:
        return self.is_admin or StaffRole.Role.COMMITTEE in self.staff_roles

    @property
    def sees_all_branches(self) -> bool:
        return self.is_supervisor or self.is_committee

    @property
    def is_branch_manager(self) -> bool:
        return bool(self.committee_branch_ids)

    @property
    def reachable_branch_ids(self) -> frozenset[int]:
        """The branches this login reaches as a member, a committee member or a group leader.

        The one union of the three (pages, selectors and predicates read it); the 党委 level
        reaches every branch through ``sees_all_branches`` instead.
        """
        return self.branch_ids | self.committee_branch_ids | self.led_group_branch_ids

    @property
    def managed_branch_ids(self) -> frozenset[int]:
        """The branches whose members this login manages: as a committee member or a group leader."""
        return self.committee_branch_ids | self.led_group_branch_ids

    @property
    def home_branch_id(self) -> int | None:
        """The branch shown as "my branch": the managed one first, else the member's own."""
        for ids in (self.secretary_branch_ids, self.committee_branch_ids, self.branch_ids):
            if ids:
                return min(ids)
        return None


ANONYMOUS = Scope()


def _active_on(on: dt.date) -> Q:
    return Q(started_on__lte=on) & (Q(ended_on__isnull=True) | Q(ended_on__gt=on))


def compute_scope(user, *, on: dt.date) -> Scope:
    if not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    staff_roles = frozenset(StaffRole.objects.filter(user=user).values_list("role", flat=True))
    member = Member.objects.filter(user=user, status__in=Member.ON_ROLL_STATUSES).only("id").first()
    if member is None:
        return Scope(staff_roles=staff_roles, is_superuser=user.is_superuser)

    branch_ids, group_ids = set(), set()
    for org_id, kind in Membership.objects.filter(_active_on(on), member=member).values_list(
        "organization_id", "organization__kind"
    ):
        (branch_ids if kind == Organization.Kind.BRANCH else group_ids).add(org_id)

    committee, secretary, chief, led_groups, led_group_branches = set(), set(), set(), set(), set()
    propaganda = set()
    for org_id, parent_id, role in Post.objects.filter(_active_on(on), member=member).values_list(
        "organization_id", "organization__parent_id", "role"
    ):
        if role == Post.Role.GROUP_LEADER:
            led_groups.add(org_id)
            led_group_branches.add(parent_id)
        elif role in Post.COMMITTEE_ROLES:
            committee.add(org_id)
            if role in (Post.Role.SECRETARY, Post.Role.DEPUTY_SECRETARY):
                secretary.add(org_id)
            if role == Post.Role.SECRETARY:
                chief.add(org_id)
            if role == Post.Role.PROPAGANDA:
                propaganda.add(org_id)

    return Scope(
        member_id=member.id,
        branch_ids=frozenset(branch_ids),
        group_ids=frozenset(group_ids),
        committee_branch_ids=frozenset(committee),
        secretary_branch_ids=frozenset(secretary),
        chief_secretary_branch_ids=frozenset(chief),
        led_group_ids=frozenset(led_groups),
        led_group_branch_ids=frozenset(led_group_branches),
        propaganda_branch_ids=frozenset(propaganda),
        staff_roles=staff_roles,
        is_superuser=user.is_superuser,
    )


def _cache_key(user_id: int) -> str:
    return f"sanhui:scope:{user_id}"


def forget_scope(user_id: int | None) -> None:
    """Drop a login's cached scope (its roles, posts, memberships or member changed)."""
    if user_id is not None:
        cache.delete(_cache_key(user_id))


def get_scope(user) -> Scope:
    """The user's scope, cached on the user object for the request and in Django's cache for a minute.

    Every page asks it (four queries), so it is kept across requests for SCOPE_CACHE_SECONDS,
    keyed by user and day (a post that starts tomorrow is seen tomorrow). Saving or deleting a
    StaffRole, Member, Membership, Post or the user drops it (``org.apps`` connects the
    receivers); a bulk ``update()`` does not, and is seen within the TTL.
    """
    if not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_sanhui_scope", None)
    if cached is None:
        today = timezone.localdate()
        ttl = settings.SCOPE_CACHE_SECONDS
        stored = cache.get(_cache_key(user.pk)) if ttl else None
        if stored is not None and stored[0] == today:
            cached = stored[1]
        else:
            cached = compute_scope(user, on=today)
            if ttl:
                cache.set(_cache_key(user.pk), (today, cached), ttl)
        user._sanhui_scope = cached
    return cached


def _forget_on_change(sender, instance, **kwargs) -> None:
    if sender in (StaffRole, Member):
        forget_scope(instance.user_id)
    elif sender in (Membership, Post):
        forget_scope(Member.objects.filter(pk=instance.member_id).values_list("user_id", flat=True).first())
    else:  # the user
        forget_scope(instance.pk)


def connect_receivers() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    for model in (StaffRole, Member, Membership, Post, get_user_model()):
        for signal in (post_save, post_delete):
            signal.connect(_forget_on_change, sender=model, dispatch_uid=f"org_scope_forget_{model.__name__}")
