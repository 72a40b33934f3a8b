"""Typed script parameters: the schema a script declares, and the values a run gives it.

A schema is a list of `{"name", "label", "type", "required", "default", "choices"}`; the type is one of
string, number, boolean, choice, secret. Values reach the script as environment variables named
`TF_<NAME>` (never on the command line). A secret has no default, is never stored with the run and is
redacted from the job's output.
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.utils.translation import gettext as _

from tenfold.core.errors import ValidationError

TYPES = ("string", "number", "boolean", "choice", "secret")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_PARAMETERS = 20
MAX_CHOICES = 50
MAX_VALUE_LENGTH = 4000
SECRET_MARK = "[secret]"


def env_name(name: str) -> str:
    """The environment variable a parameter arrives in."""
    return "TF_" + name.upper()


def clean_schema(raw: Any) -> list[dict[str, Any]]:
    """A validated, normalised parameters schema; ValidationError naming `parameters.<i>.<field>`."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ValidationError(_("The parameters must be a list."), field="parameters")
    if len(raw) > MAX_PARAMETERS:
        raise ValidationError(_("A script has at most %(n)d parameters.") % {"n": MAX_PARAMETERS},
                              field="parameters")
    errors: dict[str, list[str]] = {}
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        where = f"parameters.{index}"
        if not isinstance(entry, dict):
            errors[where] = [_("Each parameter must be an object.")]
            continue
        unknown = sorted(set(entry) - {"name", "label", "type", "required", "default", "choices"})
        if unknown:
            errors[where] = [_("Unknown field: %(fields)s.") % {"fields": ", ".join(unknown)}]
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            errors[f"{where}.name"] = [_("A parameter name is lower-case letters, digits and _, starting with a "
                                         "letter (at most 40).")]
            continue
        if name in seen:
            errors[f"{where}.name"] = [_("Two parameters are named %(name)s.") % {"name": name}]
            continue
        seen.add(name)
        kind = entry.get("type")
        if kind not in TYPES:
            errors[f"{where}.type"] = [_("The type must be one of: %(types)s.") % {"types": ", ".join(TYPES)}]
            continue
        label = entry.get("label") or name
        if not isinstance(label, str) or len(label) > 100:
            errors[f"{where}.label"] = [_("The label is text of at most 100 characters.")]
            continue
        required = entry.get("required", False)
        if not isinstance(required, bool):
            errors[f"{where}.required"] = [_("required is true or false.")]
            continue
        clean: dict[str, Any] = {"name": name, "label": label, "type": kind, "required": required}
        if kind == "choice":
            choices = entry.get("choices")
            if (not isinstance(choices, list) or not choices or len(choices) > MAX_CHOICES
                    or not all(isinstance(c, str) and 0 < len(c) <= 100 for c in choices)
                    or len(set(choices)) != len(choices)):
                errors[f"{where}.choices"] = [_("A choice parameter lists 1 to %(n)d distinct choices of at most "
                                                "100 characters.") % {"n": MAX_CHOICES}]
                continue
            clean["choices"] = list(choices)
        elif entry.get("choices") not in (None, []):
            errors[f"{where}.choices"] = [_("Only a choice parameter has choices.")]
            continue
        default = entry.get("default")
        if default is not None:
            if kind == "secret":
                errors[f"{where}.default"] = [_("A secret parameter has no default.")]
                continue
            try:
                default = _value(clean, default)
            except ValueError as exc:
                errors[f"{where}.default"] = [str(exc)]
                continue
            clean["default"] = default
        result.append(clean)
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)
    return result


def _value(parameter: dict[str, Any], value: Any) -> Any:
    """One value checked against its parameter's type; ValueError with the message otherwise."""
    kind = parameter["type"]
    if kind in ("string", "secret"):
        if not isinstance(value, str):
            raise ValueError(_("Enter text."))
        if len(value) > MAX_VALUE_LENGTH or "\x00" in value:
            raise ValueError(_("At most %(n)d characters, without NUL.") % {"n": MAX_VALUE_LENGTH})
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(_("Enter a number."))
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(_("Enter true or false."))
        return value
    if value not in parameter.get("choices", []):
        raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(parameter.get("choices", []))})
    return value


def clean_values(schema: list[dict[str, Any]], raw: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate run values against a schema: `(ordinary values, secret values)`, defaults applied.

    Raises ValidationError naming `parameters.<name>` for a wrong type, a missing required value, a value
    outside the choices, or a parameter the script does not declare."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ValidationError(_("The parameters must be an object."), field="parameters")
    declared = {p["name"]: p for p in schema}
    errors: dict[str, list[str]] = {}
    for name in sorted(set(raw) - set(declared)):
        errors[f"parameters.{name}"] = [_("This script has no parameter %(name)s.") % {"name": name}]
    values: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    for name, parameter in declared.items():
        value = raw.get(name)
        if value is None or value == "":
            value = parameter.get("default")
        if value is None or value == "":
            if parameter["required"]:
                errors[f"parameters.{name}"] = [_("This parameter is required.")]
            continue
        try:
            value = _value(parameter, value)
        except ValueError as exc:
            errors[f"parameters.{name}"] = [str(exc)]
            continue
        if parameter["type"] == "secret":
            secrets[name] = value
        else:
            values[name] = value
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)
    return values, secrets


def env_value(value: Any) -> str:
    """How a value reads in the environment: true/false, numbers as written, text as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

