from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Dispatch, Task, TaskEvent, TaskPolicy


class TaskEventInline(admin.TabularInline):
    model = TaskEvent
    extra = 0
    readonly_fields = ("action", "by", "at", "note")
    can_delete = False


@admin.register(Task)
class TaskAdmin(SimpleHistoryAdmin):
    list_display = ("title", "organization", "owner", "source", "status", "due_at")
    list_filter = ("source", "status")
    search_fields = ("title", "organization__name", "owner__name")
    raw_id_fields = ("owner", "organization", "assigned_by", "meeting", "agenda_item", "finding", "dispatch")
    filter_horizontal = ("helpers",)
    inlines = [TaskEventInline]


@admin.register(Dispatch)
class DispatchAdmin(SimpleHistoryAdmin):
    list_display = ("title", "audience", "due_at", "created_by", "created_at")
    search_fields = ("title",)


@admin.register(TaskPolicy)
class TaskPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "remind_days_before", "escalate_days_after")

    def has_add_permission(self, request):
        return not TaskPolicy.objects.exists()
