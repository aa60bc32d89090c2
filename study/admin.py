from django.contrib import admin

from .models import Column, StudyPolicy, StudyRequirement


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
