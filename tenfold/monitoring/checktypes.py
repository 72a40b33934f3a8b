"""The check types of the agent protocol (docs/agent-protocol.md) and the validation of their `params`.

`clean_params(check_type, params)` returns the complete, normalised params (defaults filled in) or raises
a ValidationError whose `errors` name each bad parameter as `params.<name>`, so the API and the forms
can show the message beside the field. The limits are the agent's own (agent/tenfold_agent/checks.py):
a check the server accepts is one the agent can run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenfold.core.errors import ValidationError

HOST_RE = re.compile(r"^[A-Za-z0-9_.:\[\]%][A-Za-z0-9_.:\[\]%\-]*$")


class CheckType(models.TextChoices):
    CPU = "cpu", _("CPU")
    MEMORY = "memory", _("Memory")
    DISK_FREE = "disk_free", _("Disk free space")
    SERVICE = "service", _("Service running")
    PROCESS = "process", _("Process running")
    PING = "ping", _("Ping")
    TCP_PORT = "tcp_port", _("TCP port")
    HTTP = "http", _("HTTP(S)")
    LOG_PATTERN = "log_pattern", _("Log pattern")
    SCRIPT = "script", _("Custom script")


@dataclass(frozen=True)
class Param:
    """One parameter of a check type: its kind, limits and default (None: required)."""

    name: str
    kind: str  # "number", "integer", "text", "host", "url", "regex"
    label: Any
    default: Any = None
    required: bool = False
    lo: float | None = None
    hi: float | None = None
    max_length: int = 255
    help: Any = ""


def _pct(name: str, label: Any, default: float) -> Param:
    return Param(name, "number", label, default, lo=0, hi=100)


WARN_PCT, FAIL_PCT = _("Warning at (%)"), _("Failure at (%)")
PARAMS: dict[str, tuple[Param, ...]] = {
    CheckType.CPU: (_pct("warn_pct", WARN_PCT, 85), _pct("fail_pct", FAIL_PCT, 95),
                    Param("samples", "integer", _("Samples"), 1, lo=1, hi=60)),
    CheckType.MEMORY: (_pct("warn_pct", WARN_PCT, 85), _pct("fail_pct", FAIL_PCT, 95)),
    CheckType.DISK_FREE: (Param("mount", "text", _("Mount point or drive"), required=True,
                                help=_("e.g. / or C:\\")),
                          # Translators: xgettext:no-python-format ("% free" is text, not a placeholder)
                          _pct("warn_pct", _("Warning below (% free)"), 20),
                          # Translators: xgettext:no-python-format
                          _pct("fail_pct", _("Failure below (% free)"), 10)),
    CheckType.SERVICE: (Param("name", "text", _("Service name"), required=True),),
    CheckType.PROCESS: (Param("name", "text", _("Process name"), required=True),),
    CheckType.PING: (Param("host", "host", _("Host"), required=True),
                     Param("count", "integer", _("Echo requests"), 3, lo=1, hi=20),
                     Param("timeout_s", "number", _("Timeout (s)"), 2, lo=0.1, hi=60)),
    CheckType.TCP_PORT: (Param("host", "host", _("Host"), required=True),
                         Param("port", "integer", _("Port"), required=True, lo=1, hi=65535),
                         Param("timeout_s", "number", _("Timeout (s)"), 5, lo=0.1, hi=120)),
    CheckType.HTTP: (Param("url", "url", _("URL"), required=True, max_length=2000),
                     Param("expect_status", "integer", _("Expected status"), 200, lo=100, hi=599),
                     Param("timeout_s", "number", _("Timeout (s)"), 10, lo=0.1, hi=120),
                     Param("max_latency_ms", "number", _("Warning above (ms)"), lo=1, hi=600000)),
    CheckType.LOG_PATTERN: (Param("source", "text", _("Log source"), required=True, max_length=500,
                                  help=_("journal, a file path, or a Windows event log name")),
                            Param("pattern", "regex", _("Pattern (regular expression)"), required=True,
                                  max_length=500),
                            Param("window_s", "integer", _("Window (s)"), 300, lo=1, hi=7 * 86400)),
    CheckType.SCRIPT: (Param("script_id", "integer", _("Script id"), required=True, lo=1, hi=2**31 - 1),
                       Param("timeout_s", "integer", _("Timeout (s)"), 300, lo=1, hi=3600)),
}

ALL_PARAM_NAMES: tuple[str, ...] = tuple(dict.fromkeys(p.name for params in PARAMS.values() for p in params))


def params_for(check_type: str) -> tuple[Param, ...]:
    """The parameters of a check type (empty for an unknown one)."""
    return PARAMS.get(check_type, ())


def _number(param: Param, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        try:
            value = float(text) if param.kind == "number" else int(text)
        except ValueError:
            return None, str(_("Enter a number.") if param.kind == "number" else _("Enter a whole number."))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, str(_("Enter a number.") if param.kind == "number" else _("Enter a whole number."))
    if param.kind == "integer":
        if isinstance(value, float) and not value.is_integer():
            return None, str(_("Enter a whole number."))
        value = int(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if value != value or (param.lo is not None and value < param.lo) or (param.hi is not None and value > param.hi):
        return None, str(_("Enter a value between %(lo)s and %(hi)s.") % {"lo": f"{param.lo:g}",
                                                                         "hi": f"{param.hi:g}"})
    return value, None


def _text(param: Param, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return None, str(_("Enter text."))
    value = value.strip()
    if len(value) > param.max_length:
        return None, str(_("Enter at most %(n)s characters.") % {"n": param.max_length})
    if param.kind == "text" and value.startswith("-"):
        return None, str(_("It may not start with “-”."))
    if param.kind == "host" and not HOST_RE.match(value):
        return None, str(_("Enter a host name or an IP address."))
    if param.kind == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None, str(_("Enter an http:// or https:// URL."))
    if param.kind == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            return None, str(_("Not a valid regular expression: %(error)s") % {"error": exc})
    return value, None


CHECKERS: dict[str, Callable[[Param, Any], tuple[Any, str | None]]] = {
    "number": _number, "integer": _number, "text": _text, "host": _text, "url": _text, "regex": _text}


def clean_params(check_type: str, params: Any) -> dict[str, Any]:
    """The params of a check, complete and normalised; ValidationError naming each bad parameter."""
    if check_type not in PARAMS:
        raise ValidationError(_("Choose a check type: %(types)s.") % {"types": ", ".join(PARAMS)},
                              field="check_type")
    if not isinstance(params, dict):
        raise ValidationError(_("Parameters must be an object."), field="params")
    errors: dict[str, list[str]] = {}
    known = {p.name for p in PARAMS[check_type]}
    for name in sorted(set(params) - known):
        errors[f"params.{name}"] = [str(_("Unknown parameter for a %(type)s check.") % {"type": check_type})]
    clean: dict[str, Any] = {}
    for param in PARAMS[check_type]:
        value = params.get(param.name)
        if value is None or value == "":
            if param.required:
                errors[f"params.{param.name}"] = [str(_("This parameter is required."))]
            elif param.default is not None:
                clean[param.name] = param.default
            continue
        value, problem = CHECKERS[param.kind](param, value)
        if problem:
            errors[f"params.{param.name}"] = [problem]
        elif value == "" and param.required:
            errors[f"params.{param.name}"] = [str(_("This parameter is required."))]
        else:
            clean[param.name] = value
    if not errors and "warn_pct" in clean and "fail_pct" in clean:
        if check_type == CheckType.DISK_FREE and clean["fail_pct"] > clean["warn_pct"]:
            errors["params.fail_pct"] = [str(_("The failure level must be at or below the warning level "
                                               "(less free space is worse)."))]
        elif check_type != CheckType.DISK_FREE and clean["fail_pct"] < clean["warn_pct"]:
            errors["params.fail_pct"] = [str(_("The failure level must be at or above the warning level."))]
    if errors:
        first = next(iter(errors.items()))
        raise ValidationError(f"{first[0]}: {first[1][0]}", errors=errors)
    return clean


def target_of(check_type: str, params: dict[str, Any]) -> str:
    """What a check watches, beyond its type: a narrower policy's check of the same type and target
    replaces a broader one (a device's own disk check on C:\\ overrides the client's)."""
    if check_type == CheckType.DISK_FREE:
        return str(params.get("mount", ""))
    if check_type in (CheckType.SERVICE, CheckType.PROCESS):
        return str(params.get("name", "")).lower()
    if check_type == CheckType.PING:
        return str(params.get("host", "")).lower()
    if check_type == CheckType.TCP_PORT:
        return f"{str(params.get('host', '')).lower()}:{params.get('port', '')}"
    if check_type == CheckType.HTTP:
        return str(params.get("url", ""))
    if check_type == CheckType.LOG_PATTERN:
        return f"{params.get('source', '')}|{params.get('pattern', '')}"
    if check_type == CheckType.SCRIPT:
        return str(params.get("script_id", ""))
    return ""  # cpu, memory: one per device


DEFAULT_COLLECTORS: dict[str, Any] = {"inventory_hours": 24, "backup_tools": [], "network_discovery": False}
BACKUP_TOOLS = ("restic", "windows_server_backup", "veeam", "time_machine")
COLLECTOR_KEYS = ("inventory_hours", "backup_tools", "network_discovery", "antivirus", "os_updates",
                  "backup_max_age_hours", "updates_interval")
# How often the agent lists available updates (seconds); without a setting it lists them every 6 hours.
MIN_UPDATES_INTERVAL_S = 900
MAX_UPDATES_INTERVAL_S = 7 * 24 * 3600


def clean_collectors(value: Any) -> dict[str, Any]:
    """A policy's collectors: only the keys it sets (a narrower policy overrides key by key)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_("Collectors must be an object."), field="collectors")
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key in sorted(set(value) - set(COLLECTOR_KEYS)):
        errors[f"collectors.{key}"] = [str(_("Unknown collector setting."))]
    for key in ("inventory_hours", "backup_max_age_hours"):
        if key in value and value[key] is not None:
            item = value[key]
            if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 24 * 31:
                errors[f"collectors.{key}"] = [str(_("Enter a whole number of hours between 1 and 744."))]
            else:
                clean[key] = item
    if "updates_interval" in value and value["updates_interval"] is not None:
        item = value["updates_interval"]
        if isinstance(item, bool) or not isinstance(item, int) or not (
                MIN_UPDATES_INTERVAL_S <= item <= MAX_UPDATES_INTERVAL_S):
            errors["collectors.updates_interval"] = [str(_(
                "Enter a whole number of seconds between %(low)s (15 minutes) and %(high)s (7 days).")
                % {"low": MIN_UPDATES_INTERVAL_S, "high": MAX_UPDATES_INTERVAL_S})]
        else:
            clean["updates_interval"] = item
    for key in ("network_discovery", "antivirus", "os_updates"):
        if key in value and value[key] is not None:
            if not isinstance(value[key], bool):
                errors[f"collectors.{key}"] = [str(_("Enter true or false."))]
            else:
                clean[key] = value[key]
    if "backup_tools" in value and value["backup_tools"] is not None:
        tools = value["backup_tools"]
        if not isinstance(tools, list) or any(t not in BACKUP_TOOLS for t in tools):
            errors["collectors.backup_tools"] = [str(_("Choose backup tools among: %(tools)s.")
                                                     % {"tools": ", ".join(BACKUP_TOOLS)})]
        else:
            clean["backup_tools"] = list(dict.fromkeys(tools))
    if errors:
        first = next(iter(errors.items()))
        raise ValidationError(f"{first[0]}: {first[1][0]}", errors=errors)
    return clean
