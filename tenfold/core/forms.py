"""Forms of the MSP settings screens."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.core.models import Organization, TaxRate


class OrganizationForm(forms.ModelForm):
    """The MSP's own settings."""

    default_time_zone = forms.ChoiceField(label=_("default time zone"),
                                          choices=[(t, t) for t in sorted(zoneinfo.available_timezones())])

    class Meta:
        model = Organization
        fields = ["name", "currency", "loaded_labour_cost", "default_language", "default_time_zone"]


class TaxRateForm(forms.ModelForm):
    """A tax rate."""

    class Meta:
        model = TaxRate
        fields = ["name", "rate", "is_default"]


class ScheduleForm(forms.Form):
    """Pause, resume or re-time a schedule."""

    enabled = forms.BooleanField(label=_("enabled"), required=False)
    cron = forms.CharField(label=_("cron expression"), max_length=100,
                           help_text=_("Five fields: minute hour day-of-month month day-of-week (UTC)."))
