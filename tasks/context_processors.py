from django.utils import timezone

from . import todo


def todo_count(request):
    """How many things wait for the signed-in user, for the navbar: one query, none while cached (60 s)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"todo_count": 0}
    return {"todo_count": todo.cached_count(user, now=timezone.now())}
