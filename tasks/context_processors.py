from django.core.cache import cache
from django.utils import timezone

from bulletin.context_processors import unread_inbox

from . import todo


def navbar(request):
    """The navbar's two badges in one query: unread messages, and how many things wait (我的待办).

    Replaces ``bulletin.context_processors.inbox`` in the settings: the inbox COUNT it ran on every
    signed-in page now carries the 我的待办 count as a second scalar subquery, so the count costs no
    query of its own. The 我的待办 count is kept ``todo.CACHE_SECONDS`` per user; while cached only
    the inbox is counted (always current, as before). Anonymous: no query.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"inbox_unread": 0, "todo_count": 0}
    key = todo.cache_key(user.pk)
    waiting = cache.get(key)
    if waiting is not None:
        return {"inbox_unread": unread_inbox(user).count(), "todo_count": waiting}
    waiting, unread = todo.counts_with(user, now=timezone.now(), also=unread_inbox(user))
    cache.set(key, waiting, todo.CACHE_SECONDS)
    return {"inbox_unread": unread, "todo_count": waiting}
