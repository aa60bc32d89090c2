from django.db import migrations

KINDS = [
    ("观看警示片/学习", True, False),
    ("隐患排查/讨论", False, True),
    ("参观教育基地", False, False),
    ("志愿服务", False, False),
    ("岗位实践", False, False),
]


def add_kinds(apps, schema_editor):
    ActivityKind = apps.get_model("practice", "ActivityKind")
    for order, (name, links_study, records_hazards) in enumerate(KINDS):
        ActivityKind.objects.get_or_create(
            name=name, defaults={"order": order, "links_study": links_study, "records_hazards": records_hazards}
        )


class Migration(migrations.Migration):
    dependencies = [("practice", "0001_initial")]

    operations = [migrations.RunPython(add_kinds, migrations.RunPython.noop)]
