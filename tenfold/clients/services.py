"""Writes of clients, sites and contacts: validate, write, audit, emit — in one transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client, Contact, Site
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, ValidationError
from tenfold.core.roles import STAFF_ROLES, require
from tenfold.core.writes import apply_fields, clean_or_raise, save_or_unique_error

CLIENT_FIELDS = ("name", "status", "account_manager_id", "website", "phone", "notes")
SITE_FIELDS = ("name", "address", "postal_code", "city", "country", "time_zone")
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "job_title", "is_decision_maker",
                  "is_billing_contact", "site_id")


def _save(obj: Any, *, unique_message: Any, unique_field: str) -> None:
    clean_or_raise(obj)
    save_or_unique_error(obj, unique_message=unique_message, unique_field=unique_field)


def _check_account_manager(data: dict[str, Any]) -> None:
    manager_id = data.get("account_manager_id")
    if manager_id is None:
        return
    if not get_user_model().objects.filter(pk=manager_id, role__in=list(STAFF_ROLES), is_active=True).exists():
        raise ValidationError(_("Choose an active staff member."), field="account_manager")


@transaction.atomic
def client_create(*, actor: Any, data: dict[str, Any]) -> Client:
    """Create a client."""
    require(actor, "clients", "add")
    if actor.client_scope() is not None:
        # A restricted user could not see the client they create; only unrestricted staff add clients.
        raise ValidationError(_("Users restricted to assigned clients cannot create clients."))
    _check_account_manager(data)
    client = Client()
    apply_fields(client, CLIENT_FIELDS, data)
    _save(client, unique_message=_("A client with this name already exists."), unique_field="name")
    audit.record(actor, "client.created", client, changes=audit.snapshot(client, list(CLIENT_FIELDS)))
    events.emit("client.created", client_id=client.pk, payload={"client_id": client.pk, "status": client.status})
    return client


@transaction.atomic
def client_update(*, actor: Any, client: Client, data: dict[str, Any]) -> Client:
    """Change a client's details; a status change emits `client.status_changed`."""
    require(actor, "clients", "change")
    _check_account_manager(data)
    before = audit.snapshot(client)
    old_status = client.status
    apply_fields(client, CLIENT_FIELDS, data)
    _save(client, unique_message=_("A client with this name already exists."), unique_field="name")
    changes = audit.diff(before, audit.snapshot(client))
    if changes:
        audit.record(actor, "client.updated", client, changes=changes)
    if client.status != old_status:
        events.emit("client.status_changed", client_id=client.pk,
                    payload={"client_id": client.pk, "from": old_status, "to": client.status})
    return client


@transaction.atomic
def client_delete(*, actor: Any, client: Client) -> None:
    """Delete a client and everything it owns (owner/admin only)."""
    require(actor, "clients", "delete")
    if client.status == "active":
        raise Conflict(_("An active client cannot be deleted: set its status to former first."))
    snapshot = audit.snapshot(client)
    client_id = client.pk
    client.delete()
    audit.record(actor, "client.deleted", object_type="clients.client", object_id=str(client_id),
                 client_id=client_id, changes=snapshot)
    events.emit("client.deleted", client_id=client_id, payload={"client_id": client_id})


@transaction.atomic
def site_create(*, actor: Any, client: Client, data: dict[str, Any]) -> Site:
    """Add a site to a client."""
    require(actor, "clients", "change")
    site = Site(client=client)
    apply_fields(site, SITE_FIELDS, data)
    _save(site, unique_message=_("This client already has a site with this name."), unique_field="name")
    audit.record(actor, "site.created", site, changes=audit.snapshot(site, list(SITE_FIELDS)))
    events.emit("site.created", client_id=client.pk, payload={"site_id": site.pk, "client_id": client.pk})
    return site


@transaction.atomic
def site_update(*, actor: Any, site: Site, data: dict[str, Any]) -> Site:
    """Change a site."""
    require(actor, "clients", "change")
    before = audit.snapshot(site)
    apply_fields(site, SITE_FIELDS, data)
    _save(site, unique_message=_("This client already has a site with this name."), unique_field="name")
    changes = audit.diff(before, audit.snapshot(site))
    if changes:
        audit.record(actor, "site.updated", site, changes=changes)
    return site


@transaction.atomic
def site_delete(*, actor: Any, site: Site) -> None:
    """Remove a site (its contacts stay, without a site)."""
    require(actor, "clients", "change")
    snapshot, site_id, client_id = audit.snapshot(site), site.pk, site.client_id
    site.delete()
    audit.record(actor, "site.deleted", object_type="clients.site", object_id=str(site_id),
                 client_id=client_id, changes=snapshot)


def check_site_of_client(client_id: int, site_id: int | None) -> None:
    """Refuse a site that is not this client's (same message whether missing or another client's)."""
    if site_id is not None and not Site.objects.filter(pk=site_id, client_id=client_id).exists():
        # Never confirm that another client's site exists.
        raise ValidationError(_("Choose one of this client's sites."), field="site")


@transaction.atomic
def contact_create(*, actor: Any, client: Client, data: dict[str, Any]) -> Contact:
    """Add a contact to a client."""
    require(actor, "contacts", "add")
    check_site_of_client(client.pk, data.get("site_id"))
    contact = Contact(client=client)
    apply_fields(contact, CONTACT_FIELDS, data)
    contact.email = contact.email.lower()
    _save(contact, unique_message=_("This client already has a contact with this email."), unique_field="email")
    audit.record(actor, "contact.created", contact, changes=audit.snapshot(contact, list(CONTACT_FIELDS)))
    events.emit("contact.created", client_id=client.pk, payload={"contact_id": contact.pk, "client_id": client.pk})
    return contact


@transaction.atomic
def contact_update(*, actor: Any, contact: Contact, data: dict[str, Any]) -> Contact:
    """Change a contact."""
    require(actor, "contacts", "change")
    check_site_of_client(contact.client_id, data.get("site_id"))
    before = audit.snapshot(contact)
    apply_fields(contact, CONTACT_FIELDS, data)
    contact.email = contact.email.lower()
    _save(contact, unique_message=_("This client already has a contact with this email."), unique_field="email")
    changes = audit.diff(before, audit.snapshot(contact))
    if changes:
        audit.record(actor, "contact.updated", contact, changes=changes)
    return contact


@transaction.atomic
def contact_delete(*, actor: Any, contact: Contact) -> None:
    """Remove a contact."""
    require(actor, "contacts", "delete")
    snapshot, contact_id, client_id = audit.snapshot(contact), contact.pk, contact.client_id
    contact.delete()
    audit.record(actor, "contact.deleted", object_type="clients.contact", object_id=str(contact_id),
                 client_id=client_id, changes=snapshot)
