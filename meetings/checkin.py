"""In-person check-in (签到) with a short-lived code, against signing in for others (代签到).

Check-in is open from ``checkin_opens_minutes_before`` the start until the meeting
ends; whoever arrives after ``late_after_minutes`` is 迟到.

The secretary's screen shows a QR code of a URL carrying a token that changes every
``MeetingPolicy.checkin_token_seconds``. The token is an HMAC of (meeting id, time
slot) under the project's secret key, so nothing is stored and a code of one meeting
is worthless for another. The current and the previous slot are accepted: a member
who scans just before the code turns still gets in. A forwarded screenshot dies
within two slots.

A code seen while it was valid is remembered in the member's own session for a few
minutes (``SCAN_GRACE``): a member who must first sign in on the phone is not sent
back to scan again. The grace lives in that browser's session only, so it cannot
be passed on.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from org.models import Member

from .models import Attendance, Meeting, MeetingPolicy
from .rollups import schedule_refresh

TOKEN_SALT = "sanhui.meetings.checkin"  # noqa: S105 - an HMAC salt, not a secret
DEVICE_HASH_SALT = "sanhui.meetings.device"
TOKEN_LENGTH = 16  # hex characters: 64 bits, and a QR code that stays small
SCAN_GRACE = dt.timedelta(minutes=5)
OPEN_STATUSES = (Meeting.Status.NOTIFIED, Meeting.Status.HELD)

STALE_MESSAGE = "二维码已过期，请重新扫描。"
NOT_OPEN_MESSAGE = "本次会议当前不开放签到。"
NOT_STARTED_MESSAGE = "签到尚未开始（{opens:%H:%M} 开放）。"
ENDED_MESSAGE = "会议已结束，签到已关闭；未签到的到会情况由书记在出席登记中填写。"
NOT_EXPECTED_MESSAGE = "您不是本次会议的应到人员。"
ALREADY_MESSAGE = "您已于 {at:%H:%M} 签到。"


class CheckinError(ValidationError):
    """A refusal with a message for the member; ``code`` says which rule refused."""


# --- Tokens ------------------------------------------------------------------------------


def _slot(now: dt.datetime, seconds: int) -> int:
    return int(now.timestamp()) // max(seconds, 1)


def _token_for_slot(meeting_id: int, slot: int) -> str:
    return salted_hmac(TOKEN_SALT, f"{meeting_id}:{slot}", algorithm="sha256").hexdigest()[:TOKEN_LENGTH]


def current_token(meeting: Meeting, *, now: dt.datetime, policy: MeetingPolicy) -> str:
    return _token_for_slot(meeting.pk, _slot(now, policy.checkin_token_seconds))


def token_is_valid(meeting: Meeting, token: str, *, now: dt.datetime, policy: MeetingPolicy) -> bool:
    """The token of the current or the previous time slot of this meeting."""
    if not token:
        return False
    slot = _slot(now, policy.checkin_token_seconds)
    return any(constant_time_compare(token, _token_for_slot(meeting.pk, s)) for s in (slot, slot - 1))


def has_valid_code(
    meeting: Meeting, token: str, *, now: dt.datetime, policy: MeetingPolicy, scanned_at: dt.datetime | None
) -> bool:
    """A valid token now, or one seen valid in this session within ``SCAN_GRACE``."""
    scanned_ok = scanned_at is not None and dt.timedelta(0) <= now - scanned_at <= SCAN_GRACE
    return scanned_ok or token_is_valid(meeting, token, now=now, policy=policy)


def seconds_to_next_slot(*, now: dt.datetime, policy: MeetingPolicy) -> float:
    seconds = max(policy.checkin_token_seconds, 1)
    return seconds - (now.timestamp() % seconds)


def checkin_path(meeting: Meeting, *, now: dt.datetime, policy: MeetingPolicy) -> str:
    """The path the QR code encodes (the view makes it absolute)."""
    return f"{reverse('meetings:checkin', args=[meeting.pk])}?t={current_token(meeting, now=now, policy=policy)}"


# --- Devices ----------------------------------------------------------------------------------
# A device is known by a random id in a long-lived signed cookie (set by the check-in view); the
# database keeps only a keyed hash of it, so a leaked table gives no cookie to replay. The browser
# and the network are kept as a weaker signal for the supervisor: many honest phones share them
# (one mine Wi-Fi, one iOS version), so they never raise a flag on their own.


def device_hash(device_id: str) -> str:
    """The stored form of a device id: 64 hex characters of a keyed HMAC."""
    return salted_hmac(DEVICE_HASH_SALT, device_id, algorithm="sha256").hexdigest()


def network_prefix(address: str | None) -> str:
    """The network an address belongs to: its /24 (IPv4) or /48 (IPv6), '' when it is not an address."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return ""
    bits = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


# --- The window ----------------------------------------------------------------------------
# The window and 迟到 have one home each: ``MeetingPolicy.checkin_window`` (opens before the
# start, closes when the meeting ends: signing in afterwards would be 代签到) and
# ``MeetingPolicy.is_late``. These messages say which side of the window ``now`` is on.


def _local_hm(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value)


def check_open(meeting: Meeting, *, now: dt.datetime, policy: MeetingPolicy) -> None:
    """Raise ``CheckinError`` unless check-in is open for this meeting at ``now``."""
    if meeting.status not in OPEN_STATUSES:
        raise CheckinError(NOT_OPEN_MESSAGE, code="not_open")
    if meeting.checkin_open_at(now, policy=policy):
        return
    window = policy.checkin_window(meeting)
    if now < window.opens:
        raise CheckinError(NOT_STARTED_MESSAGE.format(opens=_local_hm(window.opens)), code="not_started")
    raise CheckinError(ENDED_MESSAGE, code="ended")


# --- Checking in ----------------------------------------------------------------------------


def _attendance_of(meeting: Meeting, member: Member | None) -> Attendance:
    row = None
    if member is not None:
        row = Attendance.objects.filter(meeting=meeting, member=member).first()
    if row is None:
        raise CheckinError(NOT_EXPECTED_MESSAGE, code="not_expected")
    return row


def checkin_precheck(
    *,
    meeting: Meeting,
    member: Member | None,
    token: str,
    now: dt.datetime,
    policy: MeetingPolicy,
    scanned_at: dt.datetime | None = None,
) -> Attendance:
    """Everything ``checkin_member`` checks, without writing: the GET page shows the result."""
    if not has_valid_code(meeting, token, now=now, policy=policy, scanned_at=scanned_at):
        raise CheckinError(STALE_MESSAGE, code="stale")
    if meeting.status not in OPEN_STATUSES:
        raise CheckinError(NOT_OPEN_MESSAGE, code="not_open")
    row = _attendance_of(meeting, member)
    if row.checked_in_at is not None:
        # Said even after the window has closed: it answers the member's real question.
        raise CheckinError(ALREADY_MESSAGE.format(at=_local_hm(row.checked_in_at)), code="already")
    check_open(meeting, now=now, policy=policy)
    return row


@transaction.atomic
def checkin_member(
    *,
    meeting: Meeting,
    member: Member | None,
    token: str,
    device: str,
    now: dt.datetime,
    policy: MeetingPolicy | None = None,
    scanned_at: dt.datetime | None = None,
    user_agent: str = "",
    network: str = "",
    new_device: bool = False,
) -> Attendance:
    """Check ``member`` in at ``now``: 出席, or 迟到 when ``MeetingPolicy.is_late``.

    ``device`` is the device's stored hash (``device_hash``); ``user_agent`` and ``network``
    the fallback signals; ``new_device`` whether the device came without a valid cookie.

    A conditional update on ``checked_in_at IS NULL`` makes a double tap (or two
    requests racing) record once; the loser is told when the first one was.
    """
    policy = policy or MeetingPolicy.current()
    row = checkin_precheck(meeting=meeting, member=member, token=token, now=now, policy=policy, scanned_at=scanned_at)
    status = Attendance.Status.LATE if policy.is_late(meeting, at=now) else Attendance.Status.PRESENT
    changed = Attendance.objects.filter(pk=row.pk, checked_in_at__isnull=True).update(
        status=status,
        leave_reason="",
        checked_in_at=now,
        checkin_device=device[:64],
        checkin_user_agent=user_agent[:200],
        checkin_network=network[:50],
        checkin_new_device=new_device,
    )
    row.refresh_from_db()
    if changed == 1:
        # an update sends no signal: the attendance rollup of a month just closed (a meeting
        # across midnight at the month's end) is refreshed like after any attendance change
        schedule_refresh(meeting.branch_id)
    if changed != 1:
        raise CheckinError(ALREADY_MESSAGE.format(at=_local_hm(row.checked_in_at)), code="already")
    return row


# --- Reads for the screens -------------------------------------------------------------------


@dataclass(frozen=True)
class SharedDevice:
    """One device that checked in several members of the same meeting (possible 代签到), in time order."""

    device: str
    names: tuple[str, ...]
    times: tuple[dt.datetime, ...] = ()

    @property
    def count(self) -> int:
        return len(self.names)

    @property
    def listing(self) -> str:
        """张三（08:55）、李四（08:56）: who, and when at the mine."""
        if not self.times:
            return "、".join(self.names)
        return "、".join(f"{n}（{_local_hm(t):%H:%M}）" for n, t in zip(self.names, self.times, strict=True))


def shared_device_checkins(meeting: Meeting) -> list[SharedDevice]:
    """Devices that checked in more than one member of ``meeting`` (the one rule of 代签到 by device): two queries.

    Only the device id counts. The same browser on the same network is not one device: the
    members of a branch sit in one room on one Wi-Fi, often with the same phone and app.
    """
    shared = (
        Attendance.objects.filter(meeting=meeting, checked_in_at__isnull=False)
        .exclude(checkin_device="")
        .values("checkin_device")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values("checkin_device")
    )
    names: dict[str, list[str]] = defaultdict(list)
    times: dict[str, list[dt.datetime]] = defaultdict(list)
    for device, name, at in (
        Attendance.objects.filter(meeting=meeting, checkin_device__in=Subquery(shared), checked_in_at__isnull=False)
        .order_by("checked_in_at", "id")
        .values_list("checkin_device", "member__name", "checked_in_at")
    ):
        names[device].append(name)
        times[device].append(at)
    return [SharedDevice(device=d, names=tuple(n), times=tuple(times[d])) for d, n in names.items()]


@dataclass(frozen=True)
class CheckedIn:
    name: str
    at: dt.datetime
    status: str
    status_label: str
    is_probationary: bool
    shared_device: bool


@dataclass(frozen=True)
class LiveList:
    expected: int
    checked_in: list[CheckedIn]
    shared_devices: list[SharedDevice]


def checkin_live_list(meeting: Meeting) -> LiveList:
    """Who has checked in so far, in order, with the shared-device flags: one query."""
    rows = list(
        Attendance.objects.filter(meeting=meeting)
        .order_by("checked_in_at", "id")
        .values_list("member__name", "checked_in_at", "status", "is_probationary", "checkin_device")
    )
    names_by_device: dict[str, list[str]] = defaultdict(list)
    for name, at, _status, _prob, device in rows:
        if at is not None and device:
            names_by_device[device].append(name)
    labels = dict(Attendance.Status.choices)
    checked_in = [
        CheckedIn(
            name=name,
            at=at,
            status=status,
            status_label=str(labels.get(status, "")),
            is_probationary=prob,
            shared_device=len(names_by_device.get(device, ())) > 1,
        )
        for name, at, status, prob, device in rows
        if at is not None
    ]
    shared = [SharedDevice(device=d, names=tuple(n)) for d, n in names_by_device.items() if len(n) > 1]
    return LiveList(expected=len(rows), checked_in=checked_in, shared_devices=shared)
