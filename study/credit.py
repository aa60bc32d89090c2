"""The 学时 an item is worth: one function that pages, records and the ledger call."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .models import StudyItem, StudyPolicy

TENTH = Decimal("0.1")


def item_credit_hours(item: StudyItem, *, policy: StudyPolicy, duration: float | None = None) -> Decimal:
    """The item's own credit when its publisher set one; else a video's or audio's duration at
    ``policy.minutes_per_hour`` (default 1 学时 per 45 minutes), to 0.1; else 0."""
    if item.credit_hours is not None:
        return item.credit_hours
    if duration is None and item.kind in StudyItem.PLAYABLE_KINDS:
        media = getattr(item, "media", None)
        duration = media.duration_seconds if media is not None else None
    if not duration or not policy.minutes_per_hour:
        return Decimal("0.0")
    hours = Decimal(repr(duration)) / Decimal(60 * policy.minutes_per_hour)
    return hours.quantize(TENTH, rounding=ROUND_HALF_UP)
