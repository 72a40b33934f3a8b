"""Workflows: the catalogue of triggers, condition fields and actions, the validation of a definition, and
its execution (event → run → steps → job → resume).

A definition is JSON:

    {"trigger": {"event": "alert.raised"}            # or {"schedule": "0 7 * * 1"}
     "conditions": [{"field": "check_type", "op": "in", "value": ["disk_free"]}],
     "steps": [{"id": "cleanup", "action": "run_script",
                "params": {"script_id": 4, "parameters": {}},
                "on_success": "end", "on_failure": "ticket"},
               {"id": "ticket", "action": "open_ticket", "params": {"reuse_open": true}}]}

Steps run in order; `on_success` / `on_failure` name the step to go to, "next" (the following step, the
default on success) or "end" (the default on failure, which ends the run as failed). A branch may only go
forward: any cycle is refused before saving.

Execution never blocks a worker: a step that runs a job on a device creates the job and parks the run in
"waiting"; the `job.finished` event (emitted by agents when a job's result is stored) resumes it, and the
`automation.workflow_sweep` schedule times out runs whose job never answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenfold.agents.models import Job, JobStatus
from tenfold.assets.models import Device, DeviceKind, OsFamily, Tag
from tenfold.automation import parameters as params
from tenfold.automation.models import (
    RunStatus,
    Script,
    ScriptVersion,
    StepStatus,
    VersionStatus,
    WebhookSubscription,
    Workflow,
    WorkflowRun,
    WorkflowRunStep,
    WorkflowVersion,
)
from tenfold.clients.models import Client
from tenfold.core import events
from tenfold.core.errors import TenfoldError, ValidationError
from tenfold.core.models import OutboxEvent
from tenfold.core.roles import Role
from tenfold.core.scheduler import next_run, validate_cron

END, NEXT = "end", "next"
MAX_STEPS = 30
MAX_CONDITIONS = 20
MAX_STEPS_PER_RUN = 100  # belt and braces: cycles are refused before saving
JOB_WAIT_MARGIN = timedelta(minutes=10)  # beyond the script's own timeout, for the agent's check-in interval
ACTION_WAIT = timedelta(minutes=30)
STEP_ID_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
MAX_ID = 2**63 - 1  # a row id beyond this fits no database column: it names nothing
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
SEVERITIES = ("info", "warning", "critical")
CHECK_TYPES = ("cpu", "memory", "disk_free", "service", "process", "ping", "tcp_port", "http", "log_pattern",
               "script")
TICKET_SOURCES = ("ui", "api", "portal", "email", "alert", "recurring")
CONTRACT_TYPES = ("managed", "block_hours", "time_materials", "fixed_price")
PRIORITIES = ("p1", "p2", "p3", "p4")
AGENT_ACTIONS = {"run_checks_now": gettext_lazy("Run the check set now"),
                 "collect_inventory_now": gettext_lazy("Collect inventory now")}
DEVICE_FIELDS = {"kind": gettext_lazy("Kind"), "notes": gettext_lazy("Notes")}


# --- The catalogue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trigger:
    """A trigger: the event's payload fields, the condition fields it offers, what it gives the steps."""

    name: str
    label: Any
    payload: tuple[str, ...]
    conditions: tuple[str, ...]
    device: bool = False
    alert: bool = False
    ticket: bool = False


_COMMON = ("client", "business_hours")
_DEVICE = ("os_family", "device_tag")
TRIGGERS: dict[str, Trigger] = {t.name: t for t in (
    Trigger("alert.raised", gettext_lazy("Alert raised"),
            ("alert_id", "client_id", "device_id", "kind", "check_id", "check_type", "severity", "title"),
            (*_COMMON, "severity", "check_type", "alert_kind", *_DEVICE), device=True, alert=True),
    Trigger("alert.resolved", gettext_lazy("Alert resolved"),
            ("alert_id", "client_id", "device_id", "kind", "check_id", "check_type", "severity", "reason"),
            (*_COMMON, "severity", "check_type", "alert_kind", *_DEVICE), device=True, alert=True),
    Trigger("device.enrolled", gettext_lazy("Device enrolled"), ("device_id", "client_id", "created"),
            (*_COMMON, *_DEVICE), device=True),
    Trigger("ticket.created", gettext_lazy("Ticket created"),
            ("ticket_id", "number", "client_id", "source", "priority", "contract_id"),
            (*_COMMON, "priority", "source"), ticket=True),
    Trigger("ticket.resolved", gettext_lazy("Ticket resolved"),
            ("ticket_id", "number", "client_id", "sla_resolution_met", "assignee_id"), _COMMON, ticket=True),
    Trigger("ticket.closed", gettext_lazy("Ticket closed"),
            ("ticket_id", "number", "client_id", "contact_id", "assignee_id"), _COMMON, ticket=True),
    Trigger("contract.signed", gettext_lazy("Contract signed"),
            ("contract_id", "client_id", "type", "plan_id", "tier"), (*_COMMON, "contract_type")),
)}
SCHEDULE = "schedule"
SCHEDULE_CONDITIONS = _COMMON
EVENT_NAMES = tuple(TRIGGERS)

CONDITION_LABELS: dict[str, Any] = {
    "client": gettext_lazy("Client"), "business_hours": gettext_lazy("Within business hours"),
    "severity": gettext_lazy("Severity"), "check_type": gettext_lazy("Check type"),
    "alert_kind": gettext_lazy("Alert kind"), "os_family": gettext_lazy("OS family"),
    "device_tag": gettext_lazy("Device tag"), "priority": gettext_lazy("Priority"),
    "source": gettext_lazy("Source"), "contract_type": gettext_lazy("Contract type"),
}


@dataclass(frozen=True)
class Action:
    """A predefined step: its parameters and whether it needs the event's device or waits for a job."""

    name: str
    label: Any
    params: tuple[str, ...]
    device: bool = False
    waits: bool = False


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("run_script", gettext_lazy("Run a script"), ("script_id", "version", "parameters"), device=True,
           waits=True),
    Action("run_action", gettext_lazy("Run an agent action"), ("action",), device=True, waits=True),
    Action("open_ticket", gettext_lazy("Open a ticket"), ("title", "priority", "reuse_open")),
    Action("note_ticket", gettext_lazy("Add a note to the ticket"), ("body", "public")),
    Action("close_ticket", gettext_lazy("Close the ticket"), ("status", "only_if_untouched")),
    Action("send_email", gettext_lazy("Send an email"), ("to", "subject", "body")),
    Action("call_webhook", gettext_lazy("Call a webhook"), ("subscription_id",)),
    Action("set_device_field", gettext_lazy("Set a device field"), ("field", "value"), device=True),
    Action("add_device_tag", gettext_lazy("Add a device tag"), ("tag_id",), device=True),
)}


def catalogue() -> dict[str, Any]:
    """Triggers, condition fields and their choices, actions: what the builder page offers."""
    return {
        "triggers": [{"name": t.name, "label": str(t.label), "conditions": list(t.conditions),
                      "payload": list(t.payload), "device": t.device} for t in TRIGGERS.values()],
        "schedule_conditions": list(SCHEDULE_CONDITIONS),
        "conditions": {name: {"label": str(label), "choices": _condition_choices(name)}
                       for name, label in CONDITION_LABELS.items()},
        "actions": [{"name": a.name, "label": str(a.label), "params": list(a.params), "device": a.device,
                     "waits": a.waits} for a in ACTIONS.values()],
        "agent_actions": [[k, str(v)] for k, v in AGENT_ACTIONS.items()],
        "device_fields": [[k, str(v)] for k, v in DEVICE_FIELDS.items()],
        "device_kinds": [[k, str(v)] for k, v in DeviceKind.choices],
        "priorities": list(PRIORITIES),
    }


def _condition_choices(name: str) -> list[list[Any]]:
    if name == "client":
        return [[pk, label] for pk, label in Client.objects.order_by("name").values_list("pk", "name")[:500]]
    if name == "device_tag":
        return [[pk, label] for pk, label in Tag.objects.order_by("name").values_list("pk", "name")[:500]]
    fixed: dict[str, tuple[str, ...]] = {
        "severity": SEVERITIES, "check_type": CHECK_TYPES, "alert_kind": ("check", "offline"),
        "os_family": tuple(OsFamily.values), "priority": PRIORITIES, "source": TICKET_SOURCES,
        "contract_type": CONTRACT_TYPES}
    return [[value, value] for value in fixed.get(name, ())]


# --- Validation ----------------------------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


def _step_label(step_id: str) -> str:
    return _("Step “%(step)s”") % {"step": step_id}


def validate_definition(raw: Any, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """A clean definition, or ValidationError whose `errors` name the place (`trigger`, `conditions.<i>`,
    `steps.<id>`) and whose messages name the step. `previous` gives back secret values kept as [secret]."""
    errors = _Errors()
    if not isinstance(raw, dict):
        raise ValidationError(_("The definition must be an object with trigger, conditions and steps."),
                              field="definition")
    unknown = sorted(set(raw) - {"trigger", "conditions", "steps"})
    if unknown:
        errors.add("definition", _("Unknown field: %(fields)s.") % {"fields": ", ".join(unknown)})
    trigger, offered = _clean_trigger(raw.get("trigger"), errors)
    conditions = _clean_conditions(raw.get("conditions"), trigger, offered, errors)
    steps = _clean_steps(raw.get("steps"), trigger, errors, previous)
    if trigger.get("schedule") and not any(c["field"] == "client" and c["op"] == "in" for c in conditions):
        errors.add("conditions", _("A scheduled workflow names the clients it runs for (a condition "
                                   "“client is one of”)."))
    if errors.errors:
        raise ValidationError(next(iter(errors.errors.values()))[0], errors=errors.errors)
    return {"trigger": trigger, "conditions": conditions, "steps": steps}


def _clean_trigger(raw: Any, errors: _Errors) -> tuple[dict[str, Any], tuple[str, ...]]:
    if not isinstance(raw, dict) or len(raw) != 1 or not ({"event", SCHEDULE} & set(raw)):
        errors.add("trigger", _("Choose a trigger: an event or a schedule."))
        return {}, ()
    if "event" in raw:
        name = raw["event"]
        if not isinstance(name, str) or name not in TRIGGERS:
            errors.add("trigger", _("Unknown trigger event “%(event)s”. Choose one of: %(events)s.")
                       % {"event": str(name)[:60], "events": ", ".join(EVENT_NAMES)})
            return {}, ()
        return {"event": name}, TRIGGERS[name].conditions
    try:
        cron = validate_cron(str(raw[SCHEDULE] or ""))
    except TenfoldError:
        errors.add("trigger", _("The schedule is not a valid cron expression (five fields, e.g. “0 7 * * 1”)."))
        return {}, ()
    return {SCHEDULE: cron}, SCHEDULE_CONDITIONS


def _clean_conditions(raw: Any, trigger: dict[str, Any], offered: tuple[str, ...],
                      errors: _Errors) -> list[dict[str, Any]]:
    raw = raw or []
    if not isinstance(raw, list) or len(raw) > MAX_CONDITIONS:
        errors.add("conditions", _("The conditions are a list of at most %(n)d.") % {"n": MAX_CONDITIONS})
        return []
    clean = []
    for index, item in enumerate(raw):
        where = f"conditions.{index}"
        if not isinstance(item, dict) or set(item) - {"field", "op", "value"}:
            errors.add(where, _("Condition %(n)d: give a field, an operator and a value.") % {"n": index + 1})
            continue
        name = item.get("field")
        if not isinstance(name, str) or name not in CONDITION_LABELS:
            errors.add(where, _("Condition %(n)d: unknown field “%(field)s”.")
                       % {"n": index + 1, "field": str(name)[:40]})
            continue
        if trigger and name not in offered:
            what = trigger.get("event") or _("a schedule")
            errors.add(where, _("Condition %(n)d: the trigger %(trigger)s has no field “%(field)s” (it offers: "
                                "%(fields)s).") % {"n": index + 1, "trigger": what, "field": name,
                                                   "fields": ", ".join(offered)})
            continue
        op, value = item.get("op"), item.get("value")
        if name == "business_hours":
            if op != "is" or not isinstance(value, bool):
                errors.add(where, _("Condition %(n)d: “within business hours” is true or false.")
                           % {"n": index + 1})
                continue
            clean.append({"field": name, "op": "is", "value": value})
            continue
        if op not in ("in", "not_in"):
            errors.add(where, _("Condition %(n)d: the operator is “in” or “not_in”.") % {"n": index + 1})
            continue
        values = _condition_values(name, value)
        if values is None:
            errors.add(where, _("Condition %(n)d: choose one or more valid values for “%(field)s”.")
                       % {"n": index + 1, "field": name})
            continue
        clean.append({"field": name, "op": op, "value": values})
    return clean


def _condition_values(name: str, value: Any) -> list[Any] | None:
    if not isinstance(value, list) or not value or len(value) > 200:
        return None
    if name in ("client", "device_tag"):
        if not all(_is_id(v) for v in value):
            return None
        model = Client if name == "client" else Tag
        wanted = sorted(set(value))
        if model.objects.filter(pk__in=wanted).count() != len(wanted):  # type: ignore[attr-defined]
            return None
        return wanted
    allowed = dict(_condition_choices(name))
    if not all(isinstance(v, str) and v in allowed for v in value):
        return None
    return sorted(set(value))


def _clean_steps(raw: Any, trigger: dict[str, Any], errors: _Errors,
                 previous: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        errors.add("steps", _("Add at least one step."))
        return []
    if len(raw) > MAX_STEPS:
        errors.add("steps", _("A workflow has at most %(n)d steps.") % {"n": MAX_STEPS})
        return []
    event = TRIGGERS.get(trigger.get("event", ""))
    has_device = bool(event and event.device)
    old_steps = {s.get("id"): s for s in (previous or {}).get("steps", []) if isinstance(s, dict)}
    clean: list[dict[str, Any]] = []
    ids: list[str] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.add(f"steps.{index}", _("Step %(n)d is not an object.") % {"n": index + 1})
            continue
        step_id = item.get("id")
        if not isinstance(step_id, str) or not STEP_ID_RE.match(step_id):
            errors.add(f"steps.{index}", _("Step %(n)d: its identifier is lower-case letters, digits, - and _ "
                                           "(at most 40).") % {"n": index + 1})
            continue
        if step_id in ids:
            errors.add(f"steps.{step_id}", _("%(step)s: two steps have this identifier.")
                       % {"step": _step_label(step_id)})
            continue
        ids.append(step_id)
        where = f"steps.{step_id}"
        unknown = sorted(set(item) - {"id", "action", "params", "on_success", "on_failure"})
        if unknown:
            errors.add(where, _("%(step)s: unknown field: %(fields)s.")
                       % {"step": _step_label(step_id), "fields": ", ".join(unknown)})
            continue
        action_name = item.get("action")
        action = ACTIONS.get(action_name) if isinstance(action_name, str) else None
        if action is None:
            errors.add(where, _("%(step)s: choose an action (%(actions)s).")
                       % {"step": _step_label(step_id), "actions": ", ".join(ACTIONS)})
            continue
        if action.device and not has_device:
            errors.add(where, _("%(step)s: “%(action)s” acts on the event's device, and this trigger has none.")
                       % {"step": _step_label(step_id), "action": action.label})
            continue
        try:
            step_params = _clean_params(action, item.get("params"), step_id,
                                        (old_steps.get(step_id) or {}).get("params"), trigger)
        except ValidationError as exc:
            for key, messages in exc.errors.items():
                for message in messages:
                    errors.add(f"{where}.{key}" if key else where, message)
            continue
        on_success = item.get("on_success", NEXT) or NEXT
        on_failure = item.get("on_failure", END) or END
        clean.append({"id": step_id, "action": action.name, "params": step_params,
                      "on_success": on_success, "on_failure": on_failure})
    if errors.errors:
        return clean
    _check_branches(clean, errors)
    return clean


def _check_branches(steps: list[dict[str, Any]], errors: _Errors) -> None:
    """Every branch names an existing step, "next" or "end", and nothing loops (any cycle is refused)."""
    position = {s["id"]: i for i, s in enumerate(steps)}
    edges: dict[str, list[str]] = {}
    for i, step in enumerate(steps):
        targets = []
        for key in ("on_success", "on_failure"):
            target = step[key]
            if not isinstance(target, str):
                errors.add(f"steps.{step['id']}", _("%(step)s: a branch names a step, “next” or “end”.")
                           % {"step": _step_label(step["id"])})
                continue
            if target == END:
                continue
            if target == NEXT:
                if i + 1 < len(steps):
                    targets.append(steps[i + 1]["id"])
                continue
            if target not in position:
                errors.add(f"steps.{step['id']}", _("%(step)s goes to “%(target)s”, which is not a step of this "
                                                    "workflow.") % {"step": _step_label(step["id"]),
                                                                    "target": target[:40]})
                continue
            targets.append(target)
        edges[step["id"]] = targets
    if errors.errors:
        return
    # Depth-first search for a back edge: any cycle, not only a branch to an earlier step.
    state: dict[str, int] = {}

    def visit(node: str) -> str | None:
        state[node] = 1
        for target in edges[node]:
            if state.get(target) == 1:
                return f"{node}>{target}"
            if state.get(target) is None:
                found = visit(target)
                if found:
                    return found
        state[node] = 2
        return None

    for step in steps:
        if state.get(step["id"]) is None:
            loop = visit(step["id"])
            if loop:
                source, target = loop.split(">")
                errors.add(f"steps.{source}", _("%(step)s leads back to “%(target)s”: a workflow cannot loop.")
                           % {"step": _step_label(source), "target": target})
                return


def _is_id(value: Any) -> TypeGuard[int]:
    """Whether a value can name a row: a whole number (not a boolean) from 1 to MAX_ID."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _text(value: Any, name: str, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise ValueError(_("%(name)s is text of at most %(n)d characters.") % {"name": name, "n": limit})
    if required and not value.strip():
        raise ValueError(_("%(name)s is required.") % {"name": name})
    return value.strip()


def _clean_params(action: Action, raw: Any, step_id: str, old: Any, trigger: dict[str, Any]) -> dict[str, Any]:
    raw = raw or {}
    label = _step_label(step_id)
    if not isinstance(raw, dict):
        raise ValidationError(_("%(step)s: the parameters must be an object.") % {"step": label}, field="params")
    unknown = sorted(set(raw) - set(action.params))
    if unknown:
        raise ValidationError(_("%(step)s: “%(action)s” has no parameter %(names)s.")
                              % {"step": label, "action": action.label, "names": ", ".join(unknown)},
                              field="params")

    def bad(name: str, message: str) -> ValidationError:
        return ValidationError(_("%(step)s: %(message)s") % {"step": label, "message": message},
                               field=f"params.{name}")

    try:
        if action.name == "run_script":
            return _clean_script_params(raw, old, bad)
        if action.name == "run_action":
            if not isinstance(raw.get("action"), str) or raw["action"] not in AGENT_ACTIONS:
                raise bad("action", _("choose an agent action (%(actions)s).") % {"actions": ", ".join(AGENT_ACTIONS)})
            return {"action": raw["action"]}
        if action.name == "open_ticket":
            priority = raw.get("priority") or "auto"
            if priority not in ("auto", *PRIORITIES):
                raise bad("priority", _("the priority is auto or p1 to p4."))
            reuse = raw.get("reuse_open", False)
            if not isinstance(reuse, bool):
                raise bad("reuse_open", _("“add to the open ticket” is true or false."))
            title = _text(raw.get("title"), _("The title"), 200,
                          required=not TRIGGERS.get(trigger.get("event", ""), TRIGGERS["ticket.created"]).alert)
            return {"title": title, "priority": priority, "reuse_open": reuse}
        if action.name == "note_ticket":
            public = raw.get("public", False)
            if not isinstance(public, bool):
                raise bad("public", _("“visible to the client” is true or false."))
            return {"body": _text(raw.get("body"), _("The note"), 5000, required=True), "public": public}
        if action.name == "close_ticket":
            status = raw.get("status") or "closed"
            if status not in ("resolved", "closed"):
                raise bad("status", _("the status is resolved or closed."))
            untouched = raw.get("only_if_untouched", True)
            if not isinstance(untouched, bool):
                raise bad("only_if_untouched", _("“only if nobody worked on it” is true or false."))
            return {"status": status, "only_if_untouched": untouched}
        if action.name == "send_email":
            to = raw.get("to")
            if isinstance(to, str):
                to = [t.strip() for t in to.replace(";", ",").split(",") if t.strip()]
            if (not isinstance(to, list) or not to or len(to) > 10
                    or not all(isinstance(t, str) and len(t) <= 254 and EMAIL_RE.match(t) for t in to)):
                raise bad("to", _("give one to ten email addresses."))
            return {"to": to, "subject": _text(raw.get("subject"), _("The subject"), 200, required=True),
                    "body": _text(raw.get("body"), _("The message"), 5000, required=True)}
        if action.name == "call_webhook":
            sub = raw.get("subscription_id")
            if not _is_id(sub) or not WebhookSubscription.objects.filter(pk=sub).exists():
                raise bad("subscription_id", _("choose an existing webhook subscription."))
            return {"subscription_id": sub}
        if action.name == "set_device_field":
            name = raw.get("field")
            if not isinstance(name, str) or name not in DEVICE_FIELDS:
                raise bad("field", _("only these device fields may be set: %(fields)s.")
                          % {"fields": ", ".join(DEVICE_FIELDS)})
            value = raw.get("value")
            if name == "kind" and value not in DeviceKind.values:
                raise bad("value", _("the kind is one of: %(kinds)s.") % {"kinds": ", ".join(DeviceKind.values)})
            if name == "notes":
                value = _text(value, _("The notes"), 5000)
            return {"field": name, "value": value}
        if action.name == "add_device_tag":
            tag = raw.get("tag_id")
            if not _is_id(tag) or not Tag.objects.filter(pk=tag).exists():
                raise bad("tag_id", _("choose an existing tag."))
            return {"tag_id": tag}
    except ValueError as exc:
        raise ValidationError(_("%(step)s: %(message)s") % {"step": label, "message": exc}, field="params") \
            from None
    raise ValidationError(_("%(step)s: unknown action.") % {"step": label}, field="action")  # pragma: no cover


def _clean_script_params(raw: dict[str, Any], old: Any, bad: Any) -> dict[str, Any]:
    script_id = raw.get("script_id")
    script = None
    if _is_id(script_id):
        script = Script.objects.filter(pk=script_id).first()
    if script is None:
        raise bad("script_id", _("the script #%(id)s does not exist.") % {"id": str(script_id)[:20]})
    number = raw.get("version")
    if number is None:
        version = script.versions.filter(status=VersionStatus.SIGNED).order_by("-number").first()
        if version is None:
            raise bad("script_id", _("the script “%(script)s” has no signed version: an approver must sign it "
                                     "first.") % {"script": script.name})
    else:
        version = script.versions.filter(number=number).first() if _is_id(number) else None
        if version is None:
            raise bad("version", _("the script “%(script)s” has no version %(n)s.")
                      % {"script": script.name, "n": str(number)[:10]})
        if version.status != VersionStatus.SIGNED:
            raise bad("version", _("version %(n)d of “%(script)s” is not signed: only signed versions run.")
                      % {"n": version.number, "script": script.name})
    values = raw.get("parameters") or {}
    if not isinstance(values, dict):
        raise bad("parameters", _("the script's parameters must be an object."))
    old_values = (old or {}).get("parameters") or {} if isinstance(old, dict) else {}
    secret_names = {p["name"] for p in version.parameters if p["type"] == "secret"}
    values = {k: (old_values.get(k) if k in secret_names and v == params.SECRET_MARK else v)
              for k, v in values.items()}
    try:
        clean, secrets = params.clean_values(version.parameters, values)
    except ValidationError as exc:
        first_key = next(iter(exc.errors), "parameters")
        name = first_key.split(".", 1)[-1]
        raise bad(f"parameters.{name}", _("script parameter “%(name)s”: %(message)s")
                  % {"name": name, "message": exc.errors[first_key][0]}) from None
    result: dict[str, Any] = {"script_id": script.pk, "version": number, "parameters": {**clean, **secrets}}
    return result


def masked(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with secret script parameters shown as [secret] (for pages and the API)."""
    steps = []
    for step in definition.get("steps", []):
        if step.get("action") == "run_script":
            secret = _secret_names(step.get("params", {}))
            values = {k: (params.SECRET_MARK if k in secret else v)
                      for k, v in (step.get("params", {}).get("parameters") or {}).items()}
            step = {**step, "params": {**step["params"], "parameters": values}}
        steps.append(step)
    return {**definition, "steps": steps}


def _secret_names(step_params: dict[str, Any]) -> set[str]:
    version = _script_version(step_params)
    return {p["name"] for p in (version.parameters if version else []) if p["type"] == "secret"}


def _script_version(step_params: dict[str, Any]) -> ScriptVersion | None:
    versions = ScriptVersion.objects.filter(script_id=int(step_params.get("script_id") or 0),
                                           status=VersionStatus.SIGNED)
    if step_params.get("version") is not None:
        versions = versions.filter(number=step_params["version"])
    return versions.order_by("-number").first()


# --- Execution -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkflowActor:
    """Who acts when a workflow runs: the system, with a service manager's rights (tickets, jobs and devices
    of every client), named after the workflow and version in the audit log."""

    label: str
    role: str = Role.SERVICE_MANAGER
    pk: None = None
    email: str = ""
    is_authenticated: bool = True
    is_portal: bool = False
    is_active: bool = True

    def client_scope(self) -> frozenset[int] | None:
        return None

    def __str__(self) -> str:
        return self.label


def actor_for(version: WorkflowVersion) -> WorkflowActor:
    return WorkflowActor(label=f"workflow “{version.workflow.name}” v{version.number}")


@dataclass
class Outcome:
    """What a step did: success or failure, why, what it produced; a job to wait for."""

    ok: bool
    reason: str
    outputs: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    wait_job: Job | None = None
    wait_for: timedelta | None = None
    skipped: bool = False


def build_context(name: str, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The event's fields and the derived ones conditions use (OS family, device tags, business hours)."""
    ctx: dict[str, Any] = {"event": name, "at": at, **payload}
    device = None
    if payload.get("device_id"):
        device = Device.objects.filter(pk=payload["device_id"]).first()
    ctx["device"] = device
    ctx["os_family"] = device.os_family if device else None
    ctx["device_tag"] = list(device.tags.values_list("pk", flat=True)) if device else []
    ctx["alert_kind"] = payload.get("kind")
    ctx["contract_type"] = payload.get("type")
    return ctx


def _business_hours(client_id: int, at: datetime) -> bool:
    from tenfold.contracts.businesstime import is_open
    from tenfold.contracts.selectors import sla_terms_for_client

    return bool(is_open(sla_terms_for_client(client_id, at.date()).calendar, at))


def matches(conditions: list[dict[str, Any]], ctx: dict[str, Any]) -> bool:
    """Whether every condition holds for the event (all of them: they are joined by “and”)."""
    for condition in conditions:
        name, op, value = condition["field"], condition["op"], condition["value"]
        if name == "business_hours":
            if not ctx.get("client_id") or _business_hours(ctx["client_id"], ctx["at"]) != value:
                return False
            continue
        actual = ctx.get("client_id") if name == "client" else ctx.get(name)
        hit = bool(set(actual or []) & set(value)) if name == "device_tag" else actual in value
        if hit != (op == "in"):
            return False
    return True


def on_event(event: OutboxEvent) -> None:
    """The handler of every trigger event: start a run of each enabled workflow whose conditions match."""
    workflows = list(Workflow.objects.filter(enabled=True, trigger_event=event.name, current_version__isnull=False)
                     .select_related("current_version").order_by("pk"))
    if not workflows:
        return
    payload = dict(event.payload or {})
    client_id = payload.get("client_id") or event.client_id
    if not client_id:
        return
    payload["client_id"] = client_id
    ctx = build_context(event.name, payload, event.created_at)
    for workflow in workflows:
        version = workflow.current_version
        assert version is not None
        if matches(version.definition.get("conditions", []), ctx):
            start_run(workflow, version, ctx, trigger_key=f"event:{event.pk}")


def start_run(workflow: Workflow, version: WorkflowVersion, ctx: dict[str, Any], *,
              trigger_key: str) -> WorkflowRun | None:
    """Record the run (once per version and event: None when it already exists) and run its steps."""
    device = ctx.get("device")
    run = WorkflowRun(client_id=ctx["client_id"], workflow=workflow, version=version, trigger=ctx["event"],
                      trigger_key=trigger_key, device=device,
                      event_payload={k: v for k, v in ctx.items()
                                     if k not in ("device", "at", "event") and _jsonable(v)})
    try:
        with transaction.atomic():
            run.save(force_insert=True)
    except IntegrityError:
        return None
    steps = version.definition.get("steps", [])
    if steps:
        advance(run, steps[0]["id"])
    return run


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list)


def _steps_of(run: WorkflowRun) -> tuple[list[dict[str, Any]], dict[str, int]]:
    steps = run.version.definition.get("steps", [])
    return steps, {s["id"]: i for i, s in enumerate(steps)}


def _resolve(target: str, index: int, steps: list[dict[str, Any]]) -> str:
    if target == NEXT:
        return steps[index + 1]["id"] if index + 1 < len(steps) else END
    return target


def advance(run: WorkflowRun, step_id: str) -> None:
    """Run steps from `step_id` until the end or a job to wait for (then the run parks in "waiting")."""
    steps, position = _steps_of(run)
    sequence = run.steps.count()
    executed = 0
    now = timezone.now()
    while step_id != END:
        executed += 1
        if executed > MAX_STEPS_PER_RUN or step_id not in position:
            _finish(run, RunStatus.FAILED, _("The run stopped: too many steps or an unknown step."))
            return
        index = position[step_id]
        step = steps[index]
        sequence += 1
        started = timezone.now()
        try:
            with transaction.atomic():
                outcome = perform(run, step)
        except TenfoldError as exc:
            outcome = Outcome(False, str(exc.message if hasattr(exc, "message") else exc))
        record = WorkflowRunStep(client_id=run.client_id, run=run, sequence=sequence, step_id=step_id,
                                 action=step["action"], inputs=outcome.inputs, outputs=outcome.outputs,
                                 started_at=started, reason=outcome.reason[:500])
        if outcome.wait_job is not None:
            record.status = StepStatus.WAITING
            record.save(force_insert=True)
            run.status, run.current_step = RunStatus.WAITING, step_id
            run.waiting_job = outcome.wait_job
            run.wait_until = now + (outcome.wait_for or ACTION_WAIT)
            run.save(update_fields=["status", "current_step", "waiting_job", "wait_until", "ticket_id",
                                    "updated_at"])
            return
        record.status = (StepStatus.SKIPPED if outcome.skipped
                         else StepStatus.SUCCEEDED if outcome.ok else StepStatus.FAILED)
        step_id = _branch(record, step, index, steps, outcome.ok)
        record.finished_at = timezone.now()
        record.save(force_insert=True)
        if not outcome.ok and step_id == END:
            _finish(run, RunStatus.FAILED, outcome.reason)
            return
    _finish(run, RunStatus.SUCCEEDED, "")


def _branch(record: WorkflowRunStep, step: dict[str, Any], index: int, steps: list[dict[str, Any]],
            ok: bool) -> str:
    key = "on_success" if ok else "on_failure"
    target = _resolve(step[key], index, steps)
    record.branch = target
    why = _("succeeded") if ok else _("failed")
    if target == END:
        record.reason = f"{record.reason} · " + _("the step %(what)s: the run ends.") % {"what": why}
    else:
        record.reason = f"{record.reason} · " + _("the step %(what)s: next is “%(step)s”.") % {
            "what": why, "step": target}
    record.reason = record.reason.strip(" ·")[:500]
    return target


def _finish(run: WorkflowRun, status: str, error: str) -> None:
    run.status, run.finished_at, run.error = status, timezone.now(), error[:500]
    run.current_step, run.waiting_job, run.wait_until = "", None, None
    run.save(update_fields=["status", "finished_at", "error", "current_step", "waiting_job", "wait_until",
                            "ticket_id", "updated_at"])
    events.emit("workflow_run.finished", client_id=run.client_id, payload={
        "run_id": run.pk, "workflow_id": run.workflow_id, "version": run.version.number, "status": status})


def resume_after_job(job: Job) -> int:
    """Resume the runs waiting on a finished job: record its result, take the success or failure branch."""
    resumed = 0
    runs = list(WorkflowRun.objects.select_for_update(of=("self",)).select_related("version",
                                                                                   "version__workflow")
                .filter(status=RunStatus.WAITING, waiting_job_id=job.pk))
    for run in runs:
        ok = job.status == JobStatus.SUCCEEDED
        outputs = {"job_id": job.pk, "status": job.status, "exit_code": job.exit_code,
                   "stdout": (job.stdout or "")[-2000:], "stderr": (job.stderr or "")[-2000:],
                   "duration_ms": job.duration_ms}
        reason = (_("The job succeeded (exit code %(code)s).") if ok
                  else _("The job ended %(status)s (exit code %(code)s).")) % {
            "code": "—" if job.exit_code is None else job.exit_code, "status": job.get_status_display()}
        _complete_wait(run, ok, outputs, reason, StepStatus.SUCCEEDED if ok else StepStatus.FAILED)
        resumed += 1
    return resumed


def _complete_wait(run: WorkflowRun, ok: bool, outputs: dict[str, Any], reason: str, status: str) -> None:
    steps, position = _steps_of(run)
    index = position.get(run.current_step)
    record = run.steps.filter(step_id=run.current_step, status=StepStatus.WAITING).order_by("-sequence").first()
    if index is None or record is None:
        _finish(run, RunStatus.FAILED, _("The workflow's step is gone."))
        return
    record.status, record.outputs = status, {**record.outputs, **outputs}
    record.reason = reason
    target = _branch(record, steps[index], index, steps, ok)
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "outputs", "reason", "branch", "finished_at", "updated_at"])
    run.status, run.waiting_job, run.wait_until, run.current_step = RunStatus.RUNNING, None, None, ""
    run.save(update_fields=["status", "waiting_job", "wait_until", "current_step", "updated_at"])
    if target == END:
        if ok:
            _finish(run, RunStatus.SUCCEEDED, "")
        else:
            _finish(run, RunStatus.FAILED, reason)
        return
    advance(run, target)


def on_job_finished(event: OutboxEvent) -> None:
    """The `job.finished` handler: resume the runs waiting for this job."""
    job = Job.objects.filter(pk=int((event.payload or {}).get("job_id") or 0)).first()
    if job is not None and job.status not in (JobStatus.QUEUED, JobStatus.SENT, JobStatus.RUNNING):
        resume_after_job(job)


def sweep_waiting(now: datetime | None = None) -> int:
    """Time out runs whose job did not answer in time (their failure branch is taken), and resume runs whose
    job finished without its event reaching us. Returns how many runs moved."""
    now = now or timezone.now()
    moved = 0
    ids = list(WorkflowRun.objects.filter(status=RunStatus.WAITING).filter(wait_until__lt=now)
               .values_list("pk", flat=True)[:200])
    for run_id in ids:
        with transaction.atomic():
            run = (WorkflowRun.objects.select_for_update(of=("self",))
                   .select_related("version", "version__workflow", "waiting_job")
                   .filter(pk=run_id, status=RunStatus.WAITING).first())
            if run is None:
                continue
            job = run.waiting_job
            if job is not None and job.status not in (JobStatus.QUEUED, JobStatus.SENT, JobStatus.RUNNING):
                resume_after_job(job)
            else:
                _complete_wait(run, False, {"job_id": job.pk if job else None, "status": "timed_out"},
                               _("No result before %(at)s: the job timed out.")
                               % {"at": run.wait_until.isoformat(timespec="seconds") if run.wait_until else "—"},
                               StepStatus.TIMED_OUT)
            moved += 1
    return moved


def run_schedules(now: datetime | None = None) -> int:
    """Start the scheduled workflows that are due: once per client named by their conditions, each claimed
    by a conditional UPDATE (several workers start it once)."""
    now = now or timezone.now()
    started = 0
    for workflow in Workflow.objects.filter(enabled=True, current_version__isnull=False, next_run_at__lte=now) \
            .exclude(schedule="").select_related("current_version"):
        due = workflow.next_run_at
        assert due is not None
        claimed = Workflow.objects.filter(pk=workflow.pk, next_run_at=due).update(
            next_run_at=next_run(workflow.schedule, now))
        if not claimed:
            continue
        version = workflow.current_version
        assert version is not None
        conditions = version.definition.get("conditions", [])
        clients: list[int] = next((c["value"] for c in conditions if c["field"] == "client" and c["op"] == "in"), [])
        for client_id in clients:
            ctx = build_context(SCHEDULE, {"client_id": client_id}, due)
            if matches(conditions, ctx):
                with transaction.atomic():
                    if start_run(workflow, version, ctx, trigger_key=f"schedule:{due.isoformat()}"):
                        started += 1
    return started


# --- The actions ---------------------------------------------------------------------------------


def render(text: str, run: WorkflowRun) -> str:
    """`{field}` placeholders replaced by the event's fields (client, device, title, severity, …)."""
    values = dict(run.event_payload)
    values["client"] = run.client.name
    values["device"] = run.device.name if run.device else ""
    values["workflow"] = run.workflow.name
    return PLACEHOLDER_RE.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def perform(run: WorkflowRun, step: dict[str, Any]) -> Outcome:
    """Carry out one step through the owning app's services, as the workflow's actor."""
    actor = actor_for(run.version)
    action, p = step["action"], step["params"]
    handler = _PERFORMERS[action]
    return handler(run, p, actor)


def _device(run: WorkflowRun) -> Device:
    if run.device is None:
        raise ValidationError(_("The event names no device."))
    return run.device


def _run_script(run: WorkflowRun, p: dict[str, Any], actor: WorkflowActor) -> Outcome:
    from tenfold.automation import services

    script = Script.objects.filter(pk=p["script_id"]).first()
    if script is None:
        return Outcome(False, _("The script no longer exists."), inputs={"script_id": p["script_id"]})
    version = _script_version(p)
    secret = {x["name"] for x in (version.parameters if version else []) if x["type"] == "secret"}
    shown = {k: (params.SECRET_MARK if k in secret else v) for k, v in (p.get("parameters") or {}).items()}
    inputs = {"script": script.name, "script_id": script.pk, "version": version.number if version else None,
              "parameters": shown, "device": _device(run).name}
    [script_run] = services.script_run(actor=actor, script=script, device_ids=[_device(run).pk],
                                       parameters=p.get("parameters") or {},
                                       version_number=version.number if version else None)
    return Outcome(True, _("Job #%(job)s queued on %(device)s; waiting for its result.")
                   % {"job": script_run.job_id, "device": run.device.name if run.device else ""},
                   inputs=inputs, outputs={"job_id": script_run.job_id},
                   wait_job=script_run.job, wait_for=timedelta(seconds=script_run.job.timeout_seconds or 0)
                   + JOB_WAIT_MARGIN)


def _run_action(run: WorkflowRun, p: dict[str, Any], actor: WorkflowActor) -> Outcome:
    from tenfold.agents import services as agent_services

    device = _device(run)
    job = agent_services.job_create(actor=actor, device=device, kind=p["action"], payload={})
    return Outcome(True, _("Job #%(job)s queued on %(device)s; waiting for its result.")
                   % {"job": job.pk, "device": device.name}, inputs={"action": p["action"], "device": device.name},
                   outputs={"job_id": job.pk}, wait_job=job, wait_for=ACTION_WAIT)


def _alert(run: WorkflowRun) -> Any:
    from tenfold.monitoring.models import Alert

    alert_id = run.event_payload.get("alert_id")
    return Alert.objects.select_related("client", "device").filter(pk=alert_id).first() if alert_id else None


def _ticket_of(run: WorkflowRun) -> Any:
    """The run's ticket: the one a step opened, the event's, or the open ticket of the event's alert."""
    from tenfold.servicedesk.models import OPEN_STATUSES, EntryKind, Ticket

    tickets = Ticket.objects.select_related("client")
    if run.ticket_id:
        return tickets.filter(pk=run.ticket_id).first()
    if run.event_payload.get("ticket_id"):
        return tickets.filter(pk=run.event_payload["ticket_id"], client_id=run.client_id).first()
    alert_id = run.event_payload.get("alert_id")
    if alert_id:
        linked = tickets.filter(alert_id=alert_id, merged_into__isnull=True).order_by("-pk").first()
        if linked is None:  # an alert added to an open ticket of the same device and check
            linked = tickets.filter(entries__kind=EntryKind.ALERT_LINK, entries__alert_id=alert_id,
                                    status__in=OPEN_STATUSES, merged_into__isnull=True).order_by("-pk").first()
        return linked
    return None


def _open_ticket(run: WorkflowRun, p: dict[str, Any], actor: WorkflowActor) -> Outcome:
    from tenfold.servicedesk import services as desk
    from tenfold.servicedesk.models import OPEN_STATUSES, Ticket, TicketSource

    alert = _alert(run)
    inputs = {k: v for k, v in p.items()}
    if alert is not None:
        if p.get("reuse_open"):
            existing = (Ticket.objects.filter(alert__device_id=alert.device_id,
                                              alert__check_definition_id=alert.check_definition_id,
                                              alert__kind=alert.kind, status__in=OPEN_STATUSES,
                                              merged_into__isnull=True).exclude(alert=alert).order_by("pk").first()
                        if alert.check_definition_id or alert.kind == "offline" else None)
            if existing is not None and not Ticket.objects.filter(alert=alert, status__in=OPEN_STATUSES).exists():
                desk.ticket_link_alert(existing, alert)
                run.ticket_id = existing.pk
                return Outcome(True, _("Added to the open ticket %(number)s of the same device and check.")
                               % {"number": existing.number}, inputs=inputs,
                               outputs={"ticket_id": existing.pk, "number": existing.number, "added": True})
        ticket = desk.ticket_open_for_alert(alert)
        run.ticket_id = ticket.pk
        return Outcome(True, _("Ticket %(number)s is the alert's ticket.") % {"number": ticket.number},
                       inputs=inputs, outputs={"ticket_id": ticket.pk, "number": ticket.number})
    priority = p.get("priority") or "auto"
    data: dict[str, Any] = {"title": render(p.get("title") or run.workflow.name, run)[:200],
                            "description": _("Opened by the workflow “%(name)s”.") % {"name": run.workflow.name},
                            "priority": "p3" if priority == "auto" else priority, "type": "incident"}
    if run.device_id:
        data["device_ids"] = [run.device_id]
    ticket = desk.ticket_create(actor=actor, client=run.client, data=data, source=TicketSource.API)
    run.ticket_id = ticket.pk
    return Outcome(True, _("Ticket %(number)s opened.") % {"number": ticket.number}, inputs=inputs,
                   outputs={"ticket_id": ticket.pk, "number": ticket.number})


def _note_ticket(run: WorkflowRun, p: dict[str, Any], actor: WorkflowActor) -> Outcome:
    from tenfold.servicedesk import services as desk

    body = render(p["body"], run)
    ticket = _ticket_of(run)
    inputs = {"body": body, "public": p.get("public", False)}
    if ticket is None:
        return Outcome(True, _("No ticket to note: nothing to do."), inputs=inputs, skipped=True)
    entry = desk.ticket_reply(actor=actor, ticket=ticket, body=body, public=bool(p.get("public")))
    run.ticket_id = ticket.pk
    return Outcome(True, _("Note added to %(number)s.") % {"number": ticket.number}, inputs=inputs,
                   outputs={"ticket_id": ticket.pk, "number": ticket.number, "entry_id": entry.pk})


def worked_on(ticket: Any) -> list[str]:
    """Why a ticket counts as worked on: a public reply by staff, a time entry (empty: nobody worked on it)."""
    from tenfold.servicedesk.models import EntryKind, TimeEntry

    reasons = []
    if ticket.entries.filter(kind=EntryKind.REPLY_PUBLIC, author__isnull=False).exists():
        reasons.append(str(_("a public reply")))
    if TimeEntry.objects.filter(ticket=ticket).exists():
        reasons.append(str(_("a time entry")))
    return reasons


def _close_ticket(run: WorkflowRun, p: dict[str, Any], actor: WorkflowActor) -> Outcome:
    from tenfold.servicedesk import services as desk
    from tenfold.servicedesk.models import DONE_STATUSES

    ticket = _ticket_of(run)
    inputs = dict(p)
    if ticket is None:
        return Outcome(True, _("No ticket to close: nothing to do."), inputs=inputs, skipped=True)
    if ticket.status in DONE_STATUSES:
        return Outcome(True, _("%(number)s is already %(status)s.") % {"number": ticket.number,
                                                                     "status": ticket.get_status_display()},
                       inputs=inputs, outputs={"ticket_id": ticket.pk, "closed": False}, skipped=True)
    if p.get("only_if_untouched", True):
        reasons = worked_on(ticket)
        if reasons:
            return Outcome(True, _("%(number)s left open: someone worked on it (%(why)s).")
                           % {"number": ticket.number, "why": ", ".join(reasons)}, inputs=inputs,
                           outputs={"ticket_id": ticket.pk, "closed": False}, skipped=True)
    desk.ticket_set_status(actor=actor, ticket=ticket, status=p["status"])
    return Outcome(True, _("%(number)s set to %(status)s.") % {"number": ticket.number, "status": p["status"]},
                   inputs=inputs, outputs={"ticket_id": ticket.pk, "closed": True})


def _send_email(run: WorkflowRun, p: dict[str, Any], actor: WorkflowActor) -> Outcome:
    subject, body = render(p["subject"], run)[:200], render(p["body"], run)
    # Sent by the outbox handler after commit (retried when the mail server does not answer).
    events.emit("workflow.email_requested", client_id=run.client_id, payload={
        "run_id": run.pk, "to": p["to"], "subject": subject, "body": body})
    return Outcome(True, _("Email to %(to)s queued.") % {"to": ", ".join(p["to"])},
                   inputs={"to": p["to"], "subject": subject}, outputs={"queued": True})


def _call_webhook(run: WorkflowRun, p: dict[str, Any], actor: WorkflowActor) -> Outcome:
    from tenfold.automation import webhooks

    subscription = WebhookSubscription.objects.filter(pk=p["subscription_id"]).first()
    if subscription is None:
        return Outcome(False, _("The webhook subscription no longer exists."), inputs=dict(p))
    delivery = webhooks.enqueue(subscription, event="workflow.step", key=f"run:{run.pk}:{run.steps.count() + 1}",
                                data={"workflow": run.workflow.name, "version": run.version.number, "run_id": run.pk,
                                      "trigger": run.trigger, "event": run.event_payload},
                                client_id=run.client_id)
    return Outcome(True, _("Delivery #%(id)s queued to %(name)s.") % {"id": delivery.pk, "name": subscription.name},
                   inputs={"subscription": subscription.name}, outputs={"delivery_id": delivery.pk})


def _set_device_field(run: WorkflowRun, p: dict[str, Any], actor: WorkflowActor) -> Outcome:
    from tenfold.assets import services as asset_services

    device = _device(run)
    value = render(p["value"], run) if p["field"] == "notes" else p["value"]
    asset_services.device_update(actor=actor, device=device, data={p["field"]: value})
    return Outcome(True, _("%(device)s: %(field)s set.") % {"device": device.name, "field": p["field"]},
                   inputs={"field": p["field"], "value": value}, outputs={"device_id": device.pk})


def _add_device_tag(run: WorkflowRun, p: dict[str, Any], actor: WorkflowActor) -> Outcome:
    from tenfold.assets import services as asset_services

    device = _device(run)
    tag = Tag.objects.filter(pk=p["tag_id"]).first()
    if tag is None:
        return Outcome(False, _("The tag no longer exists."), inputs=dict(p))
    current = list(device.tags.values_list("pk", flat=True))
    if tag.pk in current:
        return Outcome(True, _("%(device)s already has the tag %(tag)s.") % {"device": device.name, "tag": tag.name},
                       inputs={"tag": tag.name}, skipped=True)
    asset_services.device_set_tags(actor=actor, device=device, tag_ids=[*current, tag.pk])
    return Outcome(True, _("Tag %(tag)s added to %(device)s.") % {"device": device.name, "tag": tag.name},
                   inputs={"tag": tag.name}, outputs={"device_id": device.pk})


_PERFORMERS = {"run_script": _run_script, "run_action": _run_action, "open_ticket": _open_ticket,
               "note_ticket": _note_ticket, "close_ticket": _close_ticket, "send_email": _send_email,
               "call_webhook": _call_webhook, "set_device_field": _set_device_field,
               "add_device_tag": _add_device_tag}


def on_email_requested(event: OutboxEvent) -> None:
    """Send a workflow's email (a failure raises: the outbox retries it with backoff)."""
    from django.core.mail import send_mail

    payload = event.payload or {}
    send_mail(str(payload.get("subject", ""))[:200], str(payload.get("body", "")), None,
              [str(t) for t in payload.get("to", [])][:10], fail_silently=False)


def latest_version_number(workflow: Workflow) -> int:
    return workflow.versions.order_by("-number").values_list("number", flat=True).first() or 0
