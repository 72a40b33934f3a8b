"""Forms of the enrollment screens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.agents.services import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS
from tenfold.clients.models import Client, Site


class EnrollmentTokenForm(forms.Form):
    """A new enrollment token for one client."""

    name = forms.CharField(label=_("Name"), max_length=100, initial=_("Enrollment"),
                           help_text=_("What it is for, e.g. “Head office roll-out”."))
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False,
                                  help_text=_("Devices enrolled with it are placed at this site."))
    expires_in_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=MAX_TOKEN_DAYS,
                                         initial=DEFAULT_TOKEN_DAYS)
    max_uses = forms.IntegerField(label=_("Maximum uses"), min_value=1, max_value=100_000, required=False,
                                  help_text=_("Empty: any number of devices until it expires."))

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = client.sites.order_by("name")  # type: ignore[attr-defined]
