"""Forms of the script screens; they only parse input, the services validate and write."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import DeviceKind, OsFamily
from tenfold.automation.models import OS_FAMILIES, GroupKind, ScriptCategory, ScriptLanguage
from tenfold.core.forms import add_service_errors  # noqa: F401 - the views' import path

OS_CHOICES = [("windows", _("Windows")), ("linux", _("Linux")), ("macos", _("macOS"))]
assert [c[0] for c in OS_CHOICES] == list(OS_FAMILIES)


class ScriptForm(forms.Form):
    """Create or change a script; a change of the body or of what is signed makes a new version."""

    name = forms.CharField(label=_("name"), max_length=200)
    description = forms.CharField(label=_("description"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ChoiceField(label=_("category"), choices=ScriptCategory.choices)
    language = forms.ChoiceField(label=_("language"), choices=ScriptLanguage.choices)
    os_families = forms.MultipleChoiceField(label=_("operating systems"), choices=OS_CHOICES,
                                            widget=forms.CheckboxSelectMultiple)
    timeout_seconds = forms.IntegerField(label=_("timeout (s)"), initial=300)
    parameters = forms.CharField(
        label=_("parameters (JSON)"), required=False, widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
        help_text=_('A list such as [{"name": "service", "label": "Service", "type": "string", "required": true}]; '
                    "types: string, number, boolean, choice (with choices), secret."))
    body = forms.CharField(label=_("body"), widget=forms.Textarea(attrs={"rows": 16, "class": "mono"}),
                           strip=False)

    def clean_parameters(self) -> Any:
        raw = self.cleaned_data.get("parameters") or "[]"
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(_("This is not valid JSON.")) from exc

    def service_data(self) -> dict[str, Any]:
        """Cleaned values in the shape script_create/script_update take."""
        return dict(self.cleaned_data)


WHEN_CHOICES = [("now", _("Now")), ("once", _("Later, once")), ("daily", _("Every day")),
                ("weekly", _("Every week")), ("monthly", _("Every month")), ("cron", _("Cron expression"))]
TARGET_CHOICES = [("devices", _("Chosen devices")), ("group", _("A device group")),
                  ("client", _("Every device of a client"))]
WEEKDAY_CHOICES = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
                   (5, _("Saturday")), (6, _("Sunday"))]


class TargetForm(forms.Form):
    """Where a run goes (devices, a group, a client) and when (now, once later, or recurring)."""

    target = forms.ChoiceField(label=_("run on"), choices=TARGET_CHOICES, required=False)
    devices = forms.MultipleChoiceField(label=_("devices"), required=False,
                                        widget=forms.SelectMultiple(attrs={"size": 8}))
    group = forms.TypedChoiceField(label=_("device group"), coerce=int, required=False, empty_value=None)
    client = forms.TypedChoiceField(label=_("client"), coerce=int, required=False, empty_value=None)
    when = forms.ChoiceField(label=_("when"), choices=WHEN_CHOICES, initial="now", required=False)
    schedule_name = forms.CharField(label=_("name of the scheduled run"), max_length=200, required=False)
    run_at = forms.DateTimeField(label=_("at"), required=False,
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                 input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    time = forms.TimeField(label=_("time of day"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    weekday = forms.TypedChoiceField(label=_("day of the week"), choices=WEEKDAY_CHOICES, coerce=int,
                                     required=False, empty_value=None)
    day_of_month = forms.IntegerField(label=_("day of the month"), min_value=1, max_value=28, required=False)
    cron = forms.CharField(label=_("cron expression"), max_length=100, required=False,
                           help_text=_("Five fields: minute hour day-of-month month day-of-week, in the MSP's "
                                       "time zone."))

    def __init__(self, *args: Any, devices: list[Any], groups: list[Any], clients: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["devices"].choices = [  # type: ignore[attr-defined]
            (str(d.pk), f"{d.client.name} · {d.name} ({d.os_family or '?'})") for d in devices]
        self.fields["group"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (g.pk, f"{g.name}" + (f" ({g.client.name})" if g.client_id else "")) for g in groups]
        self.fields["client"].choices = [("", "—")] + [(c.pk, c.name) for c in clients]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target = data.get("target") or "devices"
        data["target"] = target
        if target == "devices" and not data.get("devices"):
            self.add_error("devices", _("Choose one or more devices."))
        if target == "group" and not data.get("group"):
            self.add_error("group", _("Choose a group."))
        if target == "client" and not data.get("client"):
            self.add_error("client", _("Choose a client."))
        data["when"] = data.get("when") or "now"
        if data["when"] != "now" and not (data.get("schedule_name") or "").strip():
            self.add_error("schedule_name", _("Name the scheduled run."))
        return data

    def target_ids(self) -> dict[str, Any]:
        """device_ids, group_id or client_id, as the services take them."""
        target = self.cleaned_data["target"]
        return {"device_ids": [int(v) for v in self.cleaned_data.get("devices") or []] if target == "devices" else None,
                "group_id": self.cleaned_data.get("group") if target == "group" else None,
                "client_id": self.cleaned_data.get("client") if target == "client" else None}

    def schedule_data(self) -> dict[str, Any]:
        """The schedule fields as scheduled_run_create takes them."""
        data = self.cleaned_data
        return {"name": data.get("schedule_name"), "schedule_kind": data["when"], "run_at": data.get("run_at"),
                "time": data.get("time"), "weekday": data.get("weekday"), "day_of_month": data.get("day_of_month"),
                "cron": data.get("cron") or ""}


def rename_service_field(name: str) -> str:
    """Service field names → this form's."""
    if name.startswith("parameters."):
        return "param_" + name.split(".", 1)[1]
    return {"device_ids": "devices", "group_id": "group", "client_id": "client", "name": "schedule_name",
            "schedule_kind": "when"}.get(name, name)


def parameter_field(parameter: dict[str, Any]) -> forms.Field:
    """The form field of one script parameter."""
    name, label, required = parameter["name"], parameter["label"], parameter.get("required", False)
    default = parameter.get("default")
    kind = parameter["type"]
    if kind == "number":
        return forms.FloatField(label=label, required=required, initial=default)
    if kind == "boolean":
        return forms.BooleanField(label=label, required=False, initial=default)
    if kind == "choice":
        return forms.ChoiceField(label=label, required=required, initial=default,
                                 choices=[("", "—")] + [(c, c) for c in parameter.get("choices", [])])
    if kind == "secret":
        return forms.CharField(label=label, required=required, widget=forms.PasswordInput(render_value=False),
                               strip=False, max_length=4000)
    del name
    return forms.CharField(label=label, required=required, initial=default, max_length=4000)


def typed_values(schema: list[dict[str, Any]], cleaned: dict[str, Any]) -> dict[str, Any]:
    """The values by parameter name, typed as the schema says (numbers whole when they are)."""
    values: dict[str, Any] = {}
    for parameter in schema:
        value = cleaned.get(f"param_{parameter['name']}")
        if value is None or value == "":
            continue
        if parameter["type"] == "number" and float(value).is_integer():
            value = int(value)
        values[parameter["name"]] = value
    return values


class RunForm(TargetForm):
    """Run a signed script: where, when, then one field per parameter of the version's schema."""

    def __init__(self, *args: Any, schema: list[dict[str, Any]], **kwargs: Any) -> None:
        kwargs.setdefault("groups", [])
        kwargs.setdefault("clients", [])
        super().__init__(*args, **kwargs)
        self.schema = schema
        for parameter in schema:
            self.fields[f"param_{parameter['name']}"] = parameter_field(parameter)

    def parameter_values(self) -> dict[str, Any]:
        return typed_values(self.schema, self.cleaned_data)

    def device_ids(self) -> list[int]:
        return [int(v) for v in self.cleaned_data.get("devices", [])]


class ActionRunForm(TargetForm):
    """Send a built-in agent action: where, when, and the action's own parameters."""

    def __init__(self, *args: Any, action: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action
        for spec in action.fields:
            field: forms.Field
            if spec.kind == "integer":
                field = forms.IntegerField(label=spec.label, required=spec.required, initial=spec.default,
                                           min_value=spec.min_value, max_value=spec.max_value, help_text=spec.help)
            else:
                field = forms.CharField(label=spec.label, required=spec.required, initial=spec.default,
                                        max_length=spec.max_length, help_text=spec.help)
            self.fields[f"param_{spec.name}"] = field

    def payload(self) -> dict[str, Any]:
        values = {}
        for spec in self.action.fields:
            value = self.cleaned_data.get(f"param_{spec.name}")
            if value is not None and value != "":
                values[spec.name] = value
        return values


def _as_schedule_edit(form: TargetForm) -> None:
    """The run form as a scheduled run's edit page: a schedule is required ("now" is not one), and a name."""
    form.fields["when"].choices = WHEN_CHOICES[1:]  # type: ignore[attr-defined]
    form.fields["when"].required = True
    form.fields["schedule_name"].required = True
    form.fields["run_at"].widget.format = "%Y-%m-%dT%H:%M"  # type: ignore[attr-defined]  # datetime-local's value


class ScheduledScriptForm(RunForm):
    """Change a scheduled script run: its name, target, schedule and the values of the version's parameters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _as_schedule_edit(self)


class ScheduledActionForm(ActionRunForm):
    """Change a scheduled agent action: its name, target, schedule and the action's parameters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _as_schedule_edit(self)


def scheduled_initial(data: dict[str, Any]) -> dict[str, Any]:
    """A scheduled run's values (as services.scheduled_run_data gives them) under the edit form's field names."""
    target = "group" if data.get("group_id") else "client" if data.get("client_id") else "devices"
    initial = {"target": target, "devices": [str(pk) for pk in data.get("device_ids") or []],
               "group": data.get("group_id"), "client": data.get("client_id"), "when": data["schedule_kind"],
               "schedule_name": data["name"], "run_at": data.get("run_at"), "time": data.get("time"),
               "weekday": data.get("weekday"), "day_of_month": data.get("day_of_month"), "cron": data.get("cron")}
    initial.update({f"param_{name}": value for name, value in (data.get("parameters") or {}).items()})
    return initial


class RetryForm(forms.Form):
    """Retry a run's failed devices; its secret parameters are asked again (they are never kept)."""

    def __init__(self, *args: Any, secret_parameters: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for parameter in secret_parameters:
            self.fields[f"param_{parameter['name']}"] = forms.CharField(
                label=parameter["label"], required=True, strip=False, max_length=4000,
                widget=forms.PasswordInput(render_value=False))

    def secrets(self) -> dict[str, Any]:
        return {name[len("param_"):]: value for name, value in self.cleaned_data.items() if name.startswith("param_")}


ONLINE_CHOICES = [("", "—"), ("online", _("Online")), ("offline", _("Offline"))]


class GroupForm(forms.Form):
    """A device group: whose it is, static (chosen devices) or dynamic (filters)."""

    name = forms.CharField(label=_("name"), max_length=200)
    description = forms.CharField(label=_("description"), max_length=500, required=False)
    owner = forms.TypedChoiceField(label=_("owned by"), coerce=int, required=False, empty_value=None,
                                   help_text=_("The MSP (it may span clients) or one client."))
    kind = forms.ChoiceField(label=_("kind"), choices=GroupKind.choices, initial=GroupKind.DYNAMIC)
    os_family = forms.ChoiceField(label=_("OS family"), required=False,
                                  choices=[("", "—"), *list(OsFamily.choices)])
    filter_client = forms.TypedChoiceField(label=_("client"), coerce=int, required=False, empty_value=None)
    site = forms.TypedChoiceField(label=_("site"), coerce=int, required=False, empty_value=None)
    tag = forms.TypedChoiceField(label=_("tag"), coerce=int, required=False, empty_value=None)
    software = forms.CharField(label=_("software installed (name contains)"), max_length=100, required=False)
    device_kind = forms.ChoiceField(label=_("device kind"), required=False,
                                    choices=[("", "—"), *list(DeviceKind.choices)])
    online = forms.ChoiceField(label=_("online or offline"), choices=ONLINE_CHOICES, required=False)
    devices = forms.MultipleChoiceField(label=_("devices (static group)"), required=False,
                                        widget=forms.SelectMultiple(attrs={"size": 10}))

    def __init__(self, *args: Any, clients: list[Any], sites: list[Any], tags: list[Any], devices: list[Any],
                 editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client_choices = [(c.pk, c.name) for c in clients]
        self.fields["owner"].choices = [("", _("The MSP")), *client_choices]  # type: ignore[attr-defined]
        self.fields["filter_client"].choices = [("", "—"), *client_choices]  # type: ignore[attr-defined]
        self.fields["site"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (s.pk, f"{s.client.name} · {s.name}") for s in sites]
        self.fields["tag"].choices = [("", "—")] + [(t.pk, t.name) for t in tags]  # type: ignore[attr-defined]
        self.fields["devices"].choices = [  # type: ignore[attr-defined]
            (str(d.pk), f"{d.client.name} · {d.name}") for d in devices]
        if editing:
            del self.fields["owner"]

    def service_data(self) -> dict[str, Any]:
        """The cleaned values in the shape group_create / group_update take."""
        data = self.cleaned_data
        out: dict[str, Any] = {"name": data["name"], "description": data.get("description") or "",
                               "kind": data["kind"]}
        if "owner" in self.fields:
            out["client_id"] = data.get("owner")
        if data["kind"] == GroupKind.STATIC:
            out["device_ids"] = [int(v) for v in data.get("devices") or []]
            out["filters"] = {}
        else:
            out["filters"] = {k: v for k, v in {
                "os_family": data.get("os_family"), "client_id": data.get("filter_client"),
                "site_id": data.get("site"), "tag_id": data.get("tag"), "software": data.get("software"),
                "device_kind": data.get("device_kind"), "online": data.get("online")}.items() if v not in (None, "")}
        return out


def rename_group_field(name: str) -> str:
    """Group service field names → this form's."""
    return {"client_id": "owner", "device_ids": "devices", "filters.os_family": "os_family",
            "filters.client_id": "filter_client", "filters.site_id": "site", "filters.tag_id": "tag",
            "filters.software": "software", "filters.device_kind": "device_kind",
            "filters.online": "online"}.get(name, name)


class KeyForm(forms.Form):
    """Register a public key made with `tenfold sign keygen` (and countersigned when a key exists)."""

    name = forms.CharField(label=_("name"), max_length=100)
    owner = forms.TypedChoiceField(label=_("owner"), coerce=int)
    public_key = forms.CharField(label=_("public key"), max_length=100)
    countersigned_by = forms.CharField(label=_("countersigned by (key id)"), max_length=40, required=False)
    countersignature = forms.CharField(label=_("countersignature"), max_length=100, required=False)

    def __init__(self, *args: Any, owners: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(u.pk, str(u)) for u in owners]  # type: ignore[attr-defined]


class RevokeForm(forms.Form):
    """A revocation made with `tenfold sign revoke KEY_ID --key other.pem`."""

    revoked_by = forms.CharField(label=_("revoked by (key id)"), max_length=40)
    signature = forms.CharField(label=_("revocation signature"), max_length=100)
