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
# Set on a request by ``no_session_touch``: the middleware then leaves the session as it is.
NO_TOUCH_ATTR = "_sanhui_no_session_touch"


def no_session_touch(view):
    """A view that must never write the session (a player's progress report every few seconds).

    Its requests do not slide the idle expiry: the pages around it do.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        setattr(request, NO_TOUCH_ATTR, True)
        return view(request, *args, **kwargs)

    return wrapped


class SlidingSessionMiddleware:
    """Placed after ``SessionMiddleware``: its response hook runs first, so a touch here is saved there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or getattr(request, NO_TOUCH_ATTR, False) or session.is_empty():
            return response
        now = int(time.time())
        # A session being saved anyway (sign-in, a message) records the touch for free.
        if session.modified or now - session.get(TOUCHED_KEY, 0) >= settings.SESSION_TOUCH_SECONDS:
            session[TOUCHED_KEY] = now
        return response


def touch_on_sign_in(sender, request, user, **kwargs) -> None:
    """A fresh session starts touched, so the first page after signing in writes nothing."""
    if getattr(request, "session", None) is not None:
        request.session[TOUCHED_KEY] = int(time.time())
