from django.db import migrations


def add_defaults(apps, schema_editor):
    from study.defaults import load_defaults

    load_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("study", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
