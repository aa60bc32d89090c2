"""Configuration screens of the meetings app, and read-mostly views of the records.

Meeting records are written through the app's services (validation, notices,
attendance from membership on the date); the admin edits configuration and at
most corrects the wording of an open record. Approved records are locked here too.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from org.clock import period_bounds
from org.models import Organization

from .models import (
    Attendance,
    CadenceRule,
    Exemption,
    LeaveRequest,
    Meeting,
    MeetingPolicy,
    MeetingType,
    MeetingTypePeriod,
    Place,
    ThemeTag,
    Vote,
)


class ReadOnlyAdminMixin:
    """A view of records that only the app's services may write."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class GuardedHistoryMixin:
    """Old versions may be read; restoring one needs change permission on the record as it is now.

    simple-history's version page saves a POST on view permission alone and
    restores the old row whole (status included): an approved meeting could be
    taken back to its "held" version and edited. Records that change only
    through the app's services set ``revert_allowed = False``.
    """

    revert_allowed = True

    def _may_revert(self, request, object_id) -> bool:
        if not self.revert_allowed:
            return False
        current = self.get_object(request, unquote(object_id))
        return current is not None and self.has_change_permission(request, current)

    def revert_disabled(self, request, obj=None):
        return not self.revert_allowed or super().revert_disabled(request, obj)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" and not self._may_revert(request, object_id):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context=extra_context)


@admin.register(MeetingType)
class MeetingTypeAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "audience",
        "sort_order",
        "requires_lecturer",
        "requires_theme_tags",
        "requires_photo",
        "attendance_target_percent",
    )
    list_editable = (
        "sort_order",
        "requires_lecturer",
        "requires_theme_tags",
        "requires_photo",
        "attendance_target_percent",
    )
    list_display_links = ("name",)

    def get_readonly_fields(self, request, obj=None):
        # The code carries the rules attached to a type (quorum, group, lecturer).
        return ("code",) if obj else ()

    def has_delete_permission(self, request, obj=None):
        # Meetings and cadence rules point at the seven types; switch rules off instead.
        return False


@admin.register(ThemeTag)
class ThemeTagAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active")
    list_editable = ("is_active",)
    list_filter = ("is_active",)
    search_fields = ("name",)


@admin.register(Place)
class PlaceAdmin(SimpleHistoryAdmin):
    """The register of meeting places and the mine's red-education bases (教育基地)."""

    list_display = ("name", "kind", "branch", "address", "latitude", "longitude", "capacity", "is_default", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "address")
    list_select_related = ("branch",)

    def has_delete_permission(self, request, obj=None):
        # Meetings keep the place they were held at; a place no longer used is switched off.
        return False


@admin.register(CadenceRule)
class CadenceRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "type_names", "period", "scope", "min_count", "is_active", "sort_order")
    list_editable = ("is_active", "sort_order")
    list_filter = ("period", "scope", "is_active")
    search_fields = ("name", "basis")
    filter_horizontal = ("types",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("types")

    @admin.display(description="会议类型")
    def type_names(self, obj):
        return "、".join(t.name for t in obj.types.all())


class ExemptionForm(forms.ModelForm):
    class Meta:
        model = Exemption
        fields = ("branch", "group", "rule", "period_start", "reason", "approved_by", "approved_at")

    def clean(self):
        cleaned = super().clean()
        rule, period_start = cleaned.get("rule"), cleaned.get("period_start")
        # Compliance and the reminders match an exemption on the period's first
        # day; any other date would be accepted and then silently never apply.
        if rule and period_start and period_bounds(rule.period, period_start)[0] != period_start:
            first = period_bounds(rule.period, period_start)[0]
            self.add_error(
                "period_start",
                f"该规则按{rule.get_period_display()}计算，期间开始须为该期间的第一天（如 {first:%Y-%m-%d}）。",
            )
        return cleaned


@admin.register(Exemption)
class ExemptionAdmin(GuardedHistoryMixin, SimpleHistoryAdmin):
    form = ExemptionForm
    list_display = ("branch", "group", "rule", "period_start", "approved_by", "approved_at")
    list_filter = ("rule", "period_start", ("branch", admin.RelatedOnlyFieldListFilter))
    search_fields = ("branch__name", "reason")
    list_select_related = ("branch", "group", "rule", "approved_by")
    raw_id_fields = ("approved_by",)
    date_hierarchy = "period_start"

    def get_changeform_initial_data(self, request):
        return {
            "approved_by": request.user.pk,
            "approved_at": timezone.now(),
            **super().get_changeform_initial_data(request),
        }

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "branch":
            kwargs["queryset"] = Organization.objects.branches().order_by("sort_order", "id")
        if db_field.name == "group":
            groups = Organization.objects.groups().select_related("parent")
            kwargs["queryset"] = groups.order_by("parent_id", "sort_order")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if obj.approved_by_id is None:
            obj.approved_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(MeetingPolicy)
class MeetingPolicyAdmin(admin.ModelAdmin):
    """The single row of rule numbers (``MeetingPolicy.current()`` reads pk 1)."""

    list_display = ("__str__", "minutes_due_days", "period_end_reminder_days", "absence_warning_months")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "minutes_due_days" in form.changed_data:
            # The new filing rule applies to every record not yet submitted; filed ones keep theirs.
            Meeting.objects.filter(submitted_at__isnull=True).refresh_minutes_due(days=obj.minutes_due_days)

    def has_add_permission(self, request):
        return not MeetingPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class AttendanceInline(admin.TabularInline):
    model = Attendance
    fields = ("member", "is_probationary", "can_vote", "status", "leave_reason", "checked_in_at", "checkin_device")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VoteInline(admin.TabularInline):
    model = Vote
    fields = (
        "order",
        "kind",
        "motion",
        "candidate_name",
        "yes",
        "no",
        "abstain",
        "voting_expected",
        "voting_present",
        "passed",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MeetingTypePeriodInline(admin.TabularInline):
    """The periods of the types of a combined meeting that count apart from the meeting (set in the minutes form)."""

    model = MeetingTypePeriod
    fields = ("type", "counts_for")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(GuardedHistoryMixin, SimpleHistoryAdmin):
    revert_allowed = False
    list_display = ("branch", "group", "topic", "type_names", "status", "planned_start")
    list_filter = ("status", "types")
    search_fields = ("topic",)
    list_select_related = ("branch", "group")
    date_hierarchy = "planned_start"
    inlines = [MeetingTypePeriodInline, AttendanceInline, VoteInline]
    # Only the wording of an open record may be corrected here; the facts
    # (dates, people, state) change through the app's services, which check them.
    readonly_fields = (
        "branch",
        "group",
        "types",
        "status",
        "planned_start",
        "planned_end",
        "lecturer",
        "venue",
        "cancel_reason",
        "notice_published_at",
        "actual_start",
        "actual_end",
        "chair",
        "recorder",
        "counts_for",
        "minutes_entered_at",
        "submitted_at",
        "minutes_overdue_at",
        "created_by",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("types")

    @admin.display(description="会议类型")
    def type_names(self, obj):
        return "、".join(t.name for t in obj.types.all())

    def has_add_permission(self, request):
        # A meeting is planned in the app, where its attendance list and notice are made.
        return False

    def has_delete_permission(self, request, obj=None):
        # A record is evidence; a meeting that will not take place is cancelled with a reason.
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_change_permission(request, obj)


@admin.register(LeaveRequest)
class LeaveRequestAdmin(GuardedHistoryMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    revert_allowed = False
    list_display = ("member", "meeting", "status", "created_at", "registered_by", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("member__name", "meeting__topic")
    list_select_related = ("member", "meeting__branch", "decided_by", "registered_by")


@admin.register(Vote)
class VoteAdmin(GuardedHistoryMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    revert_allowed = False
    list_display = ("motion", "meeting", "kind", "candidate_name", "yes", "no", "abstain", "passed")
    list_filter = ("kind", "passed")
    search_fields = ("motion", "candidate_name", "meeting__topic")
    list_select_related = ("meeting__branch",)
