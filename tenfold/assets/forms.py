"""Forms of the device screens; they only parse input, the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import Device, DeviceState, Licence, Tag
from tenfold.clients.models import Client
from tenfold.core.forms import add_service_errors  # noqa: F401 - the views' import path

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _SiteChoice(forms.ModelForm):
    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = client.sites.order_by("name")  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        """Cleaned values in the shape the device services take."""
        data = dict(self.cleaned_data)
        site = data.pop("site")
        data["site_id"] = site.pk if site else None
        return data


class DeviceCreateForm(_SiteChoice):
    """A device added by hand (printer, switch, phone)."""

    class Meta:
        model = Device
        fields = ["name", "hostname", "kind", "site", "vendor", "model", "serial_number", "os_name", "os_version",
                  "purchase_date", "warranty_end", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3}), "purchase_date": DATE, "warranty_end": DATE}


class DeviceEditForm(_SiteChoice):
    """What staff maintain about any device."""

    class Meta:
        model = Device
        fields = ["name", "kind", "site", "purchase_date", "warranty_end", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3}), "purchase_date": DATE, "warranty_end": DATE}


class DeviceStateForm(forms.Form):
    """A move through the lifecycle."""

    state = forms.ChoiceField(label=_("New state"), choices=DeviceState.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class LicenceForm(forms.ModelForm):
    """A licence a client owns."""

    class Meta:
        model = Licence
        fields = ["product", "publisher", "seats", "expires_on", "match_pattern", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3}), "expires_on": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["match_pattern"].required = False

    def _post_clean(self) -> None:
        # The service validates and writes; the form only parses.
        pass


class DeviceImportForm(forms.Form):
    """A CSV file of devices and warranty dates (the preview step)."""

    file = forms.FileField(label=_("CSV file"), help_text=_(
        "UTF-8, separated by commas or semicolons, with a header row: name, kind, serial_number, vendor, model, "
        "purchase_date, warranty_end, site, notes. Dates as 2026-03-31 or 31/03/2026."))


class TagForm(forms.ModelForm):
    """An MSP-wide device tag: name, colour, description."""

    class Meta:
        model = Tag
        fields = ["name", "colour", "description"]

    def _post_clean(self) -> None:
        # The service validates and writes (a duplicate name is its error); the form only parses.
        pass


class DeviceTagsForm(forms.Form):
    """The tags a device carries (all of them, replacing the current set)."""

    tags = forms.ModelMultipleChoiceField(label=_("Tags"), required=False, queryset=Tag.objects.order_by("name", "pk"),
                                          widget=forms.CheckboxSelectMultiple)

    def tag_ids(self) -> list[int]:
        return [tag.pk for tag in self.cleaned_data.get("tags") or []]
