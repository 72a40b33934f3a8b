"""The shipped workflows that tie monitoring to the service desk, enabled, visible and editable:

- "Alert raised → ticket": open a ticket for the alert, or add the alert to the open ticket of the same device
  and check. This is the automatic path from an alert to a ticket (the alert page's button finds the same one).
- "Alert resolved → close the ticket": a note on the alert's ticket, then close it unless somebody worked on it
  (a public reply by staff or a time entry).

Workflows already present under the same key are left alone (an edited built-in stays as edited).
"""

from django.db import migrations

BUILTINS = [
    {"key": "alert-ticket", "name": "Alert raised → ticket",
     "description": "Opens a ticket for each raised alert, or adds the alert to the open ticket of the same device "
                    "and check.",
     "definition": {"trigger": {"event": "alert.raised"}, "conditions": [], "steps": [
         {"id": "ticket", "action": "open_ticket", "params": {"title": "", "priority": "auto", "reuse_open": True},
          "on_success": "next", "on_failure": "end"}]}},
    {"key": "alert-resolved-close", "name": "Alert resolved → close the ticket",
     "description": "Notes the resolution on the alert's ticket and closes it if nobody worked on it (no public "
                    "reply, no time entry).",
     "definition": {"trigger": {"event": "alert.resolved"}, "conditions": [], "steps": [
         {"id": "note", "action": "note_ticket",
          "params": {"body": "The alert was resolved ({reason}).", "public": False},
          "on_success": "next", "on_failure": "end"},
         {"id": "close", "action": "close_ticket", "params": {"status": "closed", "only_if_untouched": True},
          "on_success": "next", "on_failure": "end"}]}},
]


def add_builtins(apps, schema_editor):
    Workflow = apps.get_model("automation", "Workflow")
    WorkflowVersion = apps.get_model("automation", "WorkflowVersion")
    for item in BUILTINS:
        if Workflow.objects.filter(builtin_key=item["key"]).exists():
            continue
        workflow = Workflow.objects.create(name=item["name"], description=item["description"], enabled=True,
                                           builtin_key=item["key"],
                                           trigger_event=item["definition"]["trigger"]["event"])
        version = WorkflowVersion.objects.create(workflow=workflow, number=1, definition=item["definition"])
        workflow.current_version = version
        workflow.save(update_fields=["current_version"])


def remove_builtins(apps, schema_editor):
    Workflow = apps.get_model("automation", "Workflow")
    Workflow.objects.filter(builtin_key__in=[b["key"] for b in BUILTINS], runs__isnull=True).update(
        current_version=None)
    Workflow.objects.filter(builtin_key__in=[b["key"] for b in BUILTINS], runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("automation", "0003_workflows_and_webhooks")]

    operations = [migrations.RunPython(add_builtins, remove_builtins)]
