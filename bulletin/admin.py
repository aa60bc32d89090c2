from django.contrib import admin, messages
from django.utils import timezone

from . import services
from .models import Announcement, Notification, ReadReceipt, WebhookEndpoint


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "organization", "published_at", "pinned", "author")
    list_filter = ("kind", "pinned", "organization")
    search_fields = ("title", "body")
    list_select_related = ("organization", "author")
    date_hierarchy = "published_at"
    raw_id_fields = ("author",)
    # Publishing from the site notifies the audience; the admin only corrects.
    readonly_fields = ("created_at", "updated_at")


@admin.register(ReadReceipt)
class ReadReceiptAdmin(admin.ModelAdmin):
    list_display = ("announcement", "user", "read_at")
    list_select_related = ("announcement", "user")
    raw_id_fields = ("announcement", "user")
    search_fields = ("announcement__title", "user__username")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("organization", "flavor", "is_active")
    list_filter = ("flavor", "is_active")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization",)


@admin.action(description="重新发送（发送失败的通知）")
def resend(modeladmin, request, queryset):
    count = services.notifications_retry(ids=queryset.values_list("pk", flat=True), now=timezone.now())
    modeladmin.message_user(request, f"已重新排队 {count} 条发送失败的通知。", messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read-mostly: rows are written by the services and changed by delivery."""

    list_display = ("subject", "channel", "recipient", "webhook", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "channel")
    search_fields = ("subject", "dedupe_key", "recipient__username")
    list_select_related = ("recipient", "webhook__organization")
    date_hierarchy = "created_at"
    actions = [resend]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False
