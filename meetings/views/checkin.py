"""Check-in: the secretary's QR screen, the QR image, the live list and the member's confirm page."""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from org.models import Member
from org.netaddr import client_ip
from org.scope import get_scope

from .. import checkin as service
from ..models import Attendance, Meeting, MeetingPolicy

DEVICE_COOKIE = "sanhui_device"
DEVICE_COOKIE_SALT = "sanhui.meetings.device-cookie"
# Two years: it must outlive the session (cleared with the browser's cookies for this site it
# goes too, which is why the browser and the network are kept as a fallback signal).
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600
_DEVICE_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
SCANS_SESSION_KEY = "checkin_scans"


def _get_meeting_for_manager(request, pk: int) -> Meeting:
    meeting = get_object_or_404(Meeting.objects.select_related("branch", "group"), pk=pk)
    if not request.user.has_perm("meetings.manage_meeting", meeting):
        raise PermissionDenied
    return meeting


@login_required
@require_GET
def checkin_screen(request, pk: int):
    """The secretary's screen for the meeting room: the rotating QR code and who has checked in."""
    meeting = _get_meeting_for_manager(request, pk)
    policy = MeetingPolicy.current()
    now = timezone.now()
    window = policy.checkin_window(meeting)
    closed_reason = ""
    try:
        service.check_open(meeting, now=now, policy=policy)
    except service.CheckinError as exc:
        closed_reason = exc.messages[0]
    live = service.checkin_live_list(meeting)
    return render(
        request,
        "meetings/checkin_screen.html",
        {
            "meeting": meeting,
            "window": window,
            "late_after": policy.late_after(meeting),
            "closed_reason": closed_reason,
            "live": live,
            "refresh_seconds": policy.checkin_token_seconds,
            "next_refresh_ms": int(service.seconds_to_next_slot(now=now, policy=policy) * 1000),
        },
    )


@login_required
@require_GET
@never_cache
def checkin_qr(request, pk: int):
    """The current code as an SVG image, made here so the URL never leaves the server unsigned."""
    meeting = _get_meeting_for_manager(request, pk)
    policy = MeetingPolicy.current()
    url = request.build_absolute_uri(service.checkin_path(meeting, now=timezone.now(), policy=policy))
    buf = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buf, kind="svg", scale=10, border=2, xmldecl=False, omitsize=True)
    response = HttpResponse(buf.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0"
    return response


@login_required
@require_GET
@never_cache
def checkin_live(request, pk: int):
    """The live list for the screen's script (names and times only; device ids stay on the server)."""
    meeting = _get_meeting_for_manager(request, pk)
    live = service.checkin_live_list(meeting)
    return JsonResponse(
        {
            "expected": live.expected,
            "count": len(live.checked_in),
            "checked_in": [
                {
                    "name": c.name,
                    "time": f"{timezone.localtime(c.at):%H:%M}",
                    "status": c.status,
                    "status_label": c.status_label,
                    "probationary": c.is_probationary,
                    "shared": c.shared_device,
                }
                for c in live.checked_in
            ],
            "shared_devices": [{"count": s.count, "names": list(s.names)} for s in live.shared_devices],
        }
    )


def _scanned_at(request, meeting: Meeting) -> dt.datetime | None:
    stamp = request.session.get(SCANS_SESSION_KEY, {}).get(str(meeting.pk))
    return dt.datetime.fromtimestamp(stamp, tz=dt.UTC) if isinstance(stamp, int | float) else None


def _remember_scan(request, meeting: Meeting, now: dt.datetime) -> None:
    scans = {k: v for k, v in request.session.get(SCANS_SESSION_KEY, {}).items() if now.timestamp() - v < 3600}
    scans[str(meeting.pk)] = now.timestamp()
    request.session[SCANS_SESSION_KEY] = scans


def _forget_scan(request, meeting: Meeting) -> None:
    scans = dict(request.session.get(SCANS_SESSION_KEY, {}))
    if scans.pop(str(meeting.pk), None) is not None:
        request.session[SCANS_SESSION_KEY] = scans


def _device_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=DEVICE_COOKIE_SALT)


def device_cookie_value(device_id: str) -> str:
    """The cookie's value: the id, when it was issued, and a signature under the secret key."""
    return _device_signer().sign(device_id)


def device_cookie_id(value: str) -> str | None:
    """The device id a cookie carries, or None when its signature does not hold or it is too old."""
    try:
        device_id = _device_signer().unsign(value or "", max_age=DEVICE_COOKIE_AGE)
    except signing.BadSignature:
        return None
    return device_id if _DEVICE_RE.match(device_id) else None


def _device_id(request) -> tuple[str, bool]:
    """The signed device cookie's id, and whether it is new and must be set.

    A cookie whose signature does not hold (forged, tampered, or an old unsigned one) is
    ignored: the device gets a new id, as if it had none.
    """
    device_id = device_cookie_id(request.COOKIES.get(DEVICE_COOKIE, ""))
    if device_id:
        return device_id, False
    return secrets.token_urlsafe(24), True


@require_http_methods(["GET", "POST"])
@never_cache
def checkin(request, pk: int):
    """Where the QR code leads. GET only shows what would happen (a link preview checks no one in); POST checks in."""
    meeting = get_object_or_404(Meeting.objects.select_related("branch", "group"), pk=pk)
    policy = MeetingPolicy.current()
    now = timezone.now()
    token = (request.POST.get("t") if request.method == "POST" else request.GET.get("t")) or ""
    if token and service.token_is_valid(meeting, token, now=now, policy=policy):
        _remember_scan(request, meeting, now)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())

    scope = get_scope(request.user)
    member = Member.objects.filter(pk=scope.member_id).first() if scope.member_id else None
    scanned_at = _scanned_at(request, meeting)
    has_code = service.has_valid_code(meeting, token, now=now, policy=policy, scanned_at=scanned_at)
    # Without a code in hand the page would show any meeting's title and branch: only those
    # expected at it and those managing it may see it then (404, so nothing leaks).
    if not has_code and not request.user.has_perm("meetings.view_checkin", meeting):
        raise Http404
    ctx = {"meeting": meeting, "token": token, "error": "", "can_confirm": False, "attendance": None}
    if member is not None:
        ctx["attendance"] = Attendance.objects.filter(meeting=meeting, member=member).first()

    if request.method == "POST":
        device, new_device = _device_id(request)
        try:
            row = service.checkin_member(
                meeting=meeting,
                member=member,
                token=token,
                device=service.device_hash(device),
                now=now,
                policy=policy,
                scanned_at=scanned_at,
                user_agent=request.headers.get("user-agent", ""),
                network=service.network_prefix(client_ip(request)),
                new_device=new_device,
            )
        except service.CheckinError as exc:
            ctx["error"] = exc.messages[0]
            return render(request, "meetings/checkin_confirm.html", ctx, status=400)
        _forget_scan(request, meeting)
        messages.success(
            request,
            _("签到成功（{get_status_display}），签到时间 {localtime:%H:%M}。").format(
                get_status_display=row.get_status_display(), localtime=timezone.localtime(row.checked_in_at)
            ),
        )
        response = redirect("meetings:checkin", pk=meeting.pk)
        if new_device:
            response.set_cookie(
                DEVICE_COOKIE,
                device_cookie_value(device),
                max_age=DEVICE_COOKIE_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    attendance = ctx["attendance"]
    if attendance is not None and attendance.checked_in_at is not None:
        ctx["done"] = True
    elif token or scanned_at:
        try:
            service.checkin_precheck(
                meeting=meeting, member=member, token=token, now=now, policy=policy, scanned_at=scanned_at
            )
            ctx["can_confirm"] = True
        except service.CheckinError as exc:
            ctx["error"] = exc.messages[0]
    return render(request, "meetings/checkin_confirm.html", ctx)


urlpatterns = [
    path("checkin/<int:pk>/", checkin, name="checkin"),
    path("checkin/<int:pk>/screen/", checkin_screen, name="checkin_screen"),
    path("checkin/<int:pk>/qr.svg", checkin_qr, name="checkin_qr"),
    path("checkin/<int:pk>/live.json", checkin_live, name="checkin_live"),
]
