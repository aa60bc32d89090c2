"""The default 补学 rules (domain.md: a member who missed a 党员大会 or 党课 catches up; this mine adds 主题党日).

Loaded by a data migration; the admin edits them afterwards.
"""

MAKEUP_ON = ("general_meeting", "party_lesson", "theme_day")
DUE_DAYS = 14
MIN_REFLECTION_CHARS = 100


def load_makeup_rules(apps) -> None:
    """One rule per meeting type, on for the types of ``MAKEUP_ON``; existing rows are left as edited."""
    MeetingType = apps.get_model("meetings", "MeetingType")
    MakeupRule = apps.get_model("tasks", "MakeupRule")
    for meeting_type in MeetingType.objects.all():
        MakeupRule.objects.get_or_create(
            meeting_type=meeting_type,
            defaults={
                "is_enabled": meeting_type.code in MAKEUP_ON,
                "due_days": DUE_DAYS,
                "min_reflection_chars": MIN_REFLECTION_CHARS,
            },
        )
