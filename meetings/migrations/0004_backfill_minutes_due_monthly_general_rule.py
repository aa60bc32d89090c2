"""Backfill Meeting.minutes_due_at, and correct the shipped monthly 基层会议 rule.

The rule shipped as "党员大会或党小组会"; the mine's monthly 基层会议 is a 支部党员大会. A database
whose rule still has the shipped wording and types gets the corrected rule; one an administrator
has already edited is left as it is.
"""

from django.db import migrations

from meetings.deadlines import minutes_due_at
from meetings.defaults import CADENCE_RULES, OLD_MONTHLY_GENERAL_RULE
from org.clock import local_date


def backfill_minutes_due(apps, schema_editor):
    Meeting = apps.get_model("meetings", "Meeting")
    MeetingPolicy = apps.get_model("meetings", "MeetingPolicy")
    policy = MeetingPolicy.objects.filter(pk=1).first()
    days = policy.minutes_due_days if policy else 3
    changed = []
    for meeting in Meeting.objects.only("pk", "planned_start", "actual_start").iterator(chunk_size=2000):
        meeting.minutes_due_at = minutes_due_at(local_date(meeting.actual_start or meeting.planned_start), days=days)
        changed.append(meeting)
    Meeting.objects.bulk_update(changed, ["minutes_due_at"], batch_size=500)


def fix_monthly_general_rule(apps, schema_editor):
    CadenceRule = apps.get_model("meetings", "CadenceRule")
    MeetingType = apps.get_model("meetings", "MeetingType")
    old_name, old_codes = OLD_MONTHLY_GENERAL_RULE
    new_name, new_codes = next((r[0], r[1]) for r in CADENCE_RULES if r[0].startswith("基层会议"))
    for rule in CadenceRule.objects.filter(name=old_name, scope="branch", period="month", min_count=1):
        if sorted(rule.types.values_list("code", flat=True)) != sorted(old_codes):
            continue
        rule.name = new_name
        rule.save(update_fields=["name"])
        rule.types.set(MeetingType.objects.filter(code__in=new_codes))


def restore_monthly_general_rule(apps, schema_editor):
    CadenceRule = apps.get_model("meetings", "CadenceRule")
    MeetingType = apps.get_model("meetings", "MeetingType")
    old_name, old_codes = OLD_MONTHLY_GENERAL_RULE
    new_name, new_codes = next((r[0], r[1]) for r in CADENCE_RULES if r[0].startswith("基层会议"))
    for rule in CadenceRule.objects.filter(name=new_name):
        if sorted(rule.types.values_list("code", flat=True)) == sorted(new_codes):
            rule.name = old_name
            rule.save(update_fields=["name"])
            rule.types.set(MeetingType.objects.filter(code__in=old_codes))


class Migration(migrations.Migration):
    dependencies = [("meetings", "0003_minutes_due_exemption_group_notice_policy")]

    operations = [
        migrations.RunPython(backfill_minutes_due, migrations.RunPython.noop),
        migrations.RunPython(fix_monthly_general_rule, restore_monthly_general_rule),
    ]
