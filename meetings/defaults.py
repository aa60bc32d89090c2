"""The default meeting types, theme tags and cadence rules (domain.md), loaded by a data migration.

Everything here is data afterwards: the admin edits it; this module is only the starting point.
"""

MEETING_TYPES = [
    # code, name, audience, sort, requires_lecturer, requires_theme_tags, attendance target
    ("general_meeting", "支部党员大会", "branch", 1, False, False, None),
    ("committee_meeting", "支部委员会", "committee", 2, False, False, None),
    ("group_meeting", "党小组会", "group", 3, False, False, None),
    ("party_lesson", "党课", "branch", 4, True, False, None),
    ("theme_day", "主题党日", "branch", 5, False, True, 80),
    ("org_life", "组织生活会", "branch", 6, False, False, None),
    ("democratic_review", "民主评议党员", "branch", 7, False, False, None),
]

THEME_TAGS = ["安全生产", "安全我先行", "节能减排", "技术攻关", "红色教育", "志愿服务", "理论学习"]

CADENCE_RULES = [
    # name, type codes (any of), scope, period, min count, basis
    ("支部委员会每月至少1次", ["committee_meeting"], "branch", "month", 1, "《中国共产党支部工作条例（试行）》"),
    ("党小组会每月至少1次", ["group_meeting"], "group", "month", 1, "《中国共产党支部工作条例（试行）》"),
    ("支部党员大会每季度至少1次", ["general_meeting"], "branch", "quarter", 1, "《中国共产党支部工作条例（试行）》"),
    ("党课每季度至少1次", ["party_lesson"], "branch", "quarter", 1, "本矿实施细则"),
    ("主题党日每月1次", ["theme_day"], "branch", "month", 1, "《中国共产党支部工作条例（试行）》"),
    ("组织生活会每年至少1次", ["org_life"], "branch", "year", 1, "《中国共产党支部工作条例（试行）》"),
    ("民主评议党员每年1次", ["democratic_review"], "branch", "year", 1, "《中国共产党支部工作条例（试行）》"),
    # The mine made its quarterly general meeting monthly (基层会议): only a 支部党员大会 counts,
    # a 党小组会 is a group's meeting, not the branch's.
    ("基层会议每月至少1次（支部党员大会）", ["general_meeting"], "branch", "month", 1, "本矿实施细则"),
]

# The wording and types this rule shipped with before it was corrected (see migration 0004).
OLD_MONTHLY_GENERAL_RULE = ("基层会议每月至少1次（党员大会或党小组会）", ["general_meeting", "group_meeting"])


def load_defaults(apps) -> None:
    MeetingType = apps.get_model("meetings", "MeetingType")
    ThemeTag = apps.get_model("meetings", "ThemeTag")
    CadenceRule = apps.get_model("meetings", "CadenceRule")
    MeetingPolicy = apps.get_model("meetings", "MeetingPolicy")

    types = {}
    for code, name, audience, sort, lecturer, tags, target in MEETING_TYPES:
        types[code], _ = MeetingType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "audience": audience,
                "sort_order": sort,
                "requires_lecturer": lecturer,
                "requires_theme_tags": tags,
                "attendance_target_percent": target,
            },
        )
    for name in THEME_TAGS:
        ThemeTag.objects.get_or_create(name=name)
    for sort, (name, codes, scope, period, count, basis) in enumerate(CADENCE_RULES, start=1):
        rule, created = CadenceRule.objects.get_or_create(
            name=name,
            defaults={"scope": scope, "period": period, "min_count": count, "sort_order": sort, "basis": basis},
        )
        if created:
            rule.types.set([types[c] for c in codes])
    MeetingPolicy.objects.get_or_create(pk=1)
