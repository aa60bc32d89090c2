# The rectification deadline is "within one month" as a calendar month (issue 9, rule 10), not 30 days.

from django.db import migrations, models


def days_to_months(apps, schema_editor):
    """A policy kept in days becomes whole calendar months (30 days -> 1, never under 1)."""
    Policy = apps.get_model("supervision", "SupervisionPolicy")
    for policy in Policy.objects.all():
        policy.rectification_months = max(1, round(policy.rectification_days / 30))
        policy.save(update_fields=["rectification_months"])


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0003_fingerprint_covering_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="supervisionpolicy",
            name="rectification_months",
            field=models.PositiveSmallIntegerField(
                default=1,
                help_text="按自然月计算：15 日提出的问题，期限到下月 15 日当天结束；下月没有该日时到月末",
                verbose_name="整改期限（月）",
            ),
        ),
        migrations.RunPython(days_to_months, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="supervisionpolicy",
            name="rectification_days",
        ),
    ]
