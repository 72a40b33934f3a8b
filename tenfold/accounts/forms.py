"""Forms of the user management and "Your account" pages; the rules themselves live in services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.accounts.models import User
from tenfold.clients.models import Client, Contact
from tenfold.clients.selectors import clients_visible, contacts_visible
from tenfold.core.errors import TenfoldError
from tenfold.core.roles import PORTAL_ROLES, STAFF_ROLES, Role


def language_choices() -> list[tuple[str, Any]]:
    """The languages a user may pick, after "the browser's language"."""
    return [("", _("Browser's language")), *settings.LANGUAGES]


def apply_errors(form: forms.Form, error: TenfoldError) -> None:
    """Show a service's error beside the fields it names (or above the form)."""
    aliases = {"assigned_client_ids": "assigned_clients", "client_id": "client", "contact_id": "contact"}
    if not error.errors:
        form.add_error(None, str(error.message))
        return
    for field, messages in error.errors.items():
        name = aliases.get(field, field)
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


class MoneyField(forms.DecimalField):
    """A non-negative amount with two decimal places."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=0, max_digits=10, decimal_places=2, required=False, **kwargs)


class ContactChoiceField(forms.ModelChoiceField):
    """A contact shown with its client, so that the right one is picked."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} ({obj.client})"


class UserForm(forms.Form):
    """Create or edit a user: which fields appear depends on staff or portal and on the actor's role."""

    email = forms.EmailField(label=_("E-mail"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    role = forms.ChoiceField(label=_("Role"))
    language = forms.ChoiceField(label=_("Language"), required=False, choices=language_choices)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                   help_text=_("An inactive user can neither log in nor use API tokens."))
    password = forms.CharField(label=_("Initial password"), required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("At least 12 characters. Leave empty to set one later."))
    # Staff only
    job_title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    hourly_cost_rate = MoneyField(label=_("Hourly cost rate"),
                                  help_text=_("What an hour of this person costs the MSP."))
    default_bill_rate = MoneyField(label=_("Default bill rate"),
                                   help_text=_("What an hour of this person is billed at, unless a contract "
                                               "says otherwise."))
    restrict_to_clients = forms.BooleanField(label=_("Restricted to assigned clients"), required=False,
                                             help_text=_("When set, this user sees only the clients assigned "
                                                         "below."))
    assigned_clients = forms.ModelMultipleChoiceField(label=_("Assigned clients"), required=False,
                                                      queryset=Client.objects.none(),
                                                      widget=forms.SelectMultiple(attrs={"size": 8}))
    # Portal only
    client = forms.ModelChoiceField(label=_("Client"), required=False, queryset=Client.objects.none(),
                                    help_text=_("Portal users belong to one client."))
    contact = ContactChoiceField(label=_("Contact"), required=False, queryset=Contact.objects.none(),
                                 help_text=_("The client's contact this portal user stands for (optional)."))

    STAFF_FIELDS = ("job_title", "phone", "hourly_cost_rate", "default_bill_rate", "restrict_to_clients",
                    "assigned_clients")
    PORTAL_FIELDS = ("client", "contact")

    def __init__(self, *args: Any, actor: Any, instance: User | None = None, **kwargs: Any) -> None:
        self.actor = actor
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_for(instance)
        super().__init__(*args, **kwargs)
        roles = [(value, label) for value, label in Role.choices
                 if value != Role.OWNER or getattr(actor, "role", None) == Role.OWNER]
        clients = clients_visible(actor).order_by("name")
        cast(forms.ModelMultipleChoiceField, self.fields["assigned_clients"]).queryset = clients
        cast(forms.ModelChoiceField, self.fields["client"]).queryset = clients
        contacts = contacts_visible(actor).order_by("last_name", "first_name")
        contact_field = cast(ContactChoiceField, self.fields["contact"])
        role_field = cast(forms.ChoiceField, self.fields["role"])
        if instance is None:
            role_field.choices = roles
            role_field.initial = Role.TECHNICIAN
            del self.fields["is_active"]
            contact_field.queryset = contacts
            return
        del self.fields["password"]
        family = PORTAL_ROLES if instance.is_portal else STAFF_ROLES
        role_field.choices = [(v, label) for v, label in roles if v in family]
        if instance.is_portal:
            for name in self.STAFF_FIELDS:
                del self.fields[name]
            del self.fields["client"]
            contact_field.queryset = contacts.filter(client=instance.client)
        else:
            for name in self.PORTAL_FIELDS:
                del self.fields[name]

    def staff_fields(self) -> list[forms.BoundField]:
        """The fields of the staff section present on this form."""
        return [self[name] for name in self.STAFF_FIELDS if name in self.fields]

    def portal_fields(self) -> list[forms.BoundField]:
        """The fields of the portal section present on this form."""
        return [self[name] for name in self.PORTAL_FIELDS if name in self.fields]

    def main_fields(self) -> list[forms.BoundField]:
        """Identity, role, language, state, password."""
        names = ("email", "first_name", "last_name", "role", "language", "is_active", "password")
        return [self[name] for name in names if name in self.fields]

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned data as the services take it."""
        data = dict(self.cleaned_data)
        out: dict[str, Any] = {k: data[k] for k in ("email", "first_name", "last_name", "role", "language")}
        if "is_active" in self.fields:
            out["is_active"] = data["is_active"]
        if "password" in self.fields:
            out["password"] = data.get("password") or None
        if "hourly_cost_rate" in self.fields:
            out.update(job_title=data["job_title"], phone=data["phone"],
                       hourly_cost_rate=data["hourly_cost_rate"], default_bill_rate=data["default_bill_rate"],
                       restrict_to_clients=data["restrict_to_clients"],
                       assigned_client_ids=[c.pk for c in data["assigned_clients"]])
        if "contact" in self.fields:
            out["contact_id"] = data["contact"].pk if data.get("contact") else None
        if "client" in self.fields:
            out["client_id"] = data["client"].pk if data.get("client") else None
        return out


def initial_for(user: User) -> dict[str, Any]:
    """A user's current values, as the edit form shows them."""
    initial: dict[str, Any] = {
        "email": user.email, "first_name": user.first_name, "last_name": user.last_name, "role": user.role,
        "language": user.language, "is_active": user.is_active,
        "restrict_to_clients": user.restrict_to_clients,
        "assigned_clients": list(user.assigned_clients.all()), "contact": user.contact_id,
    }
    profile = getattr(user, "staff_profile", None)
    if profile is not None:
        initial.update(job_title=profile.job_title, phone=profile.phone,
                       hourly_cost_rate=profile.hourly_cost_rate, default_bill_rate=profile.default_bill_rate)
    return initial


class PasswordSetForm(forms.Form):
    """An administrator sets a new password for a user."""

    password1 = forms.CharField(label=_("New password"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=_("At least 12 characters."))
    password2 = forms.CharField(label=_("New password (again)"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


class ProfileForm(forms.Form):
    """One's own names and language."""

    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    language = forms.ChoiceField(label=_("Language"), required=False, choices=language_choices)


EXPIRY_CHOICES = [
    ("", _("Never")),
    ("30", _("In 30 days")),
    ("90", _("In 90 days")),
    ("365", _("In a year")),
]


class TokenForm(forms.Form):
    """A new personal API token."""

    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What will use it, e.g. “nightly export script”."))
    access = forms.ChoiceField(label=_("Access"), initial="read_only", widget=forms.RadioSelect,
                               choices=[("read_only", _("Read only (GET requests)")),
                                        ("read_write", _("Read and write"))])
    expires_in = forms.ChoiceField(label=_("Expires"), required=False, choices=EXPIRY_CHOICES)

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned data as token_create takes it."""
        days = self.cleaned_data.get("expires_in")
        return {"name": self.cleaned_data["name"], "read_only": self.cleaned_data["access"] == "read_only",
                "expires_at": timezone.now() + timedelta(days=int(days)) if days else None}
