"""How many 学时 an item is worth: the one home of that rule (pages, the ledger and completion call it)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .models import StudyItem, StudyMedia, StudyPolicy

ZERO = Decimal("0.0")


def item_credit_hours(item: StudyItem, *, policy: StudyPolicy | None = None) -> Decimal:
    """The item's 学时: the publisher's ``credit_hours`` when set (always so for documents and articles);
    else, for a video or audio, its duration / ``StudyPolicy.minutes_per_hour``, to 0.1 (half up).

    A video whose duration is not known yet (the worker has not read it) is worth 0 until it is.
    Reads ``item.media`` (select_related it in lists) and the policy (pass it in loops).
    """
    if item.credit_hours is not None:
        return item.credit_hours
    if item.kind not in StudyItem.PLAYABLE_KINDS:
        return ZERO
    try:
        seconds = item.media.duration_seconds
    except StudyMedia.DoesNotExist:
        return ZERO
    if not seconds:
        return ZERO
    policy = policy or StudyPolicy.current()
    hours = Decimal(str(seconds)) / Decimal(60 * policy.minutes_per_hour)
    return hours.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
