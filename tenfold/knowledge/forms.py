"""Forms of the knowledge screens; they only parse input, the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client
from tenfold.knowledge.markdown import MAX_MARKDOWN_LENGTH
from tenfold.knowledge.models import KeyApplication, NetworkItem, Runbook, RunbookCategory
from tenfold.knowledge.services import MAX_STEPS, StepInput
from tenfold.monitoring.checktypes import CheckType


class RunbookForm(forms.ModelForm):
    """Create or change a runbook; the steps come as parallel lists (step_text, step_required)."""

    body_markdown = forms.CharField(label=_("body (Markdown)"), required=False, max_length=MAX_MARKDOWN_LENGTH,
                                    widget=forms.Textarea(attrs={"rows": 18, "class": "mono"}))
    summary = forms.CharField(label=_("change summary"), required=False, max_length=300)

    class Meta:
        model = Runbook
        fields = ["title", "category", "kind", "client", "body_markdown", "shared_with_client"]

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.visible_to(actor).order_by("name")  # type: ignore[attr-defined]
        self.fields["category"].queryset = RunbookCategory.objects.all()  # type: ignore[attr-defined]
        self.fields["title"].widget.attrs["autofocus"] = True
        self.steps: list[StepInput] = []
        if self.is_bound:
            texts = self.data.getlist("step_text") if hasattr(self.data, "getlist") else []
            required = set(self.data.getlist("step_required")) if hasattr(self.data, "getlist") else set()
            self.steps = [StepInput(text, str(i) in required) for i, text in enumerate(texts)]
        elif self.instance.pk:
            self.steps = [StepInput(s.text, s.required) for s in self.instance.steps.order_by("position")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if len([s for s in self.steps if s.text.strip()]) > MAX_STEPS:
            raise forms.ValidationError(_("A runbook has at most %(max)d steps.") % {"max": MAX_STEPS})
        return data

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("summary", None)
        for name in ("category", "client"):
            value = data.pop(name)
            data[f"{name}_id"] = value.pk if value else None
        return data

    def step_rows(self) -> list[dict[str, Any]]:
        """Rows for the template: the steps plus three blank ones to add."""
        rows = [{"index": i, "text": s.text, "required": s.required} for i, s in enumerate(self.steps)]
        start = len(rows)
        rows += [{"index": start + i, "text": "", "required": True} for i in range(3)]
        return rows


class OverviewForm(forms.Form):
    overview_markdown = forms.CharField(label=_("environment overview (Markdown)"), required=False,
                                        max_length=MAX_MARKDOWN_LENGTH,
                                        widget=forms.Textarea(attrs={"rows": 16, "class": "mono"}))
    shared_with_client = forms.BooleanField(
        label=_("shared with the client"), required=False,
        help_text=_("The client's portal administrators can read the environment overview in the portal."))


class NetworkItemForm(forms.ModelForm):
    class Meta:
        model = NetworkItem
        fields = ["kind", "name", "site", "address", "vlan_id", "provider", "notes"]

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = client.sites.order_by("name")  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        site = data.pop("site")
        data["site_id"] = site.pk if site else None
        return data


class KeyApplicationForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), required=False, max_length=500, assume_scheme="https")

    class Meta:
        model = KeyApplication
        fields = ["name", "vendor", "url", "support_contact", "notes"]

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class CredentialForm(forms.Form):
    """Create or change a credential; on change, an empty secret keeps the current one."""

    name = forms.CharField(label=_("name"), max_length=200)
    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none(), required=False,
                                    help_text=_("Empty: a credential of the MSP itself."))
    username = forms.CharField(label=_("username"), max_length=200, required=False)
    url = forms.URLField(label=_("URL"), max_length=500, required=False, assume_scheme="https")
    secret = forms.CharField(label=_("secret"), max_length=10_000, required=False, strip=False,
                             widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))
    totp_seed = forms.CharField(label=_("TOTP seed"), max_length=200, required=False,
                                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                                help_text=_("Optional: the base32 key of the account's authenticator."))
    clear_totp = forms.BooleanField(label=_("remove the TOTP seed"), required=False)
    notes = forms.CharField(label=_("notes"), required=False, max_length=5000,
                            widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Not encrypted: put no secret here."))

    def __init__(self, *args: Any, actor: Any = None, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.visible_to(actor).order_by("name")  # type: ignore[attr-defined]
        if not editing:
            self.fields["secret"].required = True
            del self.fields["clear_totp"]
        else:
            self.fields["secret"].help_text = _("Leave empty to keep the current secret.")

    def service_data(self) -> dict[str, Any]:
        data = {k: self.cleaned_data[k] for k in ("name", "username", "url", "notes")}
        client = self.cleaned_data.get("client")
        data["client_id"] = client.pk if client else None
        return data


class CheckLinkForm(forms.Form):
    check_type = forms.ChoiceField(label=_("check type"), choices=[("", "—"), *CheckType.choices])


class CategoryForm(forms.Form):
    """Name a runbook category (MSP-level)."""

    name = forms.CharField(label=_("name"), max_length=100)
    description = forms.CharField(label=_("description"), max_length=300, required=False)
    position = forms.IntegerField(label=_("position"), min_value=0, max_value=32767, initial=0,
                                  help_text=_("Categories are listed by position, then by name."))
