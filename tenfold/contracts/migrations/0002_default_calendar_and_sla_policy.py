"""Every deployment starts with a 24/7 calendar and a default SLA policy on it: tickets of clients without
a contract always have targets. The MSP renames or replaces them in the SLA settings."""

from django.db import migrations

ALWAYS = [[[0, 1440]] for _ in range(7)]


def create_defaults(apps, schema_editor):
    BusinessCalendar = apps.get_model("contracts", "BusinessCalendar")
    SlaPolicy = apps.get_model("contracts", "SlaPolicy")
    if SlaPolicy.objects.filter(is_default=True).exists():
        return
    calendar, _created = BusinessCalendar.objects.get_or_create(
        name="24/7", defaults={"time_zone": "UTC", "hours": ALWAYS})
    SlaPolicy.objects.create(name="Standard", calendar=calendar, is_default=True)


def remove_defaults(apps, schema_editor):
    SlaPolicy = apps.get_model("contracts", "SlaPolicy")
    BusinessCalendar = apps.get_model("contracts", "BusinessCalendar")
    SlaPolicy.objects.filter(name="Standard", contracts__isnull=True).delete()
    BusinessCalendar.objects.filter(name="24/7", sla_policies__isnull=True, contracts__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_contracts_calendars_sla_rounding_projects")]
    operations = [migrations.RunPython(create_defaults, remove_defaults)]
