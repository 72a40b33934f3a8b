"""The three baseline policies, one per plan tier (Good, Better, Best); each tier brings its own and those
below it. Values are written out here: a migration never imports app code."""

from django.db import migrations

GOOD_CHECKS = [
    # (type, name, params, interval_s, severity, failures_before_alert, os_family)
    ("cpu", "CPU load", {"warn_pct": 85, "fail_pct": 95, "samples": 3}, 300, "warning", 3, ""),
    ("memory", "Memory use", {"warn_pct": 90, "fail_pct": 97}, 300, "warning", 3, ""),
    ("disk_free", "Free space on C:", {"mount": "C:\\", "warn_pct": 15, "fail_pct": 5}, 900, "critical", 2,
     "windows"),
    ("disk_free", "Free space on /", {"mount": "/", "warn_pct": 15, "fail_pct": 5}, 900, "critical", 2, "linux"),
    ("disk_free", "Free space on / (macOS)", {"mount": "/", "warn_pct": 15, "fail_pct": 5}, 900, "critical", 2,
     "macos"),
]
BASELINES = [
    ("good", "Baseline — Good", "Monitoring: CPU, memory and system disk, with a daily inventory.",
     {"inventory_hours": 24}, GOOD_CHECKS),
    ("better", "Baseline — Better", "Adds the antivirus and OS updates posture (protection).",
     {"antivirus": True, "os_updates": True, "inventory_hours": 12}, []),
    ("best", "Baseline — Best", "Adds backup status from the backup tools and a backup freshness rule "
     "(last success within 26 hours).",
     {"backup_tools": ["restic", "windows_server_backup"], "backup_max_age_hours": 26}, []),
]


def create_baselines(apps, schema_editor):
    Policy = apps.get_model("monitoring", "Policy")
    CheckDefinition = apps.get_model("monitoring", "CheckDefinition")
    for tier, name, description, collectors, checks in BASELINES:
        policy, created = Policy.objects.get_or_create(
            baseline_tier=tier, defaults={"name": name, "description": description, "scope": "baseline",
                                          "collectors": collectors, "enabled": True})
        if not created:
            continue
        CheckDefinition.objects.bulk_create([
            CheckDefinition(policy=policy, check_type=kind, name=check_name, params=params, interval_s=interval,
                            severity=severity, failures_before_alert=failures, os_family=os_family)
            for kind, check_name, params, interval, severity, failures, os_family in checks])


def remove_baselines(apps, schema_editor):
    apps.get_model("monitoring", "Policy").objects.filter(scope="baseline").delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_policies_checks_alerts")]
    operations = [migrations.RunPython(create_baselines, remove_baselines)]
