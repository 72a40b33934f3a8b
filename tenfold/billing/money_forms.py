"""Forms of the payment, import, ageing and export screens (the rules live in payments.py and reports.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.billing.models import PaymentMethod

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PaymentForm(forms.Form):
    """Money received against one invoice."""

    received_on = forms.DateField(label=_("received on"), widget=DATE_INPUT)
    amount = forms.DecimalField(label=_("amount"), max_digits=12, decimal_places=2,
                                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))
    method = forms.ChoiceField(label=_("method"), choices=PaymentMethod.choices, initial=PaymentMethod.TRANSFER)
    reference = forms.CharField(label=_("reference"), max_length=120, required=False,
                                help_text=_("The bank's reference: the same reference cannot be recorded twice on "
                                            "an invoice."))
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, balance: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("received_on", timezone.localdate())
            if balance is not None:
                self.initial.setdefault("amount", balance)

    def service_data(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in ("received_on", "amount", "method", "reference", "notes")}


class PaymentImportForm(forms.Form):
    """A payments CSV file (the preview step)."""

    file = forms.FileField(label=_("CSV file"), help_text=_(
        "UTF-8, separated by commas or semicolons, with a header row: invoice_number, date, amount, method, "
        "reference. Dates as 2026-03-31 or 31/03/2026; amounts as 1234.50 or 1234,50. At most 1 MiB."))


class AsOfForm(forms.Form):
    """The date an ageing report is drawn up on."""

    as_of = forms.DateField(label=_("as of"), required=False, widget=DATE_INPUT)

    def as_of_date(self) -> date:
        if self.is_valid() and self.cleaned_data.get("as_of"):
            value: date = self.cleaned_data["as_of"]
            return value
        return timezone.localdate()


class PeriodForm(forms.Form):
    """An optional issue-date period for the exports."""

    start = forms.DateField(label=_("issued from"), required=False, widget=DATE_INPUT)
    end = forms.DateField(label=_("issued until"), required=False, widget=DATE_INPUT)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data
