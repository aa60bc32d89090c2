"""Per-user rate limits of exports and uploads, counted in Django's cache.

A fixed window per user and kind (``THROTTLE_RATES``: kind -> (requests, seconds)). The cache is
Django's default, per process, unless ``CACHES`` names a shared one: with several web workers
the limit is then per worker, which still stops a script pulling the roster or the evidence
in a loop. A cache that fails lets the request through (a throttle must not take pages down).
"""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

KIND_LABELS = {"export": "导出", "upload": "上传", "download": "下载"}


def _key(kind: str, user_id: int, window: int) -> str:
    return f"sanhui:throttle:{kind}:{user_id}:{window}"


def hit(kind: str, user, *, now) -> int | None:
    """Count one request; the seconds to wait when over the limit, else None."""
    limit, seconds = settings.THROTTLE_RATES[kind]
    stamp = int(now.timestamp())
    window = stamp // seconds
    key = _key(kind, user.pk, window)
    try:
        cache.add(key, 0, timeout=seconds + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=seconds + 1)
            count = 1
    except Exception:
        log.warning("throttle cache unavailable; %s of user %s not counted", kind, user.pk, exc_info=True)
        return None
    if count > limit:
        return (window + 1) * seconds - stamp
    return None


def throttled_response(request, kind: str, wait: int):
    limit, seconds = settings.THROTTLE_RATES[kind]
    message = _("操作过于频繁：每 {seconds} 秒最多{value} {limit} 次，请 {max} 秒后再试。").format(
        seconds=seconds, value=KIND_LABELS.get(kind, kind), limit=limit, max=max(wait, 1)
    )
    response = render(request, "throttled.html", {"message": message}, status=429)
    response["Retry-After"] = str(max(wait, 1))
    return response


def throttle(kind: str, *, methods: tuple[str, ...] = ("GET", "POST")):
    """Limit a view per signed-in user; place it under ``login_required``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods and request.user.is_authenticated:
                wait = hit(kind, request.user, now=timezone.now())
                if wait is not None:
                    return throttled_response(request, kind, wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
