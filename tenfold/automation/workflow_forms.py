"""Forms of the workflow and webhook screens: they parse input; the services validate and write."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenfold.automation.workflows import EVENT_NAMES


class WorkflowForm(forms.Form):
    """A workflow: name, description, enabled, and its definition as JSON (built by the builder's script)."""

    name = forms.CharField(label=_("name"), max_length=200)
    description = forms.CharField(label=_("description"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    enabled = forms.BooleanField(label=_("enabled"), required=False, initial=True)
    definition = forms.CharField(label=_("definition (JSON)"), max_length=200_000,
                                 widget=forms.Textarea(attrs={"rows": 12, "class": "mono",
                                                              "data-workflow-definition": ""}))

    def clean_definition(self) -> Any:
        try:
            return json.loads(self.cleaned_data["definition"])
        except ValueError as exc:
            raise forms.ValidationError(_("The definition is not valid JSON.")) from exc


class WebhookForm(forms.Form):
    """A webhook subscription: a name, an https URL and the events it receives."""

    name = forms.CharField(label=_("name"), max_length=200)
    url = forms.CharField(label=_("URL"), max_length=500, help_text=_("An https:// address reachable from the "
                                                                     "internet (private addresses are refused)."))
    events = forms.MultipleChoiceField(label=_("events"), choices=[(e, e) for e in EVENT_NAMES],
                                       widget=forms.CheckboxSelectMultiple)
    enabled = forms.BooleanField(label=_("enabled"), required=False, initial=True)
