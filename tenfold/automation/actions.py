"""The catalogue of built-in agent actions a run can send instead of a script: their kind, label, the fields
of their parameter form, and the validation of their payload (clear errors by field).

The agent implements exactly these kinds and payloads; `install_updates` is built per device from the
device's approved missing updates (patching), so it takes no parameters here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenfold.core.errors import ValidationError

SERVICE_NAME = re.compile(r"^[A-Za-z0-9@._:-]{1,128}$")
SOURCE_NAME = re.compile(r"^[a-z0-9_-]{1,30}$")
MAX_REBOOT_DELAY = 1440
MAX_MESSAGE = 200
MAX_SOFTWARE_NAME = 300
CANCEL_JOB = "cancel_job"


@dataclass(frozen=True)
class ActionField:
    """One parameter of an action's form."""

    name: str
    label: Any
    kind: str  # "string", "integer"
    required: bool = False
    default: Any = None
    help: Any = ""
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None


@dataclass(frozen=True)
class Action:
    """A built-in agent action: the job kind, what it does, its parameters and how long it may take."""

    kind: str
    label: Any
    description: Any
    fields: tuple[ActionField, ...] = ()
    timeout_seconds: int = 600
    os_families: tuple[str, ...] = ("windows", "linux", "macos")
    clean: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda data: {})


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("This must be text."), field=name)
    return value.strip()


def _clean_restart(data: dict[str, Any]) -> dict[str, Any]:
    service = _text(data, "service")
    if not SERVICE_NAME.match(service):
        raise ValidationError(_("Name the service: 1 to 128 letters, digits or @ . _ : - (no spaces)."),
                              field="service")
    return {"service": service}


def _clean_reboot(data: dict[str, Any]) -> dict[str, Any]:
    delay = data.get("delay_minutes", 5)
    if delay is None or delay == "":
        delay = 5
    if isinstance(delay, str) and delay.strip().isdigit():
        delay = int(delay.strip())
    if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= MAX_REBOOT_DELAY:
        raise ValidationError(_("The delay is a whole number of minutes between 0 and %(max)d.")
                              % {"max": MAX_REBOOT_DELAY}, field="delay_minutes")
    message = _text(data, "message")
    if len(message) > MAX_MESSAGE or "\x00" in message:
        raise ValidationError(_("The message is at most %(max)d characters.") % {"max": MAX_MESSAGE},
                              field="message")
    return {"delay_minutes": delay, "message": message}


def _clean_uninstall(data: dict[str, Any]) -> dict[str, Any]:
    name = _text(data, "name")
    if not name or len(name) > MAX_SOFTWARE_NAME or "\x00" in name:
        raise ValidationError(_("Name the software to remove (at most %(max)d characters), as the inventory shows "
                                "it.") % {"max": MAX_SOFTWARE_NAME}, field="name")
    payload: dict[str, Any] = {"name": name}
    source = _text(data, "source")
    if source:
        if not SOURCE_NAME.match(source):
            raise ValidationError(_("The source is a short name such as winget, msi, apt, dnf or brew."),
                                  field="source")
        payload["source"] = source
    return payload


def _no_parameters(data: dict[str, Any]) -> dict[str, Any]:
    return {}


ACTIONS: dict[str, Action] = {a.kind: a for a in (
    Action("restart_service", gettext_lazy("Restart a service"),
           gettext_lazy("Restarts a Windows service or a systemd / launchd unit."),
           (ActionField("service", gettext_lazy("Service"), "string", required=True, max_length=128,
                        help=gettext_lazy("The service's name, e.g. Spooler, nginx or cron.service.")),),
           timeout_seconds=300, clean=_clean_restart),
    Action("reboot", gettext_lazy("Reboot"),
           gettext_lazy("Restarts the device after a delay, warning the logged-in user."),
           (ActionField("delay_minutes", gettext_lazy("Delay (minutes)"), "integer", default=5, min_value=0,
                        max_value=MAX_REBOOT_DELAY),
            ActionField("message", gettext_lazy("Message to the user"), "string", max_length=MAX_MESSAGE)),
           timeout_seconds=300, clean=_clean_reboot),
    Action("install_updates", gettext_lazy("Install approved updates"),
           gettext_lazy("Installs every approved update the device is missing, as the patch schedule would."),
           timeout_seconds=4 * 3600, clean=_no_parameters),
    Action("uninstall_software", gettext_lazy("Uninstall software"),
           gettext_lazy("Removes an installed program by its inventory name."),
           (ActionField("name", gettext_lazy("Software name"), "string", required=True,
                        max_length=MAX_SOFTWARE_NAME),
            ActionField("source", gettext_lazy("Source"), "string", max_length=30,
                        help=gettext_lazy("Optional: winget, msi, apt, dnf, brew…"))),
           timeout_seconds=1800, clean=_clean_uninstall),
    Action("run_checks_now", gettext_lazy("Run the checks now"),
           gettext_lazy("Runs the device's monitoring checks at once and reports them."),
           timeout_seconds=300, clean=_no_parameters),
    Action("collect_inventory_now", gettext_lazy("Collect the inventory now"),
           gettext_lazy("Sends a fresh hardware and software inventory."),
           timeout_seconds=300, clean=_no_parameters),
)}


def action_of(kind: Any) -> Action:
    """The action of this kind, or a ValidationError listing the kinds."""
    action = ACTIONS.get(kind) if isinstance(kind, str) else None
    if action is None:
        raise ValidationError(_("Choose an action: %(kinds)s.") % {"kinds": ", ".join(ACTIONS)}, field="action")
    return action


def clean_payload(kind: Any, data: Any) -> dict[str, Any]:
    """The validated payload of an action (install_updates: empty, its payload is built per device)."""
    action = action_of(kind)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError(_("The parameters must be an object."), field="parameters")
    unknown = sorted(set(data) - {f.name for f in action.fields})
    if unknown:
        raise ValidationError(_("Unknown parameter(s) for %(action)s: %(names)s.")
                              % {"action": action.kind, "names": ", ".join(unknown)}, field=unknown[0])
    return action.clean(data)


def catalogue() -> list[dict[str, Any]]:
    """The actions with their fields, for the run form and the API."""
    return [{"kind": a.kind, "label": str(a.label), "description": str(a.description),
             "timeout_seconds": a.timeout_seconds,
             "parameters": [{"name": f.name, "label": str(f.label), "type": f.kind, "required": f.required,
                             "default": f.default, "help": str(f.help)} for f in a.fields]}
            for a in ACTIONS.values()]
