"""Forms of the email channel, the portal's ticket pages and the surveys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client
from tenfold.servicedesk.attachments import AttachmentsField
from tenfold.servicedesk.models import Priority, TicketType
from tenfold.servicedesk.models_email import ClientEmailDomain

SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


class SurveyForm(forms.Form):
    """Three scores from 1 to 5 and an optional comment."""

    professionalism = forms.ChoiceField(label=_("Professionalism"), choices=SCORE_CHOICES, widget=forms.RadioSelect)
    accuracy = forms.ChoiceField(label=_("Accuracy"), choices=SCORE_CHOICES, widget=forms.RadioSelect)
    speed = forms.ChoiceField(label=_("Speed"), choices=SCORE_CHOICES, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment (optional)"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class PortalTicketForm(forms.Form):
    """A portal user opens a ticket for their company."""

    title = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}), max_length=100_000)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices, initial=TicketType.INCIDENT)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.P3)
    attachments = AttachmentsField()


class PortalReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=100_000)
    attachments = AttachmentsField()


class EmailDomainForm(forms.Form):
    client: forms.ModelChoiceField[Client] = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none())
    domain = forms.CharField(label=_("Domain"), max_length=253)

    def __init__(self, *args: Any, clients: QuerySet[Client] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if clients is not None:
            self.fields["client"].queryset = clients  # type: ignore[attr-defined]

    def clean_domain(self) -> str:
        domain = self.cleaned_data["domain"].strip().lower().lstrip("@")
        if "." not in domain or any(c in domain for c in " /@:"):
            raise forms.ValidationError(_("Enter a domain such as example.com."))
        if ClientEmailDomain.objects.filter(domain__iexact=domain).exists():
            raise forms.ValidationError(_("This domain already belongs to a client."))
        return domain
