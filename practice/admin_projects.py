"""Admin screens of the 技术攻关 projects: the verifying departments and their users; projects read-mostly."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Project, ProjectMember, VerifyingDepartment


@admin.register(VerifyingDepartment)
class VerifyingDepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "order"]
    list_editable = ["active", "order"]
    filter_horizontal = ["users"]


class ProjectMemberInline(admin.TabularInline):
    model = ProjectMember
    extra = 0
    raw_id_fields = ["member"]


@admin.register(Project)
class ProjectAdmin(SimpleHistoryAdmin):
    """Projects are written by their pages' services; a verified outcome cannot be changed here either."""

    list_display = ["title", "branch", "state", "leader", "verified_at"]
    list_filter = ["state", "source"]
    search_fields = ["title", "branch__name"]
    raw_id_fields = ["branch", "group", "leader", "verifier", "created_by", "reported_by"]
    inlines = [ProjectMemberInline]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_delete_permission(request, obj)
