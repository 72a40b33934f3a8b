"""Forms of the MSP settings screens."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.core.errors import TenfoldError
from tenfold.core.models import Organization, TaxRate


def add_service_errors(form: forms.BaseForm, error: TenfoldError,
                       rename: Callable[[str], str | None] | None = None) -> None:
    """Show a service's ValidationError beside the fields it names.

    A service names model attributes (`site_id`); the form field is `site`. `rename` maps the names a
    form spells its own way (None: show it above the form). A name the form lacks goes above it."""
    for field, messages in (error.errors or {"__all__": [str(error.message)]}).items():
        name = rename(field) if rename is not None else field
        if name is not None and name not in form.fields and name.endswith("_id") and name[:-3] in form.fields:
            name = name[:-3]
        for message in messages:
            form.add_error(name if name is not None and name in form.fields else None, message)


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
