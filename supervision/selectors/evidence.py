"""Reads of evidence shared by the evidence page, the review page and the downloads."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from ..models import Evidence


def evidence_with_owner() -> QuerySet[Evidence]:
    """Evidence with the meeting, finding or rectification it belongs to (what the permission check reads)."""
    return Evidence.objects.select_related("meeting", "finding", "rectification")


def types_missing_photos(meeting, *, has_photo: bool) -> list[str]:
    """Names of the meeting's types that require a meeting photo, when it has none (the one home of that rule)."""
    if has_photo:
        return []
    return [t.name for t in meeting.types.all() if t.requires_photo]


def missing_photo_types(meeting) -> list[str]:
    """``types_missing_photos`` for a stored meeting: a photo that failed processing does not count."""
    has_photo = (
        Evidence.objects.filter(meeting_id=meeting.pk, category=Evidence.Category.PHOTO)
        .exclude(status=Evidence.Status.FAILED)
        .exists()
    )
    return types_missing_photos(meeting, has_photo=has_photo)


def evidence_of_meeting(meeting) -> QuerySet[Evidence]:
    """A meeting's evidence in gallery order, with the uploader's name, in one query."""
    return (
        Evidence.objects.filter(meeting=meeting)
        .select_related("uploaded_by__member")
        .order_by("category", "uploaded_at", "id")
    )


@dataclass(frozen=True)
class EvidenceGroup:
    category: str
    label: str
    items: list[Evidence]


def group_by_category(items) -> list[EvidenceGroup]:
    """Evidence grouped under each category's label, in the order the categories are declared; empty ones left out."""
    by_category: dict[str, list[Evidence]] = {}
    for ev in items:
        by_category.setdefault(ev.category, []).append(ev)
    return [
        EvidenceGroup(category=value, label=str(label), items=by_category[value])
        for value, label in Evidence.Category.choices
        if value in by_category
    ]


def any_processing(items) -> bool:
    return any(ev.status == Evidence.Status.PROCESSING for ev in items)
