from django.db import migrations


def create_organization(apps, schema_editor):
    # The organization is a singleton every page reads; it exists from the first migration on.
    Organization = apps.get_model("core", "Organization")
    Organization.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create_organization, migrations.RunPython.noop)]
