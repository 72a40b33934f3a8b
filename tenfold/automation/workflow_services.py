"""Writes of workflows: create, save a new version, enable or disable, delete. Every save is validated first
(nothing is stored when a definition is refused) and makes a new immutable version."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenfold.automation import workflows
from tenfold.automation.models import Workflow, WorkflowVersion
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.roles import require
from tenfold.core.scheduler import next_run


def require_build(actor: Any, action: str = "delete") -> None:
    """Building workflows and webhooks (any `action`) is the full level of the jobs right (owners,
    administrators, service managers; technicians, who hold it at W, run jobs and read workflows), by staff
    not restricted to some clients."""
    require(actor, "jobs", "delete")
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()
    scope = actor.client_scope() if hasattr(actor, "client_scope") else None
    if scope is not None:
        raise PermissionDenied(_("Staff restricted to some clients cannot change the MSP's workflows."))


def _clean_fields(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name or len(name) > 200:
            raise ValidationError(_("Name the workflow (at most 200 characters)."), field="name")
        clean["name"] = name
    if "description" in data and data["description"] is not None:
        clean["description"] = str(data["description"])[:2000]
    if "enabled" in data and data["enabled"] is not None:
        if not isinstance(data["enabled"], bool):
            raise ValidationError(_("enabled is true or false."), field="enabled")
        clean["enabled"] = data["enabled"]
    return clean


def _apply_trigger(workflow: Workflow, definition: dict[str, Any]) -> None:
    trigger = definition["trigger"]
    workflow.trigger_event = trigger.get("event", workflows.SCHEDULE if "schedule" in trigger else "")
    workflow.schedule = trigger.get("schedule", "")
    workflow.next_run_at = next_run(workflow.schedule, timezone.now()) if workflow.schedule else None


def _new_version(workflow: Workflow, definition: dict[str, Any], actor: Any) -> WorkflowVersion:
    number = workflows.latest_version_number(workflow) + 1
    version = WorkflowVersion(workflow=workflow, number=number, definition=definition,
                              saved_by=actor if getattr(actor, "pk", None) else None)
    try:
        with transaction.atomic():
            version.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("Someone saved this workflow at the same time: reload and try again.")) from None
    workflow.current_version = version
    _apply_trigger(workflow, definition)
    workflow.save(update_fields=["current_version", "trigger_event", "schedule", "next_run_at", "updated_at"])
    return version


@transaction.atomic
def workflow_create(*, actor: Any, data: dict[str, Any]) -> Workflow:
    """A new workflow; its definition, once validated, is version 1."""
    require_build(actor, "add")
    clean = _clean_fields(data, partial=False)
    definition = workflows.validate_definition(data.get("definition"))
    workflow = Workflow(**clean, created_by=actor if getattr(actor, "pk", None) else None)
    try:
        with transaction.atomic():
            workflow.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(_("A workflow with this name already exists."), field="name") from None
    version = _new_version(workflow, definition, actor)
    audit.record(actor, "workflow.created", workflow, changes={"name": workflow.name, "version": version.number,
                                                               "enabled": workflow.enabled})
    events.emit("workflow.created", payload={"workflow_id": workflow.pk, "version": version.number})
    return workflow


@transaction.atomic
def workflow_update(*, actor: Any, workflow: Workflow, data: dict[str, Any]) -> WorkflowVersion | None:
    """Change a workflow: a definition (validated first) makes a new version; name, description and
    enabled change the workflow itself. Returns the new version, if any."""
    require_build(actor, "change")
    workflow = (Workflow.objects.select_for_update(of=("self",)).select_related("current_version")
                .get(pk=workflow.pk))
    clean = _clean_fields(data, partial=True)
    definition = None
    if data.get("definition") is not None:
        previous = workflow.current_version.definition if workflow.current_version else None
        definition = workflows.validate_definition(data["definition"], previous)
    before = audit.snapshot(workflow, ["name", "description", "enabled"])
    for key, value in clean.items():
        setattr(workflow, key, value)
    try:
        with transaction.atomic():
            workflow.save()
    except IntegrityError:
        raise ValidationError(_("A workflow with this name already exists."), field="name") from None
    changes = audit.diff(before, audit.snapshot(workflow, list(before)))
    version = None
    if definition is not None and (workflow.current_version is None
                                   or definition != workflow.current_version.definition):
        version = _new_version(workflow, definition, actor)
        changes["version"] = version.number
    audit.record(actor, "workflow.updated", workflow, changes=changes)
    events.emit("workflow.updated", payload={"workflow_id": workflow.pk,
                                             "version": version.number if version else None})
    return version


@transaction.atomic
def workflow_set_enabled(*, actor: Any, workflow: Workflow, enabled: bool) -> Workflow:
    require_build(actor, "change")
    if workflow.enabled != enabled:
        workflow.enabled = enabled
        if enabled and workflow.schedule:
            workflow.next_run_at = next_run(workflow.schedule, timezone.now())
        workflow.save(update_fields=["enabled", "next_run_at", "updated_at"])
        audit.record(actor, "workflow.enabled" if enabled else "workflow.disabled", workflow,
                     changes={"enabled": [not enabled, enabled]})
    return workflow


@transaction.atomic
def workflow_delete(*, actor: Any, workflow: Workflow) -> None:
    """Delete a workflow that never ran (one with runs is disabled instead, to keep its history)."""
    require_build(actor, "delete")
    if workflow.runs.exists():
        raise Conflict(_("This workflow has runs: disable it instead, to keep their history."))
    audit.record(actor, "workflow.deleted", workflow, changes={"name": workflow.name})
    Workflow.objects.filter(pk=workflow.pk).update(current_version=None)
    workflow.delete()
