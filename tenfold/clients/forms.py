"""Forms of the client screens; they only parse input, the services validate and write."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client, Contact, Site
from tenfold.core.forms import add_service_errors  # noqa: F401 - the views' import path
from tenfold.core.roles import STAFF_ROLES

COMMON_TIME_ZONES = sorted(zoneinfo.available_timezones())


class ClientForm(forms.ModelForm):
    """Create or change a client."""

    website = forms.URLField(label=_("website"), required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = Client
        fields = ["name", "status", "account_manager", "website", "phone", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        managers = get_user_model().objects.filter(role__in=list(STAFF_ROLES), is_active=True)
        self.fields["account_manager"].queryset = managers.order_by(  # type: ignore[attr-defined]
            "first_name", "last_name")
        self.fields["name"].widget.attrs["autofocus"] = True

    def service_data(self) -> dict[str, Any]:
        """Cleaned values in the shape client_create/client_update take."""
        data = dict(self.cleaned_data)
        manager = data.pop("account_manager")
        data["account_manager_id"] = manager.pk if manager else None
        return data


class SiteForm(forms.ModelForm):
    """Create or change a site."""

    time_zone = forms.ChoiceField(label=_("time zone"), choices=[(tz, tz) for tz in COMMON_TIME_ZONES],
                                  initial="Europe/Paris")

    class Meta:
        model = Site
        fields = ["name", "address", "postal_code", "city", "country", "time_zone"]

    def clean_country(self) -> str:
        value: str = self.cleaned_data.get("country", "").strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise forms.ValidationError(_("Enter a two-letter country code, e.g. FR."))
        return value

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ContactForm(forms.ModelForm):
    """Create or change a contact; the site list holds only this client's sites."""

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "phone", "job_title", "site", "is_decision_maker",
                  "is_billing_contact"]

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = client.sites.order_by("name")  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        site = data.pop("site")
        data["site_id"] = site.pk if site else None
        return data
