"""Configuration of the supervision checks, and read-only views of its records.

Evidence, flags, reviews, findings and rectifications change only through the app's
services (validation, locks, notices, history); the admin shows them and edits the policy.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from meetings.admin import GuardedHistoryMixin, ReadOnlyAdminMixin

from .models import (
    Evidence,
    Finding,
    Flag,
    Rectification,
    RectificationEvent,
    Review,
    SpeechAttestation,
    SupervisionPolicy,
)


@admin.register(SupervisionPolicy)
class SupervisionPolicyAdmin(admin.ModelAdmin):
    fieldsets = (
        (
            "上传限制",
            {
                "fields": (
                    "photo_max_mb",
                    "signin_max_mb",
                    "scan_max_mb",
                    "video_max_mb",
                    "other_max_mb",
                    "max_image_megapixels",
                )
            },
        ),
        (
            "检查规则",
            {
                "fields": (
                    "capture_tolerance_minutes",
                    "gps_max_distance_m",
                    "photo_hash_max_distance",
                    "minutes_similarity_threshold",
                    "late_entry_grace_days",
                )
            },
        ),
        ("发言确认", {"fields": ("attestation_days",)}),
        ("整改", {"fields": ("rectification_months", "escalation_days")}),
    )

    def has_add_permission(self, request):
        return not SupervisionPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class RectificationEventInline(admin.TabularInline):
    model = RectificationEvent
    fields = ("at", "action", "text", "by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Finding)
class FindingAdmin(GuardedHistoryMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    revert_allowed = False
    list_display = ("branch", "category", "severity", "raised_at", "raised_by")
    list_filter = ("category", "severity")
    list_select_related = ("branch", "raised_by")
    search_fields = ("branch__name", "description")
    date_hierarchy = "raised_at"


@admin.register(Rectification)
class RectificationAdmin(GuardedHistoryMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    revert_allowed = False
    list_display = ("branch", "status", "due_at", "owner", "overdue_at", "verified_at")
    list_filter = ("status",)
    list_select_related = ("branch", "owner")
    search_fields = ("branch__name",)
    inlines = [RectificationEventInline]


@admin.register(Flag)
class FlagAdmin(GuardedHistoryMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    revert_allowed = False
    list_display = ("meeting", "kind", "status", "created_at", "decided_by")
    list_filter = ("kind", "status")
    list_select_related = ("meeting__branch", "decided_by")


@admin.register(SpeechAttestation)
class SpeechAttestationAdmin(GuardedHistoryMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    revert_allowed = False
    list_display = ("meeting", "member", "status", "due_at", "answered_at", "flagged_at")
    list_filter = ("status",)
    list_select_related = ("meeting__branch", "member")
    search_fields = ("member__name", "meeting__topic")


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("meeting", "round", "action", "by", "at")
    list_filter = ("action",)
    list_select_related = ("meeting__branch", "by")


@admin.register(Evidence)
class EvidenceAdmin(GuardedHistoryMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    revert_allowed = False
    list_display = ("original_name", "category", "kind", "status", "size", "uploaded_at", "uploaded_by")
    list_filter = ("category", "kind", "status")
    list_select_related = ("uploaded_by",)
    # The original may carry GPS; the admin shows metadata, never links to the files.
    exclude = ("original", "file", "thumbnail")
