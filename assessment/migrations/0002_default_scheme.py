from django.db import migrations


def forwards(apps, schema_editor):
    from assessment.defaults import DEFAULT_YEAR, load_default_scheme

    load_default_scheme(apps, DEFAULT_YEAR)


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial"), ("meetings", "0002_defaults")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
