"""Forms of the sales screens; they only parse input, the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from tenfold.catalog.models import Offering, Service
from tenfold.clients.models import Client
from tenfold.core.forms import add_service_errors  # noqa: F401 - the views' import path
from tenfold.core.roles import STAFF_ROLES, Role
from tenfold.sales.models import OPEN_STAGES, UNIT_FIELDS, Deal, DealStage, Lead, Quote

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _ids(data: dict[str, Any], *names: str) -> dict[str, Any]:
    """Model choices as the ids the services take (`owner` → `owner_id`)."""
    for name in names:
        if name in data:
            value = data.pop(name)
            data[f"{name}_id"] = value.pk if value is not None else None
    return data


def _staff(*roles: str) -> Any:
    users = get_user_model().objects.filter(role__in=sorted(roles or STAFF_ROLES), is_active=True)
    return users.order_by("first_name", "last_name")


class LeadForm(forms.ModelForm):
    """A lead entered by hand; the client list holds only the clients the user sees."""

    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none())

    class Meta:
        model = Lead
        fields = ["client", "title", "note", "technician"]
        widgets = {"note": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, clients: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients.order_by("name")  # type: ignore[attr-defined]
        self.fields["technician"].queryset = _staff(Role.TECHNICIAN)  # type: ignore[attr-defined]
        self.fields["technician"].help_text = _("The technician credited when the lead is won.")
        if editing:
            del self.fields["client"]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("client", None)
        return _ids(data, "technician")


class DealForm(forms.ModelForm):
    """A deal's details; won and lost are set by closing it (or by accepting a quote)."""

    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none())
    stage = forms.ChoiceField(label=_("stage"), choices=[(s.value, s.label) for s in OPEN_STAGES])

    class Meta:
        model = Deal
        fields = ["client", "title", "owner", "stage", "monthly_value", "one_off_value", "close_date", "source",
                  "credited_technician", "notes"]
        widgets = {"close_date": DATE_INPUT, "notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, clients: Any = None, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _staff(Role.OWNER, Role.ADMIN, Role.ACCOUNT_MANAGER)  # type: ignore[attr-defined]
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Empty: you.")
        self.fields["credited_technician"].queryset = _staff(Role.TECHNICIAN)  # type: ignore[attr-defined]
        if editing or clients is None:
            del self.fields["client"]
        else:
            self.fields["client"].queryset = clients.order_by("name")  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("client", None)
        return _ids(data, "owner", "credited_technician")


class ConvertForm(forms.Form):
    """What the deal made from a lead needs beyond the lead."""

    title = forms.CharField(label=_("title"), max_length=200)
    monthly_value = forms.DecimalField(label=_("expected monthly value"), max_digits=12, decimal_places=2, initial=0)
    one_off_value = forms.DecimalField(label=_("expected one-off value"), max_digits=12, decimal_places=2, initial=0)
    close_date = forms.DateField(label=_("expected close date"), widget=DATE_INPUT)


class CloseForm(forms.Form):
    """Close a deal as won or lost."""

    outcome = forms.ChoiceField(label=_("outcome"), choices=[(DealStage.WON.value, DealStage.WON.label),
                                                             (DealStage.LOST.value, DealStage.LOST.label)])
    reason = forms.CharField(label=_("reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    """A free-text reason (dismissing a lead, declining a quote)."""

    reason = forms.CharField(label=_("reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class QuoteForm(forms.ModelForm):
    """A quote's recipient, offering, dates and the unit counts it is priced at."""

    offering = forms.ModelChoiceField(label=_("offering"), queryset=Offering.objects.none())

    class Meta:
        model = Quote
        fields = ["offering", "contact", "valid_until", "start_date", "introduction", *UNIT_FIELDS]
        widgets = {"valid_until": DATE_INPUT, "start_date": DATE_INPUT,
                   "introduction": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offering"].queryset = Offering.objects.filter(active=True).order_by("name")  # type: ignore[attr-defined]
        self.fields["contact"].queryset = client.contacts.order_by("last_name", "first_name")  # type: ignore[attr-defined]
        for name in UNIT_FIELDS:
            self.fields[name].widget.attrs.update({"min": 0, "data-testid": f"units-{name}"})

    def service_data(self) -> dict[str, Any]:
        return _ids(dict(self.cleaned_data), "offering", "contact")


class AddOnForm(forms.Form):
    """An à la carte service offered on the quote."""

    service = forms.ModelChoiceField(label=_("add-on"), queryset=Service.objects.none())
    per_unit = forms.BooleanField(label=_("per unit"), required=False, initial=True)
    quantity = forms.DecimalField(label=_("quantity"), max_digits=10, decimal_places=2, initial=1, required=False)
    unit_price = forms.DecimalField(label=_("unit price"), max_digits=12, decimal_places=2, required=False,
                                    help_text=_("Leave empty for the list price."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(  # type: ignore[attr-defined]
            is_addon=True, active=True).order_by("name")

    def service_data(self) -> dict[str, Any]:
        return _ids(dict(self.cleaned_data), "service")


class ItemForm(forms.Form):
    """A one-off line: an onboarding project, hardware, a set-up fee."""

    description = forms.CharField(label=_("description"), max_length=300)
    quantity = forms.DecimalField(label=_("quantity"), max_digits=10, decimal_places=2, initial=1)
    unit_price = forms.DecimalField(label=_("unit price"), max_digits=12, decimal_places=2)

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
