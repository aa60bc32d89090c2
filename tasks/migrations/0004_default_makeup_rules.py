from django.db import migrations


def forwards(apps, schema_editor):
    from tasks.defaults import load_makeup_rules

    load_makeup_rules(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0003_makeup"),
        ("meetings", "0008_agenda_item_decision"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
