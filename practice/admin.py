from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Activity, ActivityKind, Hazard, PioneerPost


@admin.register(ActivityKind)
class ActivityKindAdmin(admin.ModelAdmin):
    list_display = ["name", "links_study", "records_hazards", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(Activity)
class ActivityAdmin(SimpleHistoryAdmin):
    list_display = ["meeting", "kind", "description", "study_item"]
    list_select_related = ["meeting__branch", "kind", "study_item"]
    raw_id_fields = ["meeting", "study_item"]


@admin.register(Hazard)
class HazardAdmin(SimpleHistoryAdmin):
    """Hazards are recorded on the 主题党日 page, where each becomes its owner's task; read here."""

    list_display = ["location", "severity", "owner", "due_on", "meeting", "task"]
    list_filter = ["severity"]
    list_select_related = ["owner", "meeting__branch", "task"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PioneerPost)
class PioneerPostAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "member", "branch", "started_on", "ended_on"]
    list_filter = ["kind"]
    list_select_related = ["member", "branch"]
    raw_id_fields = ["member"]


from . import admin_projects  # noqa: E402,F401  (the 技术攻关 screens)
