"""Integrity checks of meeting records: flags in plain Chinese for supervisors, never blocking anything.

Two entry points run the checks:

* ``evidence_checks`` after the worker has processed one photo of a meeting (capture
  time, GPS position, the same photo in another meeting);
* ``meeting_checks`` when a record is submitted (``meetings_check_due``, a beat task):
  minutes copied from another meeting, minutes entered long after the meeting, a
  required photo missing, one device checking in several members (代签到) — and the
  photo checks again for every photo, because the meeting's times and place may have
  been corrected since the photos were processed.

A flag is identified by (meeting, key), unique in the database, so a check that runs
twice finds its flag and makes no second one. A flag that a supervisor has confirmed or
dismissed is never touched again by a check; an open flag whose cause has gone (the
meeting time was corrected, the other photo deleted) is removed by the next run.

Duplicates are flagged on both meetings: when one session is passed off as two
meetings, either record may be the false one, and the supervisor reading the older
record needs to know as much as the one reading the newer.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image
from simple_history.utils import get_history_manager_for_model

from meetings.checkin import shared_device_checkins
from meetings.models import AgendaItem, Meeting
from meetings.places import distance_text
from org.clock import date_label, datetime_label, deadline_text, mine_tz, time_range_label
from org.models import Member, Organization
from supervision import hashindex, minhash, minutes_text, photocopies
from supervision.models import (
    Evidence,
    Flag,
    MeetingCheck,
    MinutesBand,
    MinutesPassage,
    PhotoFingerprint,
    PhotoView,
    SupervisionPolicy,
)
from supervision.selectors.evidence import types_missing_photos
from supervision.selectors.integrity import copy_candidates

logger = logging.getLogger(__name__)

PHOTO_KINDS = (Flag.Kind.CAPTURE_TIME, Flag.Kind.GPS_FAR, Flag.Kind.DUPLICATE_PHOTO)
RECORD_KINDS = (Flag.Kind.SIMILAR_MINUTES, Flag.Kind.LATE_ENTRY, Flag.Kind.MISSING_PHOTO, Flag.Kind.SHARED_DEVICE)

# A photo reused across many meetings needs a handful of flags to be seen, not hundreds.
MAX_DUPLICATE_MEETINGS = 5
MAX_SIMILAR_MINUTES = 5
# Records compared sentence by sentence per check, and the uncommon passages one must share to be one.
MAX_MINUTES_CANDIDATES = 20
MIN_SHARED_PASSAGES = 3
# Minutes shorter than this many shingles (a topic and a line or two) say too little to
# call two records copies of each other.
MIN_SHINGLES = 20
EARTH_RADIUS_M = 6_371_008.8


# --- Fingerprints -----------------------------------------------------------------------


def fingerprint_store(*, evidence, phash: int, views: Iterable[int] = ()) -> None:
    """Index a processed meeting image's perceptual hash and the hashes of its views.

    Every image of a meeting is indexed, whatever its category: a sign-in sheet or a
    minutes scan reused from another meeting is the same fraud as a reused photo. Pages
    of one printed form are alike by design; the keypoint confirmation
    (``photocopies.confirm_copy``) tells a reused sheet from another sheet of the form.
    Idempotent: the views are replaced.
    """
    if evidence.meeting_id is None or evidence.kind != Evidence.Kind.IMAGE:
        return
    PhotoView.objects.filter(evidence_id=evidence.pk).delete()
    PhotoView.objects.bulk_create(
        PhotoView(
            evidence_id=evidence.pk, meeting_id=evidence.meeting_id, hash=hashindex.to_signed(v), **_chunk_fields(v)
        )
        for v in dict.fromkeys([phash, *views])
    )
    c0, c1, c2, c3 = hashindex.chunks(phash)
    PhotoFingerprint.objects.update_or_create(
        evidence_id=evidence.pk,
        defaults={
            "meeting_id": evidence.meeting_id,
            "hash": hashindex.to_signed(phash),
            "chunk0": c0,
            "chunk1": c1,
            "chunk2": c2,
            "chunk3": c3,
        },
    )


def _chunk_fields(value: int) -> dict:
    return {f"chunk{n}": c for n, c in enumerate(hashindex.chunks(value))}


# --- Flags wanted and their synchronisation ------------------------------------------------


@dataclass
class _Wanted:
    meeting_id: int
    key: str
    kind: str
    message: str
    evidence_id: int | None = None
    related_meeting_id: int | None = None
    related_evidence_id: int | None = None
    score: float | None = None
    match_score: float | None = None
    match_region: dict | None = None

    def values(self) -> dict:
        return {
            "kind": self.kind,
            "message": self.message,
            "evidence_id": self.evidence_id,
            "related_meeting_id": self.related_meeting_id,
            "related_evidence_id": self.related_evidence_id,
            "score": self.score,
            "match_score": self.match_score,
            "match_region": self.match_region,
        }


def _keyed(wanted: list[_Wanted]) -> Q:
    per_meeting: dict[int, list[str]] = defaultdict(list)
    for w in wanted:
        per_meeting[w.meeting_id].append(w.key)
    condition = Q(pk__in=[])
    for meeting_id, keys in per_meeting.items():
        condition |= Q(meeting_id=meeting_id, key__in=keys)
    return condition


def _sync_flags(wanted: list[_Wanted], *, stale: Q | None, now: dt.datetime) -> list[Flag]:
    """Make the wanted flags exist, once each; refresh open ones; remove open flags in ``stale`` not wanted.

    Confirmed and dismissed flags are left as the supervisor decided them: never
    reopened, never rewritten, never removed by a check.
    """
    by_key: dict[tuple[int, str], _Wanted] = {}
    for w in wanted:
        by_key.setdefault((w.meeting_id, w.key), w)
    wanted = list(by_key.values())
    keyed = _keyed(wanted)
    existing = {(f.meeting_id, f.key): f for f in Flag.objects.filter(keyed)} if wanted else {}

    missing = [
        Flag(meeting_id=w.meeting_id, key=w.key, created_at=now, **w.values())
        for k, w in by_key.items()
        if k not in existing
    ]
    flags = dict(existing)
    if missing:
        # ignore_conflicts: a check running at the same moment may have made the same flag.
        Flag.objects.bulk_create(missing, ignore_conflicts=True)
        flags = {(f.meeting_id, f.key): f for f in Flag.objects.filter(keyed)}
        new = [f for k, f in flags.items() if k not in existing]
        get_history_manager_for_model(Flag).bulk_history_create(new, default_date=now)

    for k, flag in existing.items():
        values = by_key[k].values()
        if flag.status != Flag.Status.OPEN or all(getattr(flag, name) == v for name, v in values.items()):
            continue
        if Flag.objects.filter(pk=flag.pk, status=Flag.Status.OPEN).update(**values):
            for name, v in values.items():
                setattr(flag, name, v)

    if stale is not None:
        gone = Flag.objects.filter(stale, status=Flag.Status.OPEN)
        if wanted:
            gone = gone.exclude(keyed)
        gone.delete()
    return [flags[k] for k in by_key if k in flags]


# --- Photo checks --------------------------------------------------------------------------


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value, mine_tz())


def _minute(value: dt.datetime) -> str:
    return datetime_label(value)


def _window(meeting: Meeting) -> tuple[dt.datetime, dt.datetime]:
    """When the meeting took place: the minutes' times, else the plan's."""
    start = meeting.actual_start or meeting.planned_start
    end = meeting.actual_end or meeting.planned_end
    if end <= start:  # actual start entered, actual end not: keep the planned length
        end = start + (meeting.planned_end - meeting.planned_start)
    return start, end


def _window_text(start: dt.datetime, end: dt.datetime) -> str:
    return time_range_label(start, end)


def _meeting_name(meeting: Meeting, *, seen_from: Meeting) -> str:
    branch = _("本支部") if meeting.branch_id == seen_from.branch_id else str(meeting.branch.name)
    return f"{branch} {date_label(meeting.held_on)} "


def _capture_flag(meeting: Meeting, photo: Evidence, policy: SupervisionPolicy) -> _Wanted | None:
    # A photo without a capture time raises nothing: WeChat and most messaging apps strip
    # EXIF, so a flag would sit on most honest photos and bury the ones that matter. The
    # gallery shows "拍摄时间：无" to the supervisor all the same.
    if photo.captured_at is None:
        return None
    start, end = _window(meeting)
    tolerance = policy.capture_tolerance
    if start - tolerance <= photo.captured_at <= end + tolerance:
        return None
    off = (start - photo.captured_at) if photo.captured_at < start else (photo.captured_at - end)
    return _Wanted(
        meeting_id=meeting.pk,
        key=f"capture_time:{photo.pk}",
        kind=Flag.Kind.CAPTURE_TIME,
        message=(
            _(
                "照片拍摄时间（{minute}）不在会议时间（{window_text}）内（允许前后 {capture_tolerance_minutes} 分钟）"
            ).format(
                minute=_minute(photo.captured_at),
                window_text=_window_text(start, end),
                capture_tolerance_minutes=policy.capture_tolerance_minutes,
            )
        ),
        evidence_id=photo.pk,
        score=round(off.total_seconds() / 60),
    )


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _gps_flag(meeting: Meeting, photo: Evidence, policy: SupervisionPolicy) -> _Wanted | None:
    if None in (meeting.latitude, meeting.longitude, photo.gps_latitude, photo.gps_longitude):
        return None
    metres = haversine_m(
        float(meeting.latitude), float(meeting.longitude), float(photo.gps_latitude), float(photo.gps_longitude)
    )
    if metres <= policy.gps_max_distance_m:
        return None
    place = f"（{meeting.place}）" if meeting.place else ""
    return _Wanted(
        meeting_id=meeting.pk,
        key=f"gps_far:{photo.pk}",
        kind=Flag.Kind.GPS_FAR,
        message=_("拍摄地点距会议地点{place}{distance_text}").format(place=place, distance_text=distance_text(metres)),
        evidence_id=photo.pk,
        score=round(metres),
    )


def _similarity_percent(value: float) -> int:
    # Floor, so that "100%" means identical and nothing merely close to it.
    return math.floor(value * 100 + 1e-9)


def _thumbnail(evidence: Evidence) -> Image.Image | None:
    if not evidence.thumbnail:
        return None
    try:
        with evidence.thumbnail.open("rb") as f:
            im = Image.open(io.BytesIO(f.read()))
            im.load()
            return im
    except (OSError, ValueError):
        return None


def _how_text(match: photocopies.CopyMatch) -> str:
    """What was done to the copy, in words: 镜像、裁剪约20%、旋转约4°."""
    parts = []
    if match.mirrored:
        parts.append(_("镜像"))
    if match.cropped >= 0.05:
        parts.append(_("裁剪约{percent}%").format(percent=round(match.cropped * 100 / 5) * 5))
    if abs(match.rotation) >= 1.5:
        parts.append(_("旋转约{degrees}°").format(degrees=round(abs(match.rotation))))
    return "（{}）".format("、".join(str(p) for p in parts)) if parts else ""


def _copy_message(
    other: Meeting, *, seen_from: Meeting, this_category: str, category: str, match: photocopies.CopyMatch
) -> str:
    label = Evidence.Category(category).label
    return _("此{this}与{meeting_name}的{label}{how}相同（匹配得分 {percent}%）").format(
        this=_("照片") if this_category == Evidence.Category.PHOTO else Evidence.Category(this_category).label,
        meeting_name=_meeting_name(other, seen_from=seen_from),
        label=label,
        how=_how_text(match),
        percent=_similarity_percent(match.score),
    )


def _duplicate_flags(meeting: Meeting, photos: list[tuple[Evidence, int]], policy: SupervisionPolicy) -> list[_Wanted]:
    """Flags for images of ``meeting`` found again in other meetings, and the mirror flags on those.

    Candidates come from the view index (``copy_candidates``); each is confirmed with
    keypoints on the two thumbnails (``photocopies.confirm_copy``) before it is flagged.
    """
    if not photos:
        return []
    views_of: dict[int, list[int]] = defaultdict(list)
    for evidence_id, value in PhotoView.objects.filter(evidence_id__in=[p.pk for p, _h in photos]).values_list(
        "evidence_id", "hash"
    ):
        views_of[evidence_id].append(hashindex.to_unsigned(value))
    candidates = {}
    for photo, phash in photos:
        views = views_of.get(photo.pk) or [phash]
        found = copy_candidates(views, max_distance=policy.photo_hash_max_distance, exclude_meeting_id=meeting.pk)
        candidates[photo.pk] = sorted(found.items(), key=lambda item: (item[1][1], item[0]))[:20]
    other_evidence = Evidence.objects.in_bulk({eid for c in candidates.values() for eid, _m in c})
    others = Meeting.objects.select_related("branch").in_bulk({m for c in candidates.values() for _e, (m, _d) in c})
    wanted = []
    for photo, _phash in photos:
        mine = _thumbnail(photo)
        if mine is None:
            continue
        seen_meetings: set[int] = set()
        for other_evidence_id, (other_id, _distance) in candidates[photo.pk]:
            if other_id in seen_meetings or len(seen_meetings) >= MAX_DUPLICATE_MEETINGS:
                continue
            other_photo = other_evidence.get(other_evidence_id)
            theirs = None if other_photo is None else _thumbnail(other_photo)
            if theirs is None:
                continue
            match = photocopies.confirm_copy(mine, theirs)
            if not match.is_copy:
                continue
            seen_meetings.add(other_id)
            other = others[other_id]
            for here, there, here_photo, there_photo, region in (
                (meeting, other, photo, other_photo, {"evidence": match.region_a, "related": match.region_b}),
                (other, meeting, other_photo, photo, {"evidence": match.region_b, "related": match.region_a}),
            ):
                wanted.append(
                    _Wanted(
                        meeting_id=here.pk,
                        key=f"duplicate_photo:{here_photo.pk}:{there.pk}",
                        kind=Flag.Kind.DUPLICATE_PHOTO,
                        message=_copy_message(
                            there,
                            seen_from=here,
                            this_category=here_photo.category,
                            category=there_photo.category,
                            match=match,
                        ),
                        evidence_id=here_photo.pk,
                        related_meeting_id=there.pk,
                        related_evidence_id=there_photo.pk,
                        score=match.score,
                        match_score=match.score,
                        match_region=region,
                    )
                )
    # One flag per key, the closest pair first (several photos here may match one there).
    wanted.sort(key=lambda w: -w.score)
    return wanted


def _photo_flags(meeting: Meeting, photos: list[tuple[Evidence, int | None]], policy) -> list[_Wanted]:
    wanted = []
    for photo, _phash in photos:
        if photo.category != Evidence.Category.PHOTO:
            continue  # a sign-in sheet's or a scan's time and place say nothing of the meeting
        for check in (_capture_flag, _gps_flag):
            flag = check(meeting, photo, policy)
            if flag is not None:
                wanted.append(flag)
    hashed = [(photo, phash) for photo, phash in photos if phash is not None]
    wanted.extend(_duplicate_flags(meeting, hashed, policy))
    return wanted


def evidence_checks(*, evidence, now: dt.datetime) -> list[Flag]:
    """Checks of one processed photo of a meeting: capture time, GPS position, the same photo elsewhere.

    Returns the flags that apply to this photo (new or already there, whatever their
    status). Any other file raises nothing.
    """
    if evidence.meeting_id is None or evidence.kind != Evidence.Kind.IMAGE:
        return []
    policy = SupervisionPolicy.current()
    meeting = Meeting.objects.select_related("branch").get(pk=evidence.meeting_id)
    stored = PhotoFingerprint.objects.filter(evidence_id=evidence.pk).values_list("hash", flat=True).first()
    phash = None if stored is None else hashindex.to_unsigned(stored)
    with transaction.atomic():
        flags = _sync_flags(
            _photo_flags(meeting, [(evidence, phash)], policy),
            stale=Q(meeting_id=meeting.pk, evidence_id=evidence.pk, kind__in=PHOTO_KINDS),
            now=now,
        )
    return [f for f in flags if f.meeting_id == meeting.pk]


# --- Record checks -------------------------------------------------------------------------


def minutes_segments(meeting: Meeting) -> list[str]:
    """The text of a record that a copy would repeat: topic, lesson, agenda titles, speeches, resolutions.

    Reads ``agenda_items`` and their ``speeches`` through the prefetch cache when present.
    """
    segments = [meeting.topic, meeting.lesson_title, meeting.resolutions]
    for item in meeting.agenda_items.all():
        segments.append(item.title)
        segments.extend(speech.points for speech in item.speeches.all())
    return [s for s in segments if s]


def _with_minutes(queryset):
    return queryset.prefetch_related(
        Prefetch("agenda_items", queryset=AgendaItem.objects.prefetch_related("speeches__speaker"))
    )


def _late_entry_flag(meeting: Meeting, policy: SupervisionPolicy) -> _Wanted | None:
    """Minutes entered at or after the filing deadline (``Meeting.minutes_due_at``), plus the policy's grace days."""
    if meeting.minutes_entered_at is None or meeting.minutes_due_at is None:
        return None
    deadline = meeting.minutes_due_at + dt.timedelta(days=policy.late_entry_grace_days)
    if meeting.minutes_entered_at < deadline:
        return None
    held_on = meeting.held_on
    days = (_local(meeting.minutes_entered_at).date() - held_on).days
    return _Wanted(
        meeting_id=meeting.pk,
        key="late_entry",
        kind=Flag.Kind.LATE_ENTRY,
        message=(
            _(
                "会议记录在会后第 {days} 天才录入（会议召开于 {minute}，记录录入于 {minute2}，应于 {deadline} 前录入）"
            ).format(
                days=days,
                minute=_minute(meeting.actual_start or meeting.planned_start),
                minute2=_minute(meeting.minutes_entered_at),
                deadline=deadline_text(deadline),
            )
        ),
        score=days,
    )


def _missing_photo_flag(meeting: Meeting, photos: list[Evidence]) -> _Wanted | None:
    needing = types_missing_photos(meeting, has_photo=bool(photos))
    if not needing:
        return None
    return _Wanted(
        meeting_id=meeting.pk,
        key="missing_photo",
        kind=Flag.Kind.MISSING_PHOTO,
        message=_("会议类型（{value}）要求上传会议照片，但未上传").format(value="、".join(needing)),
    )


def _shared_device_flags(meeting: Meeting) -> list[_Wanted]:
    """One flag per device that checked in more than one member (the rule is ``shared_device_checkins``)."""
    return [
        _Wanted(
            meeting_id=meeting.pk,
            # A device id is at most 64 characters; the key stays within its 100.
            key=f"shared_device:{shared.device}",
            kind=Flag.Kind.SHARED_DEVICE,
            message=(
                _("同一台设备为 {count} 名党员扫码签到：{value}，可能存在代签到，请核实本人是否到会").format(
                    count=shared.count, value=shared.listing
                )
            ),
            score=shared.count,
        )
        for shared in shared_device_checkins(meeting)
    ]


def minutes_names(meeting: Meeting, *extra: Meeting) -> tuple[str, ...]:
    """The names the comparison replaces by a placeholder: the branches' members and speakers, every organisation."""
    branch_ids = {m.branch_id for m in (meeting, *extra)}
    names = set(Organization.objects.values_list("name", flat=True))
    names.update(Member.objects.filter(memberships__organization_id__in=branch_ids).values_list("name", flat=True))
    for m in (meeting, *extra):
        for item in m.agenda_items.all():
            names.update(speech.speaker.name for speech in item.speeches.all())
    return minutes_text.prepare_names(names)


# Hashes per IN (...) list: well inside every backend's limit on parameters of one statement.
IN_CHUNK = 5000


def _chunks(values: set[int]) -> list[list[int]]:
    ordered = sorted(values)
    return [ordered[i : i + IN_CHUNK] for i in range(0, len(ordered), IN_CHUNK)]


def passage_frequencies(hashes: set[int], *, exclude_branch_ids: set[int]) -> dict[int, int]:
    """For each passage hash, in how many branches' records (other than ``exclude_branch_ids``) it occurs."""
    result: dict[int, int] = {}
    for chunk in _chunks(hashes):
        rows = (
            MinutesPassage.objects.filter(hash__in=chunk)
            .exclude(branch_id__in=exclude_branch_ids)
            .values("hash")
            .annotate(n=Count("branch_id", distinct=True))
            .values_list("hash", "n")
        )
        result.update(rows)
    return result


def _passage_candidates(meeting: Meeting, hashes: set[int], df: dict[int, int]) -> list[int]:
    """Other meetings sharing at least ``MIN_SHARED_PASSAGES`` uncommon passages, the most shared first."""
    # A record of more than IN_CHUNK passages (some 20,000 characters) looks up its first ones.
    rare = sorted(h for h in hashes if df.get(h, 0) <= minutes_text.RARE_BRANCHES)[:IN_CHUNK]
    if not rare:
        return []
    hits = (
        MinutesPassage.objects.filter(hash__in=rare)
        .exclude(meeting_id=meeting.pk)
        .values("meeting_id")
        .annotate(n=Count("hash", distinct=True))
        .filter(n__gte=MIN_SHARED_PASSAGES)
        .order_by("-n", "meeting_id")
        .values_list("meeting_id", flat=True)[:MAX_MINUTES_CANDIDATES]
    )
    return list(hits)


@dataclass
class MinutesComparison:
    """Two records side by side: each one's sentences, marked where the other contains them."""

    share: float  # of this record's content found in the other, weighted (common passages count less)
    other_share: float
    mine: list[tuple[str, bool]]
    theirs: list[tuple[str, bool]]


def compare_minutes(meeting: Meeting, other: Meeting) -> MinutesComparison:
    """Compare two records read through ``_with_minutes`` (names of both branches replaced).

    A passage counts less the more branches other than these two have it in their records
    (``minutes_text.common_weight``): a study text read mine-wide, a fixed opening.
    """
    return _compare_many(meeting, [other])[other.pk]


def _compare_many(meeting: Meeting, others: list[Meeting]) -> dict[int, MinutesComparison]:
    """``compare_minutes`` of ``meeting`` with each of ``others``, in a fixed number of queries."""
    names = minutes_names(meeting, *others)
    mine = minutes_text.sentences(minutes_segments(meeting), names)
    theirs = {o.pk: minutes_text.sentences(minutes_segments(o), names) for o in others}
    hashes = minutes_text.passage_hashes(mine)
    for items in theirs.values():
        hashes |= minutes_text.passage_hashes(items)
    df = passage_frequencies(hashes, exclude_branch_ids={meeting.branch_id})
    # Which of those passages the other branches have: they are not a third branch's.
    other_branches = {o.branch_id for o in others} - {meeting.branch_id}
    present: set[tuple[int, int]] = set()
    if other_branches:
        for chunk in _chunks(hashes):
            present.update(
                MinutesPassage.objects.filter(hash__in=chunk, branch_id__in=other_branches)
                .values_list("hash", "branch_id")
                .distinct()
            )
    result = {}
    for other in others:
        if other.branch_id == meeting.branch_id:
            pair_df = df
        else:
            pair_df = {h: n - ((h, other.branch_id) in present) for h, n in df.items()}
        share, my_marks = minutes_text.copied_share(mine, theirs[other.pk], pair_df)
        other_share, their_marks = minutes_text.copied_share(theirs[other.pk], mine, pair_df)
        result[other.pk] = MinutesComparison(
            share=share,
            other_share=other_share,
            mine=[(s.text, m) for s, m in zip(mine, my_marks, strict=True)],
            theirs=[(s.text, m) for s, m in zip(theirs[other.pk], their_marks, strict=True)],
        )
    return result


def _copied_text(percent: int, there: Meeting, here: Meeting) -> str:
    return _("本次记录约{percent}%的内容与{meeting_name}的会议记录相同").format(
        percent=percent, meeting_name=_meeting_name(there, seen_from=here).strip()
    )


def _rejudge_pairs(meeting: Meeting, others: dict[int, Meeting], threshold: float) -> None:
    """Remove open 雷同 flags between the candidates that no longer hold now that more records are in.

    The first two branches to read a new study text share it before anyone else has: their
    pair is flagged, and only later records show the text to be common. When those later
    records are checked, the earlier pairs among their candidates are judged again.
    """
    flags = list(
        Flag.objects.filter(kind=Flag.Kind.SIMILAR_MINUTES, status=Flag.Status.OPEN, meeting_id__in=others)
        .exclude(related_meeting_id=meeting.pk)
        .exclude(related_meeting_id=None)
        .values_list("meeting_id", "related_meeting_id")[: 4 * MAX_SIMILAR_MINUTES]
    )
    pairs = {tuple(sorted(pair)) for pair in flags}
    missing = {mid for pair in pairs for mid in pair if mid not in others}
    records = dict(others)
    if missing:
        records.update(_with_minutes(Meeting.objects.select_related("branch")).in_bulk(missing))
    for a, b in sorted(pairs):
        if a not in records or b not in records:
            continue
        comparison = compare_minutes(records[a], records[b])
        if max(comparison.share, comparison.other_share) < threshold:
            Flag.objects.filter(
                Q(meeting_id=a, key=f"similar_minutes:{b}") | Q(meeting_id=b, key=f"similar_minutes:{a}"),
                status=Flag.Status.OPEN,
            ).delete()


def _similar_minutes_flags(
    meeting: Meeting, hashes: set[int], band_values: list[int], policy: SupervisionPolicy
) -> tuple[list[_Wanted], dict[int, Meeting]]:
    """Other meetings whose minutes contain a large share of this record's (or this record theirs).

    Candidates: meetings sharing uncommon passages (the passage index) or a MinHash band.
    Each is compared sentence by sentence, passages common across branches discounted.
    Returns the flags wanted and the candidates read.
    """
    df = passage_frequencies(hashes, exclude_branch_ids={meeting.branch_id})
    candidate_ids = set(_passage_candidates(meeting, hashes, df))
    if band_values:
        condition = Q(pk__in=[])
        for band, value in enumerate(band_values):
            condition |= Q(band=band, value=value)
        candidate_ids |= set(
            MinutesBand.objects.filter(condition)
            .exclude(meeting_id=meeting.pk)
            .values_list("meeting_id", flat=True)[:MAX_MINUTES_CANDIDATES]
        )
    if not candidate_ids:
        return [], {}
    threshold = float(policy.minutes_similarity_threshold)
    others = _with_minutes(Meeting.objects.select_related("branch")).in_bulk(candidate_ids)
    scored = []
    comparisons = _compare_many(meeting, list(others.values()))
    for other in others.values():
        comparison = comparisons[other.pk]
        if max(comparison.share, comparison.other_share) >= threshold:
            scored.append((comparison, other))
    scored.sort(key=lambda pair: (-max(pair[0].share, pair[0].other_share), pair[1].pk))
    wanted = []
    for comparison, other in scored[:MAX_SIMILAR_MINUTES]:
        for here, there, share in ((meeting, other, comparison.share), (other, meeting, comparison.other_share)):
            wanted.append(
                _Wanted(
                    meeting_id=here.pk,
                    key=f"similar_minutes:{there.pk}",
                    kind=Flag.Kind.SIMILAR_MINUTES,
                    message=_copied_text(_similarity_percent(share), there, here),
                    related_meeting_id=there.pk,
                    score=round(share, 4),
                )
            )
    return wanted, others


def _index_minutes(
    meeting: Meeting, sig: tuple[int, ...] | None, band_values: list[int], count: int, hashes: set[int], now
) -> None:
    values = {"checked_at": now, "minutes_signature": minhash.pack(sig) if sig else b"", "shingle_count": count}
    # No race between update and create: the caller holds the meeting's row lock.
    if not MeetingCheck.objects.filter(meeting_id=meeting.pk).update(**values):
        MeetingCheck.objects.create(meeting_id=meeting.pk, **values)
    MinutesBand.objects.filter(meeting_id=meeting.pk).delete()
    MinutesBand.objects.bulk_create(
        [MinutesBand(meeting_id=meeting.pk, band=band, value=value) for band, value in enumerate(band_values)]
    )
    MinutesPassage.objects.filter(meeting_id=meeting.pk).delete()
    MinutesPassage.objects.bulk_create(
        [MinutesPassage(meeting_id=meeting.pk, branch_id=meeting.branch_id, hash=h) for h in sorted(hashes)],
        batch_size=500,
    )


def _minutes_fingerprints(meeting: Meeting):
    """The record's MinHash (for records long enough) and its passage hashes."""
    own = minhash.shingles(minutes_segments(meeting))
    sig, band_values, hashes = None, [], set()
    if len(own) >= MIN_SHINGLES:
        sig = minhash.signature(own)
        band_values = minhash.bands(sig)
        hashes = minutes_text.passage_hashes(minutes_text.sentences(minutes_segments(meeting), minutes_names(meeting)))
    return own, sig, band_values, hashes


def _meeting_checks(meeting_id: int, *, policy: SupervisionPolicy, now: dt.datetime) -> list[Flag]:
    with transaction.atomic():
        # The row lock serialises two runs on one meeting (an overlapping beat), so the
        # minutes' bands are replaced by one run at a time.
        meeting = (
            _with_minutes(Meeting.objects.select_for_update(of=("self",)).select_related("branch"))
            .prefetch_related("types")
            .get(pk=meeting_id)
        )
        photos = list(
            Evidence.objects.filter(meeting_id=meeting.pk, kind=Evidence.Kind.IMAGE)
            .exclude(status=Evidence.Status.FAILED)
            .select_related("fingerprint")
            .order_by("pk")
        )
        ready = []
        for photo in photos:
            if photo.status != Evidence.Status.READY:
                continue  # still processing: its own evidence_checks will follow
            fingerprint = getattr(photo, "fingerprint", None)
            ready.append((photo, None if fingerprint is None else hashindex.to_unsigned(fingerprint.hash)))

        wanted = _photo_flags(meeting, ready, policy)
        for flag in (
            _late_entry_flag(meeting, policy),
            _missing_photo_flag(meeting, [p for p in photos if p.category == Evidence.Category.PHOTO]),
        ):
            if flag is not None:
                wanted.append(flag)
        wanted.extend(_shared_device_flags(meeting))

        own, sig, band_values, hashes = _minutes_fingerprints(meeting)
        candidates = {}
        if sig is not None:
            similar, candidates = _similar_minutes_flags(meeting, hashes, band_values, policy)
            wanted.extend(similar)
        _index_minutes(meeting, sig, band_values, len(own), hashes, now)
        # After indexing: this record now counts in how common the candidates' passages are.
        _rejudge_pairs(meeting, candidates, float(policy.minutes_similarity_threshold))

        flags = _sync_flags(
            wanted,
            stale=Q(meeting_id=meeting.pk, kind__in=RECORD_KINDS)
            | Q(meeting_id=meeting.pk, kind__in=PHOTO_KINDS, evidence_id__in=[p.pk for p, _ in ready]),
            now=now,
        )
    return [f for f in flags if f.meeting_id == meeting.pk]


def minutes_index(*, meeting, now: dt.datetime) -> None:
    """Index a record's minutes for the similarity check without checking the record itself.

    For records that never went through the checks (imported history, records approved
    before the checks existed), so that a later copy of their minutes is still found.
    """
    with transaction.atomic():
        meeting = _with_minutes(Meeting.objects.select_for_update(of=("self",))).get(pk=meeting.pk)
        own, sig, band_values, hashes = _minutes_fingerprints(meeting)
        _index_minutes(meeting, sig, band_values, len(own), hashes, now)


def meeting_checks(*, meeting, now: dt.datetime) -> list[Flag]:
    """Run every check of one record and note when (``MeetingCheck.checked_at``). Returns its flags."""
    return _meeting_checks(meeting.pk, policy=SupervisionPolicy.current(), now=now)


def meetings_check_due(*, now: dt.datetime) -> int:
    """Check every submitted record not checked since it was (re)submitted. Returns how many were checked.

    Safe to run twice or at once: a checked record is no longer due, and flags are keyed.
    """
    policy = SupervisionPolicy.current()
    due = list(
        Meeting.objects.filter(status=Meeting.Status.SUBMITTED)
        .filter(Q(integrity_check__isnull=True) | Q(integrity_check__checked_at__lt=F("submitted_at")))
        .order_by("submitted_at", "pk")
        .values_list("pk", flat=True)
    )
    checked = 0
    for meeting_id in due:
        try:
            _meeting_checks(meeting_id, policy=policy, now=now)
        except Exception:
            # One bad record must not hold up the checks of all the others; it stays due.
            logger.exception("integrity checks of meeting %s failed", meeting_id)
            continue
        checked += 1
    return checked


# --- Decisions -----------------------------------------------------------------------------


def flag_decide(*, flag: Flag, confirm: bool, reason: str, user, now: dt.datetime) -> Flag:
    """A supervisor confirms a flag or dismisses it (with a reason); both are kept with who and when.

    The change is a conditional update from 待核实, so a double submit acts once: the
    repeat of the same decision returns the flag as decided; a different decision on an
    already decided flag is refused.
    """
    reason = (reason or "").strip()
    status = Flag.Status.CONFIRMED if confirm else Flag.Status.DISMISSED
    if not confirm and not reason:
        raise ValidationError({"reason": _("排除提示须填写理由。")}, code="reason_required")
    changed = Flag.objects.filter(pk=flag.pk, status=Flag.Status.OPEN).update(
        status=status, decided_by=user, decided_at=now, decision_reason=reason
    )
    flag.refresh_from_db()
    if changed:
        get_history_manager_for_model(Flag).bulk_history_create(
            [flag], update=True, default_user=user, default_date=now
        )
        return flag
    if flag.status == status and flag.decided_by_id == getattr(user, "pk", None):
        return flag
    raise ValidationError(
        _("该提示已由他人核实（{get_status_display}）。").format(get_status_display=flag.get_status_display()),
        code="already_decided",
    )


def evidence_reindex(*, evidence_id: int, now: dt.datetime) -> bool:
    """Recompute one processed image's view hashes from its thumbnail and check it again; True if done.

    Idempotent: the views are replaced and the flags keyed (``reindex_photos`` runs it in batches).
    """
    evidence = Evidence.objects.filter(pk=evidence_id, kind=Evidence.Kind.IMAGE, meeting__isnull=False).first()
    small = None if evidence is None else _thumbnail(evidence)
    if small is None:
        return False
    views = photocopies.copy_hashes(small)
    with transaction.atomic():
        fingerprint_store(evidence=evidence, phash=views[0], views=views)
    evidence_checks(evidence=evidence, now=now)
    return True


def minutes_comparisons(meeting: Meeting, flags: list[Flag]) -> dict[int, MinutesComparison]:
    """The side-by-side comparison behind each open or decided 会议记录雷同 flag of ``meeting``, by flag id.

    Reads both records afresh (a few queries per flag; a record has at most
    ``MAX_SIMILAR_MINUTES`` such flags).
    """
    wanted = [f for f in flags if f.kind == Flag.Kind.SIMILAR_MINUTES and f.related_meeting_id]
    if not wanted:
        return {}
    records = _with_minutes(Meeting.objects.select_related("branch")).in_bulk(
        {meeting.pk, *(f.related_meeting_id for f in wanted)}
    )
    here = records[meeting.pk]
    return {
        f.pk: compare_minutes(here, records[f.related_meeting_id]) for f in wanted if f.related_meeting_id in records
    }
