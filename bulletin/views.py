"""Pages of the bulletin: announcements, their read receipts, and the in-app inbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import AnnouncementForm
from .models import Announcement

PAGE_SIZE = 20


def _get_announcement_for_user(request, pk: int, perm: str = "bulletin.view_announcement") -> Announcement:
    """The announcement if the user may see it (else 404, hiding it) and holds ``perm`` (else 403)."""
    announcement = Announcement.objects.select_related("organization", "author__member").filter(pk=pk).first()
    if announcement is None or not request.user.has_perm("bulletin.view_announcement", announcement):
        raise Http404
    if perm != "bulletin.view_announcement" and not request.user.has_perm(perm, announcement):
        raise PermissionDenied
    return announcement


@login_required
def announcement_list(request):
    now = timezone.now()
    kind = request.GET.get("kind", "")
    if kind not in Announcement.Kind.values:
        kind = ""
    page = Paginator(selectors.announcement_list(request.user, now=now, kind=kind), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    can_add = request.user.has_perm("bulletin.add_announcement")
    ctx = {
        "page_obj": page,
        "kinds": Announcement.Kind.choices,
        "kind": kind,
        "can_add": can_add,
        "scheduled": list(selectors.scheduled_announcements_for_manager(request.user, now=now)) if can_add else [],
    }
    return render(request, "bulletin/announcement_list.html", ctx)


@login_required
def announcement_detail(request, pk: int):
    announcement = _get_announcement_for_user(request, pk)
    now = timezone.now()
    if announcement.published_at <= now:  # a manager previewing a scheduled one has not "read" it
        services.announcement_mark_read(announcement=announcement, user=request.user, now=now)
    ctx = {
        "announcement": announcement,
        "is_scheduled": announcement.published_at > now,
        "can_change": request.user.has_perm("bulletin.change_announcement", announcement),
        "can_view_receipts": request.user.has_perm("bulletin.view_receipts", announcement),
    }
    return render(request, "bulletin/announcement_detail.html", ctx)


def _save_form(request, form, *, announcement=None):
    """Run the service for a valid form; returns the announcement, or None with the errors on the form."""
    data = form.cleaned_data
    fields = {
        "title": data["title"],
        "body": data["body"],
        "kind": data["kind"],
        "organization": data["organization"],
        "pinned": data["pinned"],
    }
    now = timezone.now()
    try:
        if announcement is None:
            return services.announcement_publish(
                author=request.user, published_at=data["published_at"], now=now, **fields
            )
        return services.announcement_update(
            announcement=announcement, published_at=data["published_at"] or announcement.published_at, now=now, **fields
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return None


@login_required
def announcement_create(request):
    if not request.user.has_perm("bulletin.add_announcement"):
        raise PermissionDenied
    form = AnnouncementForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        announcement = _save_form(request, form)
        if announcement is not None:
            if announcement.published_at > timezone.now():
                messages.success(request, _("公告已保存，将于发布时间自动发布并通知。"))
            else:
                messages.success(request, _("公告已发布，通知正在发送。"))
            return redirect("bulletin:announcement_detail", pk=announcement.pk)
    return render(request, "bulletin/announcement_form.html", {"form": form, "announcement": None})


@login_required
def announcement_edit(request, pk: int):
    announcement = _get_announcement_for_user(request, pk, "bulletin.change_announcement")
    form = AnnouncementForm(request.POST or None, user=request.user, initial=AnnouncementForm.initial_for(announcement))
    if request.method == "POST" and form.is_valid():
        # The new audience must be one the editor may publish to as well.
        if form.cleaned_data["organization"] is None and not selectors.may_publish_mine_wide(request.user):
            raise PermissionDenied
        if _save_form(request, form, announcement=announcement) is not None:
            messages.success(request, _("公告已保存。"))
            return redirect("bulletin:announcement_detail", pk=announcement.pk)
    return render(request, "bulletin/announcement_form.html", {"form": form, "announcement": announcement})


@login_required
def announcement_receipts(request, pk: int):
    announcement = _get_announcement_for_user(request, pk, "bulletin.view_receipts")
    summary = selectors.read_receipts_summary(announcement, on=timezone.localdate())
    return render(request, "bulletin/announcement_receipts.html", {"announcement": announcement, **summary})


@login_required
def inbox(request):
    page = Paginator(selectors.inbox_for_user(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "bulletin/inbox.html", {"page_obj": page})


@login_required
def inbox_open(request, pk: int):
    """Open one message: it is marked read, then the page it is about is shown."""
    notification = selectors.inbox_for_user(request.user).filter(pk=pk).first()
    if notification is None:  # someone else's, or not delivered yet
        raise Http404
    services.notification_mark_read(notification=notification, user=request.user, now=timezone.now())
    if notification.url and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(notification.url)
    return render(request, "bulletin/notification_detail.html", {"notification": notification})


@login_required
@require_POST
def inbox_read_all(request):
    count = services.inbox_mark_all_read(user=request.user, now=timezone.now())
    if count:
        messages.success(request, _("已将 {count} 条消息标为已读。").format(count=count))
    return redirect("bulletin:inbox")


@login_required
def system_status(request):
    """For the people who run the system: the worker's last heartbeat and the outbox by state."""
    if not request.user.is_staff:
        raise PermissionDenied
    now = timezone.now()
    return render(
        request,
        "bulletin/system_status.html",
        {
            "now": now,
            "stale_minutes": int(selectors.HEARTBEAT_STALE_AFTER.total_seconds() // 60),
            **selectors.worker_status(now=now),
        },
    )
