from decimal import Decimal

from django.db import migrations

COLUMNS = ["理论学习", "安全生产", "警示教育", "微党课"]


def add_defaults(apps, schema_editor):
    Column = apps.get_model("study", "Column")
    Requirement = apps.get_model("study", "StudyRequirement")
    Policy = apps.get_model("study", "StudyPolicy")
    for order, name in enumerate(COLUMNS):
        Column.objects.get_or_create(name=name, defaults={"order": order})
    # The mine's rule: 32 学时 a year for members, 56 for 书记 and 支委 (domain.md, study hours).
    Requirement.objects.get_or_create(audience="member", year=None, defaults={"hours": Decimal("32")})
    Requirement.objects.get_or_create(audience="committee", year=None, defaults={"hours": Decimal("56")})
    if not Policy.objects.exists():
        Policy.objects.create()


class Migration(migrations.Migration):
    dependencies = [("study", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
