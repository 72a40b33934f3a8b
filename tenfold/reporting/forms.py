"""Forms of the scorecard and review screens; they only parse input, the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client
from tenfold.core.forms import add_service_errors  # noqa: F401 - the views' import path
from tenfold.core.roles import STAFF_ROLES, Role
from tenfold.reporting.models import ActionKind, QbrMeeting, ScorecardSettings
from tenfold.reporting.scorecard import METRICS

MANAGER_ROLES = [Role.OWNER, Role.ADMIN, Role.ACCOUNT_MANAGER, Role.SERVICE_MANAGER]


class SettingsForm(forms.Form):
    """Metric weights and the formulas' thresholds."""

    antivirus_max_age_days = forms.IntegerField(label=_("Antivirus definitions older than (days) are stale"),
                                                min_value=1, max_value=60)
    patch_grace_days = forms.IntegerField(label=_("Update missing for more than (days) counts"), min_value=0,
                                          max_value=365)
    backup_window_hours = forms.IntegerField(label=_("Backup window (hours) when the policy sets none"),
                                             min_value=1, max_value=744)
    project_hourly_rate = forms.DecimalField(label=_("Project hourly rate"), min_value=0, max_digits=8,
                                             decimal_places=2)

    def __init__(self, *args: Any, row: ScorecardSettings, weights: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for metric in METRICS:
            self.fields[f"weight_{metric.key}"] = forms.IntegerField(
                label=metric.label, min_value=0, max_value=10, initial=weights[metric.key],
                help_text=_("Weight (0 leaves it out of the overall score)."))
        for name in ("antivirus_max_age_days", "patch_grace_days", "backup_window_hours", "project_hourly_rate"):
            self.fields[name].initial = getattr(row, name)

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("weight_")}
        data["weights"] = {m.key: self.cleaned_data[f"weight_{m.key}"] for m in METRICS}
        return data


class MeetingForm(forms.ModelForm):
    """Schedule or change a review."""

    scheduled_at = forms.DateTimeField(label=_("date and time"),
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    class Meta:
        model = QbrMeeting
        fields = ["scheduled_at", "duration_minutes", "location", "decision_maker", "other_contacts",
                  "account_manager", "technician", "agenda", "notes", "concerns", "decisions"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in ("agenda", "notes", "concerns", "decisions")}

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision_maker"].queryset = client.contacts.filter(is_decision_maker=True)  # type: ignore[attr-defined]
        self.fields["other_contacts"].queryset = client.contacts.all()  # type: ignore[attr-defined]
        self.fields["other_contacts"].required = False
        users = get_user_model().objects.filter(is_active=True).order_by("last_name", "first_name")
        self.fields["account_manager"].queryset = users.filter(role__in=MANAGER_ROLES)  # type: ignore[attr-defined]
        self.fields["technician"].queryset = users.filter(role__in=list(STAFF_ROLES))  # type: ignore[attr-defined]
        if not self.instance.pk and client.account_manager_id:
            self.fields["account_manager"].initial = client.account_manager_id

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("decision_maker", "account_manager", "technician"):
            value = data.pop(name, None)
            data[f"{name}_id"] = value.pk if value is not None else None
        data["other_contact_ids"] = [c.pk for c in data.pop("other_contacts", [])]
        return data


class ActionItemForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    description = forms.CharField(label=_("description"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 2}))

    def service_data(self) -> dict[str, Any]:
        return {**self.cleaned_data, "kind": ActionKind.TASK}


class RecommendationForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    quantity = forms.DecimalField(label=_("quantity"), min_value=0, max_digits=10, decimal_places=2)
    unit_price = forms.DecimalField(label=_("unit price"), min_value=0, max_digits=12, decimal_places=2)
    included = forms.BooleanField(label=_("propose"), required=False)


class CadenceForm(forms.Form):
    interval_months = forms.IntegerField(label=_("every (months)"), min_value=1, max_value=12, initial=3)
    next_due_on = forms.DateField(label=_("next review due"), widget=forms.DateInput(attrs={"type": "date"}))
    active = forms.BooleanField(label=_("active"), required=False, initial=True)
