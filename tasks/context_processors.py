from functools import cache as memo

from django.utils import timezone

from . import todo


def todo_count(request):
    """How many things wait for the signed-in user, for the navbar: one query, none while cached (60 s).

    Lazy: the template calls it, so a page or fragment that does not show the count costs nothing.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"todo_count": 0}

    @memo
    def count() -> int:
        return todo.cached_count(user, now=timezone.now())

    return {"todo_count": count}
