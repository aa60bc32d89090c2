"""Reads of the bulletin, with the permission filter."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from org.scope import get_scope

from .models import Announcement


def announcements_for_user(user, *, now: dt.datetime) -> QuerySet[Announcement]:
    """Published announcements the user may read: mine-wide ones and those of their branches."""
    scope = get_scope(user)
    qs = Announcement.objects.filter(published_at__lte=now).select_related("organization")
    if scope.sees_all_branches:
        return qs
    branch_ids = scope.branch_ids | scope.committee_branch_ids | scope.led_group_branch_ids
    return qs.filter(Q(organization__isnull=True) | Q(organization_id__in=branch_ids))
