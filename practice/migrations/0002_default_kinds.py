from django.db import migrations


def add_kinds(apps, schema_editor):
    from practice.defaults import load_activity_kinds

    load_activity_kinds(apps)


class Migration(migrations.Migration):
    dependencies = [("practice", "0001_initial")]

    operations = [migrations.RunPython(add_kinds, migrations.RunPython.noop)]
