"""Admin screens of 补学: the per-type rules (configuration) and, read-only, the absences that got no task.

Loaded by ``TasksConfig.ready`` (the tasks app's ``admin`` module belongs to the task pages proper).
"""

from django.contrib import admin

from .models import MakeupRule, MakeupSkip


@admin.register(MakeupRule)
class MakeupRuleAdmin(admin.ModelAdmin):
    list_display = ("meeting_type", "is_enabled", "due_days", "min_reflection_chars")
    list_editable = ("is_enabled", "due_days", "min_reflection_chars")
    list_display_links = ("meeting_type",)


@admin.register(MakeupSkip)
class MakeupSkipAdmin(admin.ModelAdmin):
    list_display = ("meeting", "member", "reason", "created_at")
    readonly_fields = ("meeting", "member", "reason", "created_at")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
