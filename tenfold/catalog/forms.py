"""Forms of the catalog screens; they only parse input, the services validate and write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.catalog.models import Offering, Plan, Service
from tenfold.catalog.pricing import DEFAULT_REFERENCE, UnitCounts
from tenfold.core.forms import add_service_errors  # noqa: F401 - the views' import path

MAX_PRICE = Decimal("9999999999.99")
NEGATIVE_PRICE = _("The unit price cannot be negative.")


class ServiceForm(forms.ModelForm):
    """Create or change a service."""

    class Meta:
        model = Service
        fields = ["name", "code", "category", "unit", "description", "list_price", "unit_cost", "labour_minutes",
                  "includes_monitoring", "includes_antivirus", "includes_patching", "includes_backup", "is_addon",
                  "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autofocus"] = True
        for name in ("list_price", "unit_cost", "labour_minutes"):
            self.fields[name].widget.attrs.update({"min": "0", "step": "0.01"})
        self.fields["list_price"].error_messages["min_value"] = _("The list price cannot be negative.")
        self.fields["unit_cost"].error_messages["min_value"] = _("The tool cost cannot be negative.")
        self.fields["labour_minutes"].error_messages["min_value"] = _("The labour minutes cannot be negative.")

    def validate_unique(self) -> None:
        # The service checks uniqueness in the database (no check-then-insert race).
        pass

    def service_data(self) -> dict[str, Any]:
        """Cleaned values in the shape service_create/service_update take."""
        return dict(self.cleaned_data)


class OfferingForm(forms.ModelForm):
    """Create or change an offering."""

    class Meta:
        model = Offering
        fields = ["name", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def validate_unique(self) -> None:
        pass

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class PlanForm(forms.ModelForm):
    """Create or change the plan of one tier."""

    class Meta:
        model = Plan
        fields = ["tier", "name", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = _("Leave empty to name it after the offering and the tier.")

    def validate_unique(self) -> None:
        pass

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        label = f"{obj.name} ({obj.get_unit_display()})"
        return label if obj.active else str(_("%(label)s — inactive") % {"label": label})


class PlanItemAddForm(forms.Form):
    """Include a service in a plan; an empty price means the service's list price."""

    service = ServiceChoiceField(label=_("service"), queryset=Service.objects.none())
    unit_price = forms.DecimalField(label=_("unit price"), required=False, min_value=0, max_value=MAX_PRICE,
                                    max_digits=12, decimal_places=2,
                                    help_text=_("Empty: the service's list price."),
                                    error_messages={"min_value": NEGATIVE_PRICE})

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Inactive services stay choosable so that the service can say why they are refused.
        self.fields["service"].queryset = (  # type: ignore[attr-defined]
            Service.objects.exclude(plan_items__plan=plan).order_by("-active", "name"))
        self.fields["unit_price"].widget.attrs.update({"min": "0", "step": "0.01"})


class PlanItemPriceForm(forms.Form):
    """A new unit price for a service in a plan."""

    unit_price = forms.DecimalField(label=_("unit price"), min_value=0, max_value=MAX_PRICE, max_digits=12,
                                    decimal_places=2, error_messages={"min_value": NEGATIVE_PRICE})


class CountsForm(forms.Form):
    """The reference unit counts a plan is priced at on screen."""

    workstations = forms.IntegerField(label=_("workstations"), min_value=0, max_value=100000)
    servers = forms.IntegerField(label=_("servers"), min_value=0, max_value=100000)
    network_devices = forms.IntegerField(label=_("network devices"), min_value=0, max_value=100000)
    mobiles = forms.IntegerField(label=_("mobile devices"), min_value=0, max_value=100000)
    users = forms.IntegerField(label=_("users"), min_value=0, max_value=100000)
    sites = forms.IntegerField(label=_("sites"), min_value=0, max_value=100000)

    FIELDS = ("workstations", "servers", "network_devices", "mobiles", "users", "sites")

    @classmethod
    def from_query(cls, query: Any) -> CountsForm:
        """Bound to the request's counts when it gives any, else unbound at the default reference."""
        if any(name in query for name in cls.FIELDS):
            data = {name: query.get(name) or getattr(DEFAULT_REFERENCE, name) for name in cls.FIELDS}
            return cls(data)
        return cls(initial={name: getattr(DEFAULT_REFERENCE, name) for name in cls.FIELDS})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.update({"min": "0", "class": "count-input"})

    def counts(self) -> UnitCounts:
        """The counts entered, or the default reference when they are not valid."""
        if self.is_bound and self.is_valid():
            return UnitCounts(**{name: int(self.cleaned_data[name]) for name in self.FIELDS})
        return DEFAULT_REFERENCE

    def as_query(self) -> dict[str, int]:
        counts = self.counts()
        return {name: getattr(counts, name) for name in self.FIELDS}
