from .scope import get_scope


def roles(request):
    """The signed-in user's scope, for navigation by role."""
    return {"scope": get_scope(request.user)}
