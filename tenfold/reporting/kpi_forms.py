"""Forms of the KPI, forecast and inventory screens: the period picker and report subscriptions."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.core.errors import ValidationError
from tenfold.reporting import kpis

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PERIOD_CHOICES = [("month", _("Month")), ("quarter", _("Quarter")), ("year", _("Year")), ("custom", _("Custom"))]


class PeriodForm(forms.Form):
    """The period picker: a month, quarter or year containing `start`, or a custom range from `start` to `end`."""

    period = forms.ChoiceField(label=_("period"), choices=PERIOD_CHOICES, required=False)
    start = forms.DateField(label=_("from"), required=False, widget=DATE_INPUT)
    end = forms.DateField(label=_("to"), required=False, widget=DATE_INPUT)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            self.period_value = kpis.make_period(data.get("period") or "month", data.get("start"), data.get("end"))
        except ValidationError as exc:
            self.add_error(exc.field if exc.field in ("period", "end") else None, str(exc.message))
        return data

    def period_or_default(self) -> kpis.Period:
        """The chosen period, or this month when nothing (or something invalid) was chosen."""
        if self.is_bound and self.is_valid():
            return self.period_value
        return kpis.make_period("month", timezone.localdate())


def period_query(period: kpis.Period) -> str:
    """The query string that selects this period again (for links and exports)."""
    from urllib.parse import urlencode

    params: dict[str, str] = {"period": period.kind, "start": period.start.isoformat()}
    if period.kind == "custom":
        params["end"] = period.last_day.isoformat()
    return urlencode(params)


def today() -> date:
    return timezone.localdate()


class SubscriptionForm(forms.Form):
    """A scheduled report: which, for which client (or all), to whom, how often, in which format, from when."""

    report = forms.ChoiceField(label=_("report"))
    client = forms.TypedChoiceField(label=_("client"), coerce=int, empty_value=None, required=False)
    recipients = forms.CharField(label=_("recipients"), widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("One address per line: staff members, or the client's contacts."))
    cadence = forms.ChoiceField(label=_("cadence"))
    format = forms.ChoiceField(label=_("format"))
    next_send_on = forms.DateField(label=_("first delivery"), widget=DATE_INPUT)
    enabled = forms.BooleanField(label=_("enabled"), required=False, initial=True,
                                 help_text=_("A disabled report is kept but not sent."))

    def __init__(self, *args: Any, clients: Any = (), **kwargs: Any) -> None:
        from tenfold.reporting.kpi_models import Cadence, ReportFormat, ReportKind

        super().__init__(*args, **kwargs)
        self.fields["report"].choices = ReportKind.choices  # type: ignore[attr-defined]
        self.fields["cadence"].choices = Cadence.choices  # type: ignore[attr-defined]
        self.fields["format"].choices = ReportFormat.choices  # type: ignore[attr-defined]
        if "client" in self.fields:
            self.fields["client"].choices = [("", _("All clients"))] + [  # type: ignore[attr-defined]
                (c.pk, c.name) for c in clients]
        if not self.is_bound:
            self.initial.setdefault("next_send_on", timezone.localdate())


class SubscriptionEditForm(SubscriptionForm):
    """A scheduled report's changeable values (its client stays)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["client"]
        self.fields["next_send_on"].label = _("next delivery")

    @staticmethod
    def initial_of(subscription: Any) -> dict[str, Any]:
        """The form's values for a stored subscription."""
        return {"report": subscription.report, "recipients": subscription.recipients,
                "cadence": subscription.cadence, "format": subscription.format,
                "next_send_on": subscription.next_send_on, "enabled": subscription.enabled}
