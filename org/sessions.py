"""The sliding idle expiry without a session write on every request.

``SESSION_SAVE_EVERY_REQUEST`` wrote the session row (an UPDATE) on every page. This middleware
re-saves a session only when its stored last-touch time is older than ``SESSION_TOUCH_SECONDS``
(60): the expiry still slides with use, and a busy user costs one write a minute instead of one a
request. The price is that a session may end up to that many seconds before ``SESSION_COOKIE_AGE``
after the last request (the expiry counts from the last write, not the last request).
"""

import functools
import time

from django.conf import settings

TOUCHED_KEY = "_touched"
# Set on a request by ``seldom_session_touch``: the middleware touches only a session this stale.
SELDOM_ATTR = "_sanhui_seldom_session_touch"


def seldom_touch_seconds() -> int:
    """A third of the idle expiry (10 minutes of 30): often enough to keep a session alive."""
    return max(settings.SESSION_COOKIE_AGE // 3, settings.SESSION_TOUCH_SECONDS)


def seldom_session_touch(view):
    """A view called every few seconds (a player's progress report) that must not write the
    session on each call, yet is use: a member watching a 45-minute lesson without touching the
    page must not be signed out at minute 30. Its requests re-save the session only when the
    last touch is older than ``seldom_touch_seconds()``: one write per ten minutes of watching.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        setattr(request, SELDOM_ATTR, True)
        return view(request, *args, **kwargs)

    return wrapped


class SlidingSessionMiddleware:
    """Placed after ``SessionMiddleware``: its response hook runs first, so a touch here is saved there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return response
        now = int(time.time())
        every = seldom_touch_seconds() if getattr(request, SELDOM_ATTR, False) else settings.SESSION_TOUCH_SECONDS
        # A session being saved anyway (sign-in, a message) records the touch for free.
        if session.modified or now - session.get(TOUCHED_KEY, 0) >= every:
            session[TOUCHED_KEY] = now
        return response


def touch_on_sign_in(sender, request, user, **kwargs) -> None:
    """A fresh session starts touched, so the first page after signing in writes nothing."""
    if getattr(request, "session", None) is not None:
        request.session[TOUCHED_KEY] = int(time.time())
