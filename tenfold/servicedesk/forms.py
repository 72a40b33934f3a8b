"""Forms of the service desk screens; they only parse input, the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import Device
from tenfold.clients.models import Client, Contact
from tenfold.contracts.models import Contract, Priority
from tenfold.core.roles import STAFF_ROLES
from tenfold.servicedesk.attachments import AttachmentsField
from tenfold.servicedesk.models import (
    Coverage,
    Queue,
    RecurrenceUnit,
    RecurringTicket,
    TicketStatus,
    TicketTemplate,
    TicketType,
    WorkType,
)


def staff_users() -> Any:
    return get_user_model().objects.filter(role__in=list(STAFF_ROLES), is_active=True).order_by(
        "first_name", "last_name")


def _id(value: Any) -> int | None:
    return value.pk if value is not None else None


class TicketForm(forms.Form):
    """Open or change a ticket."""

    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none())
    title = forms.CharField(label=_("title"), max_length=200)
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 6}))
    contact = forms.ModelChoiceField(label=_("contact"), queryset=Contact.objects.none(), required=False)
    devices = forms.ModelMultipleChoiceField(label=_("devices"), queryset=Device.objects.none(), required=False)
    priority = forms.ChoiceField(label=_("priority"), choices=Priority.choices, initial=Priority.P3)
    type = forms.ChoiceField(label=_("type"), choices=TicketType.choices, initial=TicketType.INCIDENT)
    queue = forms.ModelChoiceField(label=_("queue"), queryset=Queue.objects.filter(is_active=True), required=False)
    assignee = forms.ModelChoiceField(label=_("assignee"), queryset=staff_users(), required=False)
    tags = forms.CharField(label=_("tags"), required=False, max_length=300,
                           help_text=_("Comma-separated labels, e.g. vpn, printer."))
    due_at = forms.DateTimeField(label=_("due date"), required=False,
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    contract = forms.ModelChoiceField(label=_("contract"), queryset=Contract.objects.none(), required=False,
                                      help_text=_("Leave empty to pick the contract in force automatically."))
    template = forms.ModelChoiceField(label=_("template"), queryset=TicketTemplate.objects.filter(is_active=True),
                                      required=False)

    def __init__(self, *args: Any, actor: Any, client: Client | None = None, editing: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["client"].queryset = Client.objects.visible_to(actor).order_by("name")  # type: ignore[attr-defined]
        scoped = {"client": client} if client is not None else {}
        self.fields["contact"].queryset = Contact.objects.visible_to(actor).filter(  # type: ignore[attr-defined]
            **scoped).select_related("client")
        self.fields["devices"].queryset = Device.objects.visible_to(actor).filter(  # type: ignore[attr-defined]
            **scoped).order_by("name")
        self.fields["contract"].queryset = Contract.objects.visible_to(actor).filter(  # type: ignore[attr-defined]
            **scoped).exclude(status="cancelled")
        self.fields["assignee"].queryset = staff_users()  # type: ignore[attr-defined]
        if editing:
            del self.fields["client"]
            del self.fields["template"]
        else:
            self.fields["title"].required = False
            if client is not None:
                self.fields["client"].initial = client.pk

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.editing and not data.get("title") and not data.get("template"):
            self.add_error("title", _("Give the ticket a title or choose a template."))
        return data

    def service_data(self) -> dict[str, Any]:
        """Cleaned values in the shape ticket_create/ticket_update take."""
        d = self.cleaned_data
        data: dict[str, Any] = {
            "title": d["title"], "description": d["description"], "priority": d["priority"], "type": d["type"],
            "queue_id": _id(d["queue"]), "assignee_id": _id(d["assignee"]), "contact_id": _id(d["contact"]),
            "device_ids": [device.pk for device in d["devices"]], "tags": d["tags"], "due_at": d["due_at"]}
        if d.get("contract") is not None or self.editing:
            data["contract_id"] = _id(d.get("contract"))
        if not self.editing and d.get("template") is not None:
            data["template_id"] = d["template"].pk
        return data


class ReplyForm(forms.Form):
    """A public reply or an internal note."""

    body = forms.CharField(label=_("text"), widget=forms.Textarea(attrs={"rows": 4}), max_length=100_000)
    public = forms.BooleanField(label=_("Public reply (the client sees it)"), required=False)
    attachments = AttachmentsField(help_text=_("Files on an internal note stay with the staff."))


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("status"), choices=TicketStatus.choices)
    resolution = forms.CharField(label=_("resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class TimeEntryForm(forms.Form):
    """Time worked, logged by hand."""

    actual_minutes = forms.IntegerField(label=_("minutes worked"), min_value=1, max_value=1440)
    work_type = forms.ChoiceField(label=_("work type"), choices=WorkType.choices)
    coverage = forms.ChoiceField(label=_("coverage"), choices=Coverage.choices, required=False)
    billable = forms.BooleanField(label=_("billable"), required=False, initial=True)
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if not data.get("coverage"):
            data.pop("coverage", None)
        return data


class QueueForm(forms.ModelForm):
    class Meta:
        model = Queue
        fields = ["name", "description", "is_default", "is_active"]

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class TemplateForm(forms.ModelForm):
    runbook = forms.TypedChoiceField(label=_("runbook"), required=False, coerce=int, empty_value=None,
                                     help_text=_("Its steps become the ticket's checklist."))

    class Meta:
        model = TicketTemplate
        fields = ["name", "title", "description", "type", "priority", "queue", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from tenfold.knowledge.models import Runbook

        self.fields["runbook"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (r.pk, r.title) for r in Runbook.objects.filter(archived=False, client__isnull=True).order_by("title")]
        if self.instance.pk:
            self.fields["runbook"].initial = self.instance.runbook_id

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["queue_id"] = _id(data.pop("queue"))
        data["runbook_id"] = data.pop("runbook")
        return data


class RecurringForm(forms.ModelForm):
    class Meta:
        model = RecurringTicket
        fields = ["template", "contact", "assignee", "unit", "interval", "cron", "next_run_at", "is_active"]
        widgets = {"next_run_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(client=client)  # type: ignore[attr-defined]
        self.fields["assignee"].queryset = staff_users()  # type: ignore[attr-defined]
        self.fields["unit"].choices = RecurrenceUnit.choices  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for key in ("template", "contact", "assignee"):
            data[f"{key}_id"] = _id(data.pop(key))
        return data
