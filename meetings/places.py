"""The register of meeting places: which a branch may choose, the rules of a choice, and how far is far.

Rules live here once: ``place_problem`` (may this branch meet at this place) for the plan
form and its service, ``distance_text`` for every message that states a distance (the
evidence GPS check words its flag with it), and ``place_save`` for the 书记's edits.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from org.models import Organization

from .models import Place


def distance_text(metres: float) -> str:
    """A distance as people say it: whole metres under 1 km, else kilometres to one decimal (half up).

    999.4 m reads "约 999 米"; 999.5 m rounds to 1000 m and so reads "约 1.0 公里"; 1049 m "约 1.0 公里",
    1050 m "约 1.1 公里".
    """
    whole = int(Decimal(str(metres)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if whole < 1000:
        return _("约 {metres} 米").format(metres=whole)
    km = (Decimal(whole) / 1000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return _("约 {km} 公里").format(km=km)


def places_for_branch(branch: Organization, *, include: Place | None = None) -> QuerySet[Place]:
    """The active places a branch may meet at: its own and the mine-wide ones (``include`` kept even if off)."""
    q = Q(is_active=True) & (Q(branch=branch) | Q(branch__isnull=True))
    if include is not None:
        q |= Q(pk=include.pk)
    return Place.objects.filter(q).order_by("-is_default", "branch_id", "kind", "name", "id")


def default_place(branch: Organization) -> Place | None:
    return Place.objects.filter(branch=branch, is_default=True, is_active=True).first()


def place_problem(place: Place | None, *, branch: Organization) -> str:
    """Why ``branch`` may not plan a meeting at ``place`` ('' when it may).

    A visit to an 教育基地 is checked by the photos' GPS against the base: a base without
    coordinates would make that check silently never run, so it is refused.
    """
    if place is None:
        return ""
    if place.branch_id is not None and place.branch_id != branch.pk:
        return _("该地点属于其他支部，不能选用。")
    if place.is_base and not place.has_coordinates:
        return _(
            "教育基地“{name}”尚未登记经纬度，无法核对现场照片的拍摄位置；请先请管理员补充坐标后再安排参观。"
        ).format(name=place.name)
    return ""


PLACE_FIELDS = ("name", "kind", "address", "latitude", "longitude", "contact", "capacity", "is_default", "is_active")


@transaction.atomic
def place_save(*, branch: Organization, user, now: dt.datetime, place: Place | None = None, **values) -> Place:
    """Create or change one of ``branch``'s places (a 书记's edit); the default moves to it when asked."""
    if place is None:
        place = Place(branch=branch)
    elif place.branch_id != branch.pk:
        raise ValidationError(_("该地点不属于本支部。"))
    for name in PLACE_FIELDS:
        if name in values:
            setattr(place, name, values[name])
    if not (place.name or "").strip():
        raise ValidationError({"name": [_("请填写地点名称。")]})
    if place.kind == Place.Kind.EDUCATION_BASE:
        raise ValidationError({"kind": [_("教育基地由党委统一登记，请联系管理员。")]})
    place.name = place.name.strip()
    if place.is_default:
        Place.objects.filter(branch=branch, is_default=True).exclude(pk=place.pk).update(is_default=False)
    place.full_clean()
    place._history_user = user
    place._history_date = now
    place._change_reason = _("修改会议地点")
    place.save()
    return place
