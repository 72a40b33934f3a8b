"""Forms of the patching screens; they only parse input, the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import Device, Tag
from tenfold.clients.models import Client, Site
from tenfold.core.forms import add_service_errors  # noqa: F401 - the views' import path
from tenfold.patching.models import Approval, PatchScope, RebootRule, UpdateCategory, UpdateSeverity

WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
            (5, _("Saturday")), (6, _("Sunday"))]


class DecisionForm(forms.Form):
    """Approve, reject or defer one update, for one client or every client."""

    decision = forms.ChoiceField(label=_("decision"), choices=Approval.choices)
    client = forms.ModelChoiceField(label=_("for"), queryset=Client.objects.none(), required=False,
                                    empty_label=_("Every client"))
    deferred_until = forms.DateField(label=_("deferred until"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("note"), required=False, max_length=500)

    def __init__(self, *args: Any, clients: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients if clients is not None else Client.objects.none()  # type: ignore[attr-defined]


class BulkDecisionForm(DecisionForm):
    """The same decision on several updates, for every client or for chosen clients."""

    updates = forms.TypedMultipleChoiceField(label=_("updates"), coerce=int, choices=[])
    clients = forms.ModelMultipleChoiceField(label=_("clients"), queryset=Client.objects.none(), required=False,
                                             help_text=_("None chosen: every client."))

    def __init__(self, *args: Any, clients: Any = None, update_choices: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, clients=clients, **kwargs)
        del self.fields["client"]
        self.fields["clients"].queryset = clients if clients is not None else Client.objects.none()  # type: ignore[attr-defined]
        self.fields["updates"].choices = update_choices or []  # type: ignore[attr-defined]


class PolicyForm(forms.Form):
    """Create or change an approval policy."""

    name = forms.CharField(label=_("name"), max_length=200)
    scope = forms.ChoiceField(label=_("applies to"), choices=PatchScope.choices)
    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none(), required=False)
    site = forms.ModelChoiceField(label=_("site"), queryset=Site.objects.none(), required=False)
    device = forms.ModelChoiceField(label=_("device"), queryset=Device.objects.none(), required=False)
    tag = forms.ModelChoiceField(label=_("tag"), queryset=Tag.objects.all(), required=False)
    enabled = forms.BooleanField(label=_("enabled"), required=False, initial=True)
    auto_approve_categories = forms.MultipleChoiceField(label=_("auto-approve categories"),
                                                        choices=UpdateCategory.choices, required=False,
                                                        widget=forms.CheckboxSelectMultiple)
    auto_approve_severities = forms.MultipleChoiceField(label=_("auto-approve severities"),
                                                        choices=UpdateSeverity.choices, required=False,
                                                        widget=forms.CheckboxSelectMultiple,
                                                        help_text=_("None chosen: any severity."))
    auto_approve_after_days = forms.IntegerField(label=_("auto-approve after (days)"), required=False,
                                                 help_text=_("Empty: no auto-approval."))
    window_days = forms.TypedMultipleChoiceField(label=_("install days"), choices=WEEKDAYS, coerce=int,
                                                 required=False, widget=forms.CheckboxSelectMultiple)
    window_start = forms.TimeField(label=_("window opens"), required=False,
                                   widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    window_end = forms.TimeField(label=_("window closes"), required=False,
                                 widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                                 help_text=_("In the device's time zone (its site's, else the MSP's). Before the "
                                             "opening time: the window ends the next day."))
    reboot = forms.ChoiceField(label=_("reboot"), choices=RebootRule.choices, initial=RebootRule.IF_REQUIRED)
    reboot_deferrals = forms.IntegerField(label=_("deferrals allowed to the user"), initial=0, required=False)
    reboot_defer_minutes = forms.IntegerField(
        label=_("each deferral lasts (minutes)"), initial=60, required=False,
        help_text=_("From 15 to 1440 minutes; used only when the user may defer the reboot. On the device the "
                    "user defers with tenfold-agent defer-restart."))

    def __init__(self, *args: Any, clients: Any = None, sites: Any = None, devices: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients if clients is not None else Client.objects.none()  # type: ignore[attr-defined]
        self.fields["site"].queryset = sites if sites is not None else Site.objects.none()  # type: ignore[attr-defined]
        self.fields["device"].queryset = devices if devices is not None else Device.objects.none()  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        """Cleaned values in the shape policy_create/policy_update take."""
        data = dict(self.cleaned_data)
        for name in ("client", "site", "device", "tag"):
            value = data.pop(name)
            data[f"{name}_id"] = value.pk if value else None
        data["reboot_deferrals"] = data.get("reboot_deferrals") or 0
        if data.get("reboot_defer_minutes") is None:
            data["reboot_defer_minutes"] = 60
        return data


def policy_initial(policy: Any) -> dict[str, Any]:
    """A policy's values for the form."""
    return {"name": policy.name, "scope": policy.scope, "client": policy.client_id, "site": policy.site_id,
            "device": policy.device_id, "tag": policy.tag_id, "enabled": policy.enabled,
            "auto_approve_categories": policy.auto_approve_categories,
            "auto_approve_severities": policy.auto_approve_severities,
            "auto_approve_after_days": policy.auto_approve_after_days, "window_days": policy.window_days,
            "window_start": policy.window_start, "window_end": policy.window_end, "reboot": policy.reboot,
            "reboot_deferrals": policy.reboot_deferrals, "reboot_defer_minutes": policy.reboot_defer_minutes}


class ReportFilterForm(forms.Form):
    """Which client the report covers (none: every client the reader sees)."""

    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none(), required=False,
                                    empty_label=_("Every client"))

    def __init__(self, *args: Any, clients: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients if clients is not None else Client.objects.none()  # type: ignore[attr-defined]
