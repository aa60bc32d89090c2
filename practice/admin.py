from django.contrib import admin

from .models import ActivityKind


@admin.register(ActivityKind)
class ActivityKindAdmin(admin.ModelAdmin):
    list_display = ["name", "links_study", "records_hazards", "order", "active"]
    list_editable = ["order", "active"]


from . import admin_projects  # noqa: E402,F401  (the 技术攻关 screens)
