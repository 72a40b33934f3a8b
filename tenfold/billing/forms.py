"""Billing forms: start a billing run, draft invoices, manual lines, void. Values are checked again by the
services (negative quantities or prices refused there too)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.billing.services import MAX_PRICE, MAX_QUANTITY


class RunForm(forms.Form):
    """The month to bill in advance (first day of the month)."""

    month = forms.CharField(label=_("Month"), max_length=7,
                            widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-04"}))

    def clean_month(self) -> date:
        value = self.cleaned_data["month"].strip()
        try:
            year, month = (int(part) for part in value.split("-"))
            return date(year, month, 1)
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Enter a month as YYYY-MM.")) from None

    def service_data(self) -> dict[str, Any]:
        return {"period_start": self.cleaned_data["month"]}


class InvoiceCreateForm(forms.Form):
    """A draft invoice by hand."""

    client = forms.ChoiceField(label=_("Client"))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, clients: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = [("", "—")] + [(str(c.pk), c.name) for c in clients]  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        return {"notes": self.cleaned_data.get("notes", "")}


class NotesForm(forms.Form):
    """A draft's notes (shown on the invoice)."""

    notes = forms.CharField(label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))

    def service_data(self) -> dict[str, Any]:
        return {"notes": self.cleaned_data.get("notes", "")}


class LineForm(forms.Form):
    """A manual line: neither quantity nor price may be negative."""

    description = forms.CharField(label=_("Description"), max_length=300)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, decimal_places=2, min_value=Decimal("0"),
                                  max_value=MAX_QUANTITY, initial=Decimal("1"))
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=12, decimal_places=2, min_value=Decimal("0"),
                                    max_value=MAX_PRICE)
    tax_rate = forms.DecimalField(label=_("Tax rate (%)"), max_digits=6, decimal_places=3, min_value=Decimal("0"),
                                  max_value=Decimal("100"), required=False,
                                  help_text=_("Leave empty for the default rate."))

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("tax_rate") is None:
            data.pop("tax_rate", None)
        return data


class VoidForm(forms.Form):
    """Why the invoice is voided (written on the credit note)."""

    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
