"""The 民主评议's configuration: the year's weights and limits. Ballots are never registered here.

``Ballot`` and ``BallotGrade`` have no admin page on purpose (tests/appraisal/test_anonymity.py
checks it): an administrator sees rounds, appraisees and tallies through the pages, never a ballot.
"""

from django.contrib import admin

from .models import AppraisalYear, Round


@admin.register(AppraisalYear)
class AppraisalYearAdmin(admin.ModelAdmin):
    list_display = ["year", "weight_self", "weight_peer", "weight_masses", "weight_org", "fail_requires_reason"]
    readonly_fields = ["opened_by", "opened_at"]
    fieldsets = [
        (None, {"fields": ["year", "opened_by", "opened_at"]}),
        ("权重（合计 100）", {"fields": ["weight_self", "weight_peer", "weight_masses", "weight_org"]}),
        ("等次折合分", {"fields": ["points_excellent", "points_qualified", "points_basic", "points_fail"]}),
        ("建议等次分数线", {"fields": ["threshold_excellent", "threshold_qualified", "threshold_basic"]}),
        (
            "限制与规则",
            {
                "fields": [
                    "excellent_cap_numerator",
                    "excellent_cap_denominator",
                    "fail_requires_reason",
                    "probationary_group",
                    "min_voters_for_member_tallies",
                    "commendation_uses_grade",
                    "correction_days",
                ]
            },
        ),
    ]


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ["branch", "year", "state", "window_start", "window_end"]
    list_filter = ["state", "year"]
    list_select_related = ["branch", "year"]
    # State changes go through the pages (the services lock the round); the admin only reads.
    readonly_fields = ["year", "branch", "meeting", "state", "started_by", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
