"""Reads of the integrity checks: the duplicate-photo index and the flags the review pages show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from supervision import hashindex
from supervision.models import Flag, PhotoFingerprint


@dataclass(frozen=True)
class PhotoMatch:
    """A stored photo within the asked distance of a query hash."""

    evidence_id: int
    meeting_id: int
    distance: int


def similar_photos_many(
    phashes: Iterable[int],
    *,
    max_distance: int,
    exclude_meeting_id: int | None = None,
    limit: int = 20,
    using: str | None = None,
) -> dict[int, list[PhotoMatch]]:
    """For each unsigned 64-bit hash, the stored photos within ``max_distance`` bits, closest first.

    One indexed query for all the hashes (see ``supervision.hashindex``): the chunk
    values within ``max_distance // 4`` bits of each query's chunks, per column, ORed;
    the exact Hamming distance is then measured in Python on the candidates only.
    Photos of ``exclude_meeting_id`` (burst shots of the same session) are left out.
    """
    queries = list(dict.fromkeys(phashes))
    if not queries:
        return {}
    radius = hashindex.chunk_radius(max_distance)
    wanted: list[set[int]] = [set() for _ in range(hashindex.CHUNKS)]
    for phash in queries:
        for column, chunk in enumerate(hashindex.chunks(phash)):
            wanted[column].update(hashindex.neighbours(chunk, radius))
    condition = Q()
    for column, values in enumerate(wanted):
        condition |= Q(**{f"chunk{column}__in": sorted(values)})
    candidates = PhotoFingerprint.objects.using(using).filter(condition)
    if exclude_meeting_id is not None:
        candidates = candidates.exclude(meeting_id=exclude_meeting_id)
    rows = [
        (evidence_id, meeting_id, phash & 0xFFFFFFFFFFFFFFFF)
        for evidence_id, meeting_id, phash in candidates.values_list("evidence_id", "meeting_id", "hash")
    ]
    result = {}
    for query in queries:
        found = []
        for evidence_id, meeting_id, stored in rows:
            distance = (query ^ stored).bit_count()
            if distance <= max_distance:
                found.append(PhotoMatch(evidence_id, meeting_id, distance))
        found.sort(key=lambda m: (m.distance, m.evidence_id))
        result[query] = found[:limit]
    return result


def similar_photos(
    phash: int,
    *,
    max_distance: int,
    exclude_meeting_id: int | None = None,
    limit: int = 20,
    using: str | None = None,
) -> list[PhotoMatch]:
    """The stored photos within ``max_distance`` bits of the unsigned 64-bit ``phash``, closest first."""
    return similar_photos_many(
        [phash], max_distance=max_distance, exclude_meeting_id=exclude_meeting_id, limit=limit, using=using
    )[phash]


# --- Flags as the review pages read them ------------------------------------------------


def _flags() -> QuerySet[Flag]:
    return Flag.objects.select_related(
        "evidence", "related_meeting__branch", "related_evidence", "decided_by"
    ).order_by("meeting_id", "kind", "id")


def flags_for_meeting(meeting) -> QuerySet[Flag]:
    """Every flag of one meeting (open ones first), with what the page shows of the related meeting."""
    # Open before confirmed before dismissed: the supervisor works from the top.
    status_order = Case(
        When(status=Flag.Status.OPEN, then=Value(0)),
        When(status=Flag.Status.CONFIRMED, then=Value(1)),
        default=Value(2),
    )
    return _flags().filter(meeting=meeting).order_by(status_order, "kind", "id")


def flags_for_meetings(meeting_ids: Iterable[int]) -> QuerySet[Flag]:
    """The flags of several meetings (a queue page), ordered by meeting."""
    return _flags().filter(meeting_id__in=list(meeting_ids))


def open_flag_counts(meeting_ids: Iterable[int]) -> dict[int, int]:
    """Meeting id → number of open flags, for the given meetings that have any (one query)."""
    rows = (
        Flag.objects.filter(meeting_id__in=list(meeting_ids), status=Flag.Status.OPEN)
        .values("meeting_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("meeting_id", "n")
    )
    return dict(rows)


def with_open_flag_count(meetings: QuerySet) -> QuerySet:
    """``meetings`` annotated with ``open_flag_count`` (0 when none), to filter or sort a queue by it."""
    counts = (
        Flag.objects.filter(meeting=OuterRef("pk"), status=Flag.Status.OPEN)
        .order_by()
        .values("meeting")
        .annotate(n=Count("id"))
        .values("n")
    )
    return meetings.annotate(open_flag_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0))
