"""Vote.candidate becomes a member (FK); the text it held is kept as ``candidate_name``.

Existing election and 转正 votes are linked to the member of the meeting's branch with
that name when exactly one matches; the others keep their name only.
"""

import django.db.models.deletion
from django.db import migrations, models


def link_candidates(apps, schema_editor):
    Vote = apps.get_model("meetings", "Vote")
    Member = apps.get_model("org", "Member")
    for vote in Vote.objects.filter(kind__in=["election", "full_membership"]).exclude(candidate_name="").select_related(
        "meeting"
    ):
        matches = list(
            Member.objects.filter(
                name=vote.candidate_name.strip(), memberships__organization_id=vote.meeting.branch_id
            )
            .distinct()
            .values_list("pk", flat=True)[:2]
        )
        if len(matches) == 1:
            Vote.objects.filter(pk=vote.pk).update(candidate_id=matches[0])


def unlink_candidates(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0002_defaults"),
        ("org", "0002_member_status_periods"),
    ]

    operations = [
        migrations.RenameField(model_name="vote", old_name="candidate", new_name="candidate_name"),
        migrations.RenameField(model_name="historicalvote", old_name="candidate", new_name="candidate_name"),
        migrations.AddField(
            model_name="vote",
            name="candidate",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="candidacies",
                to="org.member",
                verbose_name="候选人/对象（党员）",
            ),
        ),
        migrations.AddField(
            model_name="historicalvote",
            name="candidate",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="org.member",
                verbose_name="候选人/对象（党员）",
            ),
        ),
        migrations.RunPython(link_candidates, unlink_candidates),
    ]
