from .models import Notification


def unread_inbox(user):
    """The user's unread in-app messages (the navbar badge): one indexed COUNT of this."""
    return Notification.objects.filter(
        recipient=user,
        channel=Notification.Channel.INBOX,
        status=Notification.Status.SENT,
        read_at__isnull=True,
    )


def inbox(request):
    """Unread in-app messages for the navbar badge: one indexed COUNT.

    The project's settings use ``tasks.context_processors.navbar`` instead, which counts these and
    我的待办 in the same statement.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"inbox_unread": 0}
    return {"inbox_unread": unread_inbox(user).count()}
