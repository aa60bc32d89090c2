"""Reads of the study library, with the permission filter.

``visible_items`` is the one filter of "who may study what" (pages, the media view, the
heartbeat, the API and assignments call it); ``items_for_user`` adds what a login sees as an
author or reviewer. Both are built from ``org.rules.study_reach`` / ``study_author_branch_ids``,
the same two the ``study.*`` predicates read.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from org.models import Organization
from org.rules import study_author_branch_ids, study_reach, writes_mine_study

from .models import StudyItem


def _base() -> QuerySet[StudyItem]:
    return StudyItem.objects.select_related("organization", "column", "lecturer").prefetch_related("branches")


def audience_q(user) -> Q | None:
    """The published items whose audience includes the login, as a filter (``None``: nothing)."""
    reach = study_reach(user)
    if reach is None:
        return None
    published = Q(state=StudyItem.State.PUBLISHED)
    if reach.everything:
        return published
    audience = Q(audience=StudyItem.Audience.MINE)
    if reach.branch_ids:
        # A subquery rather than a join, so an item for two of the login's branches is one row.
        audience |= Q(
            audience=StudyItem.Audience.BRANCHES,
            pk__in=StudyItem.branches.through.objects.filter(organization_id__in=reach.branch_ids).values(
                "studyitem_id"
            ),
        )
    if reach.roles:
        role_q = Q()
        for role in sorted(reach.roles):
            # Roles are stored space-separated ("secretary committee"); neither value contains the other.
            role_q |= Q(roles__contains=role)
        audience |= Q(audience=StudyItem.Audience.ROLES) & role_q
    return published & audience


def _authored_q(user) -> Q | None:
    q = None
    branch_ids = study_author_branch_ids(user)
    if branch_ids:
        q = Q(organization_id__in=branch_ids, organization__kind=Organization.Kind.BRANCH)
    if writes_mine_study(user):
        mine = ~Q(organization__kind=Organization.Kind.BRANCH)
        # The 党委工作部 also reviews: every item sent for review, whoever wrote it.
        mine |= ~Q(state=StudyItem.State.DRAFT)
        q = mine if q is None else q | mine
    return q


def visible_items(user) -> QuerySet[StudyItem]:
    """Published items whose audience includes the user (the library and what may be studied)."""
    q = audience_q(user)
    if q is None:
        return StudyItem.objects.none()
    return _base().filter(q)


def items_for_user(user) -> QuerySet[StudyItem]:
    """Every item the user may open: ``visible_items`` plus those they write or review, in any state."""
    q = audience_q(user)
    if q is None:
        return StudyItem.objects.none()
    authored = _authored_q(user)
    if authored is not None:
        q |= authored
    return _base().filter(q)


def editable_items(user) -> QuerySet[StudyItem]:
    """Items the user writes (``study.edit_item``), in any state: the 我发布的 list."""
    if not getattr(user, "is_authenticated", False):
        return StudyItem.objects.none()
    q = Q(organization_id__in=study_author_branch_ids(user), organization__kind=Organization.Kind.BRANCH)
    if writes_mine_study(user):
        q |= ~Q(organization__kind=Organization.Kind.BRANCH)
    return _base().filter(q)


def review_queue(user) -> QuerySet[StudyItem]:
    """Items waiting for the 党委工作部's review, oldest first (empty for anyone else)."""
    if not writes_mine_study(user):
        return StudyItem.objects.none()
    return _base().filter(state=StudyItem.State.IN_REVIEW).order_by("submitted_at", "id")


def item_for_user(user, pk) -> StudyItem:
    """The item if the user may open it (``study.view_item``), else 404: one query plus the branches."""
    return get_object_or_404(items_for_user(user), pk=pk)


def editable_item_for_user(user, pk) -> StudyItem:
    """The item if the user may edit it; 404 when they may not even see it, 403 when they only see it."""
    item = item_for_user(user, pk)
    if not user.has_perm("study.edit_item", item):
        raise PermissionDenied
    return item


def library_items(user, *, q: str = "", column_id: int | None = None, kind: str = "") -> QuerySet[StudyItem]:
    """The library page's rows: what the user may study, searched by title or lecturer, newest first."""
    qs = visible_items(user).prefetch_related(None)
    q = q.strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(lecturer__name__icontains=q) | Q(lecturer_name__icontains=q))
    if column_id:
        qs = qs.filter(column_id=column_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-published_at", "-id")


def item_history(item: StudyItem):
    """Who took each step of the item and when (drafts, review, publication, withdrawal), newest first."""
    return item.history.select_related("history_user__member").order_by("-history_date", "-history_id")
