"""Forms of the script screens; they only parse input, the services validate and write."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.automation.models import OS_FAMILIES, ScriptCategory, ScriptLanguage
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


class RunForm(forms.Form):
    """Run a signed script: the devices, then one field per parameter of the version's schema."""

    devices = forms.MultipleChoiceField(label=_("devices"), widget=forms.SelectMultiple(attrs={"size": 8}))

    def __init__(self, *args: Any, devices: list[Any], schema: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = schema
        choices = [(str(d.pk), f"{d.client.name} · {d.name} ({d.os_family or '?'})") for d in devices]
        self.fields["devices"].choices = choices  # type: ignore[attr-defined]
        for parameter in schema:
            name, label, required = parameter["name"], parameter["label"], parameter.get("required", False)
            default = parameter.get("default")
            kind = parameter["type"]
            field: forms.Field
            if kind == "number":
                field = forms.FloatField(label=label, required=required, initial=default)
            elif kind == "boolean":
                field = forms.BooleanField(label=label, required=False, initial=default)
            elif kind == "choice":
                field = forms.ChoiceField(label=label, required=required, initial=default,
                                          choices=[("", "—")] + [(c, c) for c in parameter.get("choices", [])])
            elif kind == "secret":
                field = forms.CharField(label=label, required=required, widget=forms.PasswordInput(render_value=False),
                                        strip=False, max_length=4000)
            else:
                field = forms.CharField(label=label, required=required, initial=default, max_length=4000)
            self.fields[f"param_{name}"] = field

    def parameter_values(self) -> dict[str, Any]:
        """The values by parameter name, typed as the schema says (numbers whole when they are)."""
        values: dict[str, Any] = {}
        for parameter in self.schema:
            value = self.cleaned_data.get(f"param_{parameter['name']}")
            if value is None or value == "":
                continue
            if parameter["type"] == "number" and float(value).is_integer():
                value = int(value)
            values[parameter["name"]] = value
        return values

    def device_ids(self) -> list[int]:
        return [int(v) for v in self.cleaned_data.get("devices", [])]


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
