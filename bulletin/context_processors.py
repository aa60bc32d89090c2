from .models import Notification


def inbox(request):
    """Unread in-app messages for the navbar badge: one indexed COUNT."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"inbox_unread": 0}
    return {
        "inbox_unread": Notification.objects.filter(
            recipient=user,
            channel=Notification.Channel.INBOX,
            status=Notification.Status.SENT,
            read_at__isnull=True,
        ).count()
    }
