"""Forms of the contract screens; they only parse input, the services validate and write."""

from __future__ import annotations

import zoneinfo
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.catalog.models import Plan, Service
from tenfold.clients.models import Client, Contact, Site
from tenfold.contracts.businesstime import WEEKDAYS, CalendarError, format_intervals, parse_intervals, week_from_json
from tenfold.contracts.models import (
    BusinessCalendar,
    Contract,
    ContractAddendum,
    ContractAddOn,
    ContractStatus,
    Milestone,
    MilestoneStatus,
    Project,
    ProjectTask,
    RoundingRule,
    SlaPolicy,
)
from tenfold.contracts.services import COMMERCIAL_FIELDS
from tenfold.core.forms import add_service_errors  # noqa: F401 - the views' import path

DAY_LABELS = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _ids(data: dict[str, Any], *names: str) -> dict[str, Any]:
    """Model choices as the ids the services take (`plan` → `plan_id`)."""
    for name in names:
        if name in data:
            value = data.pop(name)
            data[f"{name}_id"] = value.pk if value is not None else None
    return data


class CalendarForm(forms.Form):
    """A calendar: time zone, the hours of each weekday ("08:30-12:30, 13:30-18:00"), holidays one per line."""

    name = forms.CharField(label=_("name"), max_length=200)
    time_zone = forms.ChoiceField(label=_("time zone"), initial="Europe/Paris",
                                  choices=[(tz, tz) for tz in sorted(zoneinfo.available_timezones())])
    holidays = forms.CharField(
        label=_("holidays"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("One per line: the date, then a name, e.g. “2026-05-01 Labour Day”."))

    def __init__(self, *args: Any, instance: BusinessCalendar | None = None, **kwargs: Any) -> None:
        if instance is not None and not kwargs.get("initial"):
            week = week_from_json(instance.hours)
            initial = {"name": instance.name, "time_zone": instance.time_zone,
                       "holidays": "\n".join(f"{h.date.isoformat()} {h.name}".strip()
                                             for h in instance.holidays.order_by("date"))}
            initial.update({day: format_intervals(week[i]) for i, day in enumerate(WEEKDAYS)})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        for index, day in enumerate(WEEKDAYS):
            self.fields[day] = forms.CharField(
                label=DAY_LABELS[index], required=False,
                help_text=_("e.g. 08:30-12:30, 13:30-18:00; empty when closed; 00:00-24:00 all day.")
                if index == 0 else "")
        order = ["name", "time_zone", *WEEKDAYS, "holidays"]
        self.order_fields(order)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for day in WEEKDAYS:
            try:
                cleaned[f"{day}_intervals"] = parse_intervals(cleaned.get(day, ""))
            except CalendarError:
                self.add_error(day, _("Enter hours such as 08:30-12:30, 13:30-18:00."))
        holidays: list[dict[str, Any]] = []
        for number, line in enumerate((cleaned.get("holidays") or "").splitlines(), start=1):
            if not line.strip():
                continue
            day, _sep, name = line.strip().partition(" ")
            try:
                holidays.append({"date": date.fromisoformat(day), "name": name.strip()})
            except ValueError:
                self.add_error("holidays", _("Line %(n)s: start with a date such as 2026-05-01.") % {"n": number})
        cleaned["holiday_rows"] = holidays
        return cleaned

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"name": data["name"], "time_zone": data["time_zone"],
                "hours": [[list(i) for i in data[f"{day}_intervals"]] for day in WEEKDAYS],
                "holidays": data["holiday_rows"]}


class SlaPolicyForm(forms.ModelForm):
    """An SLA policy's targets per priority."""

    class Meta:
        model = SlaPolicy
        fields = ["name", "calendar", "is_default", "warning_threshold_pct",
                  *(f"{p}_{t}_minutes" for p in ("p1", "p2", "p3", "p4") for t in ("first_response", "resolution"))]

    def service_data(self) -> dict[str, Any]:
        return _ids(dict(self.cleaned_data), "calendar")


class RoundingRuleForm(forms.ModelForm):
    """A time rounding rule."""

    class Meta:
        model = RoundingRule
        fields = ["name", "increment_minutes", "mode", "minimum_minutes"]

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ContractForm(forms.ModelForm):
    """A contract's terms; once signed, the commercial ones are shown but changed only by an addendum."""

    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none())
    alert_thresholds = forms.CharField(label=_("alert thresholds (%)"), required=False,
                                       help_text=_("Warn when this share of the hours is used, e.g. 75, 90."))

    class Meta:
        model = Contract
        fields = ["client", "number", "title", "type", "site", "start_date", "end_date", "renewal_term_months",
                  "notice_period_days", "plan", "minimum_monthly_commitment", "sla_policy", "calendar",
                  "rounding_rule", "out_of_scope_rate", "hours_purchased", "alert_thresholds", "unused_hours",
                  "overage_rate", "fixed_price_amount", "indexation", "indexation_percent", "index_base_value",
                  "index_current_value", "notes"]
        widgets = {"start_date": DATE_INPUT, "end_date": DATE_INPUT, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, clients: Any, client: Client | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["number"].required = False
        instance = self.instance if self.instance.pk else None
        self.fields["client"].queryset = clients  # type: ignore[attr-defined]
        owner = instance.client if instance is not None else client
        if owner is not None:
            self.fields["client"].initial = owner.pk
            self.fields["site"].queryset = Site.objects.filter(client=owner).order_by(  # type: ignore[attr-defined]
                "name")
        if instance is not None:
            del self.fields["client"]
            self.initial["alert_thresholds"] = ", ".join(str(v) for v in instance.alert_thresholds or [])
        self.fields["plan"].queryset = Plan.objects.filter(active=True).select_related(  # type: ignore[attr-defined]
            "offering").order_by("offering__name", "-tier")
        self.fields["plan"].label_from_instance = lambda p: f"{p.offering} — {p.name}"  # type: ignore[attr-defined]
        if instance is not None and instance.status == ContractStatus.ACTIVE:
            for name in COMMERCIAL_FIELDS:
                field = self.fields.get(name.removesuffix("_id"))
                if field is not None:
                    field.disabled = True
                    field.help_text = _("Signed: change it with an addendum.")

    def clean_alert_thresholds(self) -> list[int]:
        text = self.cleaned_data.get("alert_thresholds") or ""
        try:
            return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(_("Enter percentages such as 75, 90.")) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        client = cleaned.get("client")
        site = cleaned.get("site")
        if client is not None and site is not None and site.client_id != client.pk:
            self.add_error("site", _("Choose one of this client's sites."))
        return cleaned

    def _post_clean(self) -> None:
        # The service validates the whole contract (with the overlap rule); the form only parses.
        pass

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("client", None)
        if self.instance.pk and self.instance.status == ContractStatus.ACTIVE:
            for name in COMMERCIAL_FIELDS:
                data.pop(name.removesuffix("_id"), None)
        return _ids(data, "site", "plan", "sla_policy", "calendar", "rounding_rule")


class EndContractForm(forms.Form):
    """The day a contract ends."""

    end_date = forms.DateField(label=_("end date"), widget=DATE_INPUT)


class AddOnForm(forms.ModelForm):
    """An add-on of a draft contract."""

    class Meta:
        model = ContractAddOn
        fields = ["service", "per_unit", "quantity", "unit_price"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(  # type: ignore[attr-defined]
            is_addon=True, active=True).order_by("name")

    def _post_clean(self) -> None:
        pass

    def service_data(self) -> dict[str, Any]:
        return _ids(dict(self.cleaned_data), "service")


class AddendumForm(forms.ModelForm):
    """An addendum: what changes from its effective date."""

    class Meta:
        model = ContractAddendum
        fields = ["effective_date", "description", "new_plan", "new_minimum_monthly_commitment",
                  "new_out_of_scope_rate", "new_overage_rate", "new_hours_purchased", "new_end_date"]
        widgets = {"effective_date": DATE_INPUT, "new_end_date": DATE_INPUT,
                   "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_plan"].queryset = Plan.objects.filter(  # type: ignore[attr-defined]
            active=True).select_related("offering").order_by("offering__name", "-tier")

    def _post_clean(self) -> None:
        pass

    def service_data(self) -> dict[str, Any]:
        return _ids(dict(self.cleaned_data), "new_plan")


class AddendumAddOnForm(forms.Form):
    """One add-on an addendum adds, re-prices or removes."""

    service = forms.ModelChoiceField(label=_("add-on"), queryset=Service.objects.none(), required=False)
    remove = forms.BooleanField(label=_("remove"), required=False)
    per_unit = forms.BooleanField(label=_("per unit"), required=False, initial=True)
    quantity = forms.DecimalField(label=_("quantity"), required=False, max_digits=10, decimal_places=2)
    unit_price = forms.DecimalField(label=_("unit price"), required=False, max_digits=12, decimal_places=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(  # type: ignore[attr-defined]
            is_addon=True, active=True).order_by("name")


AddendumAddOnFormSet = forms.formset_factory(AddendumAddOnForm, extra=3, max_num=20)


def addon_changes(formset: Any) -> list[dict[str, Any]]:
    """The filled rows of the add-on changes formset, in the shape the services take."""
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if data.get("service") is None:
            continue
        rows.append({"service_id": data["service"].pk, "remove": data.get("remove", False),
                     "per_unit": data.get("per_unit", False), "quantity": data.get("quantity"),
                     "unit_price": data.get("unit_price")})
    return rows


class CoverageUserForm(forms.Form):
    """A contact of the client covered as a user."""

    contact: forms.ModelChoiceField = forms.ModelChoiceField(label=_("user"), queryset=Contact.objects.none())

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(  # type: ignore[attr-defined]
            client=client).order_by("last_name", "first_name")


class ProjectForm(forms.ModelForm):
    """A project; the contract list holds only the client's contracts."""

    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none())

    class Meta:
        model = Project
        fields = ["client", "name", "kind", "contract", "billing", "budgeted_hours", "fixed_price", "hourly_rate",
                  "status", "start_date", "due_date", "description"]
        widgets = {"start_date": DATE_INPUT, "due_date": DATE_INPUT, "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, clients: Any, client: Client | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.instance.client if self.instance.pk else client
        self.fields["client"].queryset = clients  # type: ignore[attr-defined]
        if owner is not None:
            self.fields["client"].initial = owner.pk
            self.fields["contract"].queryset = Contract.objects.filter(  # type: ignore[attr-defined]
                client=owner).order_by("-start_date")
        else:
            self.fields["contract"].queryset = Contract.objects.none()  # type: ignore[attr-defined]
        if self.instance.pk:
            del self.fields["client"]

    def _post_clean(self) -> None:
        pass

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("client", None)
        return _ids(data, "contract")


class TaskForm(forms.ModelForm):
    """A project task."""

    class Meta:
        model = ProjectTask
        fields = ["title", "estimate_hours", "done"]

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class MilestoneForm(forms.ModelForm):
    """A milestone (billing marks it invoiced)."""

    status = forms.ChoiceField(label=_("status"), choices=[(MilestoneStatus.PLANNED, MilestoneStatus.PLANNED.label),
                                                            (MilestoneStatus.REACHED, MilestoneStatus.REACHED.label)])

    class Meta:
        model = Milestone
        fields = ["name", "amount", "due_date", "status"]
        widgets = {"due_date": DATE_INPUT}

    def _post_clean(self) -> None:
        pass

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
