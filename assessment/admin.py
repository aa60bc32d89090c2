"""The committee's screens: the year's scoring scheme (items, grade bands), copied from last year; runs read-only.

Runs, scores and deduction lines are written only by the services (compute, manual
scores, publish); here they can be read, never edited.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from meetings.admin import GuardedHistoryMixin, ReadOnlyAdminMixin

from .models import BranchScore, Deduction, GradeBand, Item, ItemScore, Run, Scheme
from .services import scheme_copy


class ItemInline(admin.TabularInline):
    model = Item
    extra = 0
    fields = (
        "order",
        "category",
        "name",
        "max_points",
        "method",
        "kind",
        "cadence_rule",
        "per_unit",
        "per_late",
        "per_minor",
        "per_serious",
        "target_percent",
        "per_notice",
        "is_bonus",
        "is_veto",
        "description",
    )


class GradeBandInline(admin.TabularInline):
    model = GradeBand
    extra = 0
    fields = ("run_kind", "name", "min_score", "is_failing")


@admin.register(Scheme)
class SchemeAdmin(GuardedHistoryMixin, SimpleHistoryAdmin):
    list_display = ("year", "name", "copied_from", "total_points")
    inlines = (ItemInline, GradeBandInline)
    readonly_fields = ("copied_from",)
    fieldsets = (
        (None, {"fields": ("year", "name", "copied_from")}),
        (
            "党员参与评分",
            {
                "fields": (
                    "member_max_points",
                    "member_one_absence_deduction",
                    "member_two_absences_deduction",
                    "member_zero_at_absences",
                    "member_late_deduction",
                )
            },
        ),
        (
            "评优条件",
            {
                "fields": (
                    "eligibility_min_attendance_percent",
                    "eligibility_no_unexcused_absence",
                    "eligibility_branch_not_failing",
                    "eligibility_verified_project",
                )
            },
        ),
    )
    actions = ("copy_to_next_year",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("copied_from").prefetch_related("items")

    @admin.display(description="满分（不含加分项）")
    def total_points(self, obj):
        return sum((i.max_points for i in obj.items.all() if not i.is_bonus), 0)

    @admin.action(description="复制为下一年度方案")
    def copy_to_next_year(self, request, queryset):
        now = timezone.now()
        for scheme in queryset.order_by("year"):
            try:
                with transaction.atomic():
                    copy = scheme_copy(scheme=scheme, year=scheme.year + 1, user=request.user, now=now)
            except ValidationError as exc:
                self.message_user(request, f"{scheme.year} 年度方案未复制：{'；'.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"已复制为“{copy}”，请核对后再使用。", messages.SUCCESS)


class BranchScoreInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = BranchScore
    fields = ("rank", "branch", "total", "grade", "is_failing", "vetoed", "previous_rank", "rectification")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("branch", "rectification")


@admin.register(Run)
class RunAdmin(ReadOnlyAdminMixin, GuardedHistoryMixin, SimpleHistoryAdmin):
    revert_allowed = False
    list_display = ("__str__", "kind", "period_start", "period_end", "status", "computed_at", "published_at")
    list_filter = ("kind", "status")
    readonly_fields = (
        "scheme",
        "kind",
        "period_start",
        "period_end",
        "status",
        "computed_at",
        "submitted_at",
        "published_at",
        "published_by",
        "notice",
        "created_by",
        "created_at",
    )
    inlines = (BranchScoreInline,)


class ItemScoreInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ItemScore
    fields = ("item", "points", "deducted", "veto_triggered", "manual_points", "comment", "entered_by", "entered_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item", "entered_by")


@admin.register(BranchScore)
class BranchScoreAdmin(ReadOnlyAdminMixin, GuardedHistoryMixin, SimpleHistoryAdmin):
    revert_allowed = False
    list_display = ("run", "rank", "branch", "total", "grade", "is_failing", "vetoed", "previous_rank")
    list_filter = ("run", "grade", "is_failing")
    list_select_related = ("run", "branch")
    search_fields = ("branch__name",)
    inlines = (ItemScoreInline,)


class DeductionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Deduction
    fields = ("points", "reason", "period_start", "meeting", "review", "flag", "finding", "rectification")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ItemScore)
class ItemScoreAdmin(ReadOnlyAdminMixin, GuardedHistoryMixin, SimpleHistoryAdmin):
    revert_allowed = False
    list_display = ("branch_score", "item", "points", "deducted", "manual_points", "entered_by", "entered_at")
    list_select_related = ("branch_score__run", "branch_score__branch", "item", "entered_by")
    search_fields = ("branch_score__branch__name", "item__name")
    inlines = (DeductionInline,)

    def get_model_perms(self, request):
        # Reached from a branch score's page, not listed on the index.
        return {}
