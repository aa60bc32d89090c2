"""Reads of organisations and members that pages and exports share, with the permission filter."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import Member, Membership, Organization, Post, PostDuty
from .scope import get_scope


def active_on(on: dt.date, prefix: str = "") -> Q:
    """Rows whose [started_on, ended_on) interval contains ``on``."""
    return Q(**{f"{prefix}started_on__lte": on}) & (
        Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gt": on})
    )


def branches_visible_to(user) -> QuerySet[Organization]:
    scope = get_scope(user)
    qs = Organization.objects.branches().active()
    if scope.sees_all_branches:
        return qs
    ids = scope.reachable_branch_ids
    return qs.filter(pk__in=ids)


def branch_overview(user, *, on: dt.date) -> QuerySet[Organization]:
    """Visible branches with their member and group counts on ``on``: one query."""
    return (
        branches_visible_to(user)
        .select_related("parent")
        .annotate(
            member_count=Count(
                "memberships",
                filter=active_on(on, "memberships__") & Q(memberships__member__status__in=Member.ON_ROLL_STATUSES),
                distinct=True,
            ),
            group_count=Count("children", filter=Q(children__kind=Organization.Kind.GROUP), distinct=True),
        )
        .order_by("sort_order", "id")
    )


def home_branches(user, *, on: dt.date, limit: int, unmet=None) -> list[Organization]:
    """The home's 全部支部 panel: the first ``limit`` visible branches with their member and group
    counts, one query whatever the number of branches (correlated counts per shown row, not a
    COUNT(DISTINCT) over memberships x groups of every branch); the full list is org:branch_list.

    ``unmet``: an expression counting each branch's missed cells, given by the layer that owns
    compliance (org sits below it); the panel then lists the worst branches first."""
    from django.db.models import IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    def count_of(qs):
        return Coalesce(
            Subquery(qs.order_by().values("organization_id").annotate(n=Count("pk")).values("n")[:1]),
            0,
            output_field=IntegerField(),
        )

    members = Membership.objects.filter(
        active_on(on), organization_id=OuterRef("pk"), member__status__in=Member.ON_ROLL_STATUSES
    )
    groups = Organization.objects.filter(parent_id=OuterRef("pk"), kind=Organization.Kind.GROUP).order_by()
    group_count = Coalesce(
        Subquery(groups.values("parent_id").annotate(n=Count("pk")).values("n")[:1]), 0, output_field=IntegerField()
    )
    branches = branches_visible_to(user).annotate(member_count=count_of(members), group_count=group_count)
    if unmet is None:
        return list(branches.order_by("sort_order", "id")[:limit])
    return list(branches.annotate(unmet_count=unmet).order_by("-unmet_count", "sort_order", "id")[:limit])


def branch_members_on(branch: Organization, *, on: dt.date) -> QuerySet[Member]:
    """Members of a branch on date ``on`` (the 应到 of a branch meeting): one query."""
    return (
        Member.objects.in_good_standing()
        .filter(Q(memberships__organization=branch) & active_on(on, "memberships__"))
        .distinct()
        .order_by("name", "id")
    )


def branch_committee_on(branch: Organization | int, *, on: dt.date) -> QuerySet[Member]:
    """The branch committee (支委) on date ``on``: members on the roll holding a committee post."""
    return Member.objects.in_good_standing().filter(
        Q(posts__organization=branch) & Q(posts__role__in=Post.COMMITTEE_ROLES) & active_on(on, "posts__")
    )


def branch_secretary_on(branch: Organization, *, on: dt.date) -> Member | None:
    return (
        Member.objects.filter(
            Q(posts__organization=branch) & Q(posts__role=Post.Role.SECRETARY) & active_on(on, "posts__")
        )
        .order_by("-posts__started_on")
        .first()
    )


def branch_detail(branch: Organization, *, on: dt.date) -> dict:
    """Everything the branch page shows, in a fixed number of queries."""
    groups = list(
        Organization.objects.groups()
        .filter(parent=branch, is_active=True)
        .prefetch_related(
            Prefetch(
                "posts",
                queryset=Post.objects.filter(active_on(on)).select_related("member"),
                to_attr="current_posts",
            )
        )
        .annotate(
            member_count=Count(
                "memberships",
                filter=active_on(on, "memberships__") & Q(memberships__member__status__in=Member.ON_ROLL_STATUSES),
                distinct=True,
            )
        )
    )
    posts = list(
        Post.objects.filter(active_on(on), organization=branch).select_related("member").order_by("role", "id")
    )
    members = list(
        branch_members_on(branch, on=on).prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(active_on(on), organization__kind=Organization.Kind.GROUP)
                .filter(organization__parent=branch)
                .select_related("organization"),
                to_attr="current_group_memberships",
            )
        )
    )
    duties = {d.role: d for d in PostDuty.objects.filter(organization=branch).exclude(duties="")}
    for p in posts:
        p.duty = duties.get(p.role)
    return {"groups": groups, "posts": posts, "members": members, "duties": duties}


def roster_rows(*, branches: QuerySet[Organization] | None = None, on: dt.date):
    """One row per current branch membership, for the roster export: one query, streamed."""
    qs = Membership.objects.filter(active_on(on), organization__kind=Organization.Kind.BRANCH).filter(
        member__status__in=Member.ON_ROLL_STATUSES
    )
    if branches is not None:
        qs = qs.filter(organization__in=branches)
    return qs.select_related("member", "organization").order_by(
        "organization__sort_order", "organization_id", "member__name"
    )


def holders_of(organization_ids, role: str, *, on: dt.date) -> dict[int, Member]:
    """The member holding post ``role`` on ``on`` in each of ``organization_ids``: one query however many.

    A unit with two overlapping holders (a hand-over day) gets the most recently appointed one;
    a unit with none is missing from the result.
    """
    posts = (
        Post.objects.filter(Q(organization_id__in=list(organization_ids)) & Q(role=role) & active_on(on))
        .select_related("member")
        .order_by("organization_id", "started_on", "id")
    )
    return {p.organization_id: p.member for p in posts}


def holder_of(organization: Organization | int, role: str, *, on: dt.date) -> Member | None:
    """The member holding post ``role`` of ``organization`` on ``on`` (None when vacant)."""
    org_id = organization if isinstance(organization, int) else organization.pk
    return holders_of([org_id], role, on=on).get(org_id)
