from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Column, StudyItem, StudyPolicy, StudyRequirement


@admin.register(Column)
class ColumnAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(StudyRequirement)
class StudyRequirementAdmin(admin.ModelAdmin):
    list_display = ["audience", "year", "hours"]


@admin.register(StudyPolicy)
class StudyPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "complete_ratio", "minutes_per_hour", "max_rate", "heartbeat_seconds"]

    def has_add_permission(self, request):
        return not StudyPolicy.objects.exists()


@admin.register(StudyItem)
class StudyItemAdmin(SimpleHistoryAdmin):
    """For the people who run the system: look an item up, correct a column or a title.

    The steps (submit, review, publish, withdraw) are taken on the study pages, where the
    ``study.*`` rules and the services apply; here the state is shown, not changed.
    """

    list_display = ["title", "kind", "column", "organization", "state", "lecturer_label", "published_at"]
    list_filter = ["state", "kind", "column", "audience"]
    search_fields = ["title", "lecturer__name", "lecturer_name"]
    list_select_related = ["column", "organization", "lecturer"]
    raw_id_fields = ["lecturer", "source_meeting"]
    filter_horizontal = ["branches"]
    readonly_fields = [
        "state",
        "created_by",
        "created_at",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "published_at",
        "withdrawn_at",
        "withdrawn_reason",
    ]
    date_hierarchy = "created_at"

    @admin.display(description=_("主讲人"))
    def lecturer_label(self, obj):
        return obj.lecturer_display

    def has_add_permission(self, request):
        # A new item starts on the study pages (a draft of an organisation, sent for review).
        return False
