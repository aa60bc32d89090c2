"""A branch that had coordinates gets them back as its default place: the GPS check reads a meeting's
place, and the branch's own coordinates were never read by it."""

from django.db import migrations


def branch_coordinates_to_places(apps, schema_editor):
    Organization = apps.get_model("org", "Organization")
    Place = apps.get_model("meetings", "Place")
    branches = Organization.objects.filter(kind="branch", latitude__isnull=False, longitude__isnull=False)
    for branch in branches.iterator():
        if Place.objects.filter(branch=branch).exists():
            continue
        Place.objects.create(
            name=f"{branch.name}党员活动室"[:100],
            kind="meeting_room",
            latitude=branch.latitude,
            longitude=branch.longitude,
            branch=branch,
            is_default=True,
        )


class Migration(migrations.Migration):
    dependencies = [("meetings", "0011_places_register"), ("org", "0005_post_duty")]

    operations = [migrations.RunPython(branch_coordinates_to_places, migrations.RunPython.noop)]
