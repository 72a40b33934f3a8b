"""Forms of the monitoring screens; they only parse input, the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import Device, OsFamily, Tag
from tenfold.clients.models import Client, Site
from tenfold.core.forms import add_service_errors as shared_add_service_errors
from tenfold.monitoring.checktypes import BACKUP_TOOLS, CheckType, params_for
from tenfold.monitoring.models import MAX_INTERVAL_S, MIN_INTERVAL_S, PolicyScope, Severity

INHERIT = [("", _("Inherit")), ("true", _("On")), ("false", _("Off"))]


class CollectorsMixin(forms.Form):
    """The collector settings of a policy; an empty field inherits from broader policies."""

    inventory_hours = forms.IntegerField(label=_("Inventory every (hours)"), required=False, min_value=1,
                                         max_value=744)
    backup_tools = forms.MultipleChoiceField(label=_("Backup tools"), required=False,
                                             choices=[(t, t) for t in BACKUP_TOOLS],
                                             widget=forms.CheckboxSelectMultiple)
    backup_max_age_hours = forms.IntegerField(label=_("Backup older than (hours) is stale"), required=False,
                                              min_value=1, max_value=744)
    network_discovery = forms.ChoiceField(label=_("Network discovery"), choices=INHERIT, required=False)
    # Bounds are the service's, so that its message shows beside the field.
    updates_interval = forms.IntegerField(
        label=_("List available updates every (seconds)"), required=False,
        help_text=_("From 900 (15 minutes) to 604800 (7 days); empty inherits (6 hours without any setting)."))
    antivirus = forms.ChoiceField(label=_("Antivirus posture"), choices=INHERIT, required=False)
    os_updates = forms.ChoiceField(label=_("OS updates posture"), choices=INHERIT, required=False)

    def initial_collectors(self, collectors: dict[str, Any]) -> None:
        for key, value in (collectors or {}).items():
            if key in self.fields:
                self.initial[key] = ("true" if value else "false") if isinstance(value, bool) else value

    def collectors_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        collectors: dict[str, Any] = {}
        for key in ("inventory_hours", "backup_max_age_hours", "updates_interval"):
            if data.get(key) is not None:
                collectors[key] = data[key]
        if data.get("backup_tools"):
            collectors["backup_tools"] = list(data["backup_tools"])
        for key in ("network_discovery", "antivirus", "os_updates"):
            if data.get(key) in ("true", "false"):
                collectors[key] = data[key] == "true"
        return collectors


class PolicyForm(CollectorsMixin):
    """Create a policy (scope and target) or change one (name, description, collectors, enabled)."""

    name = forms.CharField(label=_("name"), max_length=200)
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    enabled = forms.BooleanField(label=_("enabled"), required=False, initial=True)
    field_order = ["name", "description", "scope", "client", "tag", "site", "device", "enabled"]

    def __init__(self, *args: Any, actor: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.creating = creating
        if creating:
            scopes = [(v, label) for v, label in PolicyScope.choices if v != PolicyScope.BASELINE]
            self.fields["scope"] = forms.ChoiceField(label=_("applies to"), choices=scopes, initial="client")
            self.fields["client"] = forms.ModelChoiceField(
                label=_("client"), required=False, queryset=Client.objects.visible_to(actor).order_by("name"))
            self.fields["tag"] = forms.ModelChoiceField(
                label=_("tag"), required=False, queryset=Tag.objects.order_by("name", "pk"),
                help_text=_("Every device carrying this tag, whatever its client."))
            self.fields["site"] = forms.ModelChoiceField(
                label=_("site"), required=False,
                queryset=Site.objects.visible_to(actor).select_related("client").order_by("client__name", "name"))
            self.fields["device"] = forms.ModelChoiceField(
                label=_("device"), required=False,
                queryset=Device.objects.visible_to(actor).select_related("client").order_by("client__name", "name"))
            self.order_fields(self.field_order)

    def service_data(self) -> dict[str, Any]:
        data = {"name": self.cleaned_data["name"], "description": self.cleaned_data.get("description", ""),
                "enabled": bool(self.cleaned_data.get("enabled")), "collectors": self.collectors_data()}
        if self.creating:
            scope = self.cleaned_data["scope"]
            data["scope"] = scope
            for key in ("client", "tag", "site", "device"):
                value = self.cleaned_data.get(key)
                if key == scope and value is not None:
                    data[f"{key}_id"] = value.pk
        return data


class CheckForm(forms.Form):
    """A check of a policy; the parameter fields are those of the chosen type (`p_<name>`)."""

    check_type = forms.ChoiceField(label=_("type"), choices=CheckType.choices)
    name = forms.CharField(label=_("name"), max_length=200)
    interval_s = forms.IntegerField(label=_("interval (s)"), min_value=MIN_INTERVAL_S, max_value=MAX_INTERVAL_S,
                                    initial=300)
    severity = forms.ChoiceField(label=_("severity"), choices=Severity.choices, initial=Severity.WARNING)
    failures_before_alert = forms.IntegerField(label=_("failures before alert"), min_value=1, max_value=20,
                                               initial=3)
    os_family = forms.ChoiceField(label=_("only on"), required=False,
                                  choices=[("", _("Every operating system")), *OsFamily.choices])
    runbook_url = forms.URLField(label=_("runbook"), required=False, max_length=500, assume_scheme="https")
    enabled = forms.BooleanField(label=_("enabled"), required=False, initial=True)

    def __init__(self, *args: Any, check_type: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.type_name = check_type if check_type in CheckType.values else CheckType.CPU
        self.fields["check_type"].initial = self.type_name
        self.fields["check_type"].widget.attrs.update({
            "hx-get": "", "hx-target": "#check-form", "hx-select": "#check-form", "hx-swap": "outerHTML",
            "hx-include": "closest form", "hx-trigger": "change"})
        for param in params_for(self.type_name):
            label = param.label
            if param.kind in ("number", "integer"):
                field: forms.Field = forms.CharField(label=label, required=param.required, help_text=param.help)
            else:
                field = forms.CharField(label=label, required=param.required, max_length=param.max_length,
                                        help_text=param.help)
            if param.default is not None:
                field.initial = param.default
            self.fields[f"p_{param.name}"] = field

    def initial_from_check(self, check: Any) -> None:
        for key in ("check_type", "name", "interval_s", "severity", "failures_before_alert", "os_family",
                    "runbook_url", "enabled"):
            self.initial[key] = getattr(check, key)
        if check.check_type == self.type_name:
            for name, value in (check.params or {}).items():
                self.initial[f"p_{name}"] = value

    def service_data(self) -> dict[str, Any]:
        data = {k: self.cleaned_data.get(k) for k in ("check_type", "name", "interval_s", "severity",
                                                      "failures_before_alert", "os_family", "runbook_url")}
        data["os_family"] = data["os_family"] or ""
        data["runbook_url"] = data["runbook_url"] or ""
        data["enabled"] = bool(self.cleaned_data.get("enabled"))
        data["params"] = {p.name: self.cleaned_data.get(f"p_{p.name}") for p in params_for(self.type_name)
                          if self.cleaned_data.get(f"p_{p.name}") not in (None, "")}
        return data


class WindowForm(forms.Form):
    """A maintenance window of a client, one of its sites, or one of its devices."""

    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none())
    site = forms.ModelChoiceField(label=_("site"), required=False, queryset=Site.objects.none(),
                                  help_text=_("Leave empty for the whole client."))
    device = forms.ModelChoiceField(label=_("device"), required=False, queryset=Device.objects.none(),
                                    help_text=_("Or one device only."))
    starts_at = forms.DateTimeField(label=_("starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(label=_("reason"), max_length=300)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.visible_to(actor).order_by("name")  # type: ignore[attr-defined]
        self.fields["site"].queryset = Site.objects.visible_to(actor).select_related(  # type: ignore[attr-defined]
            "client").order_by("client__name", "name")
        self.fields["device"].queryset = Device.objects.visible_to(actor).select_related(  # type: ignore[attr-defined]
            "client").order_by("client__name", "name")

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"site_id": data["site"].pk if data.get("site") else None,
                "device_id": data["device"].pk if data.get("device") else None,
                "starts_at": data["starts_at"], "ends_at": data["ends_at"], "reason": data["reason"]}


class BaselineForm(forms.Form):
    """Apply a plan tier's baseline to a client."""

    tier = forms.ChoiceField(label=_("Tier"), choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from tenfold.core.tiers import Tier

        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = Tier.choices  # type: ignore[attr-defined]


def _monitoring_field(field: str) -> str | None:
    """Check parameters are the form's `p_<name>` fields; collectors keep their own names; the policy
    is never a field of these forms."""
    if field.startswith("params."):
        return f"p_{field[7:]}"
    if field.startswith("collectors."):
        return field[11:]
    return None if field == "policy" else field


def add_service_errors(form: forms.BaseForm, error: Any) -> None:
    """Show a service's ValidationError beside the fields it names (`params.x` → `p_x`)."""
    shared_add_service_errors(form, error, rename=_monitoring_field)
