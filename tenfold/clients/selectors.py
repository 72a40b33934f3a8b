"""Reads of clients, sites and contacts, always scoped to what the actor may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from tenfold.clients.models import Client, ClientStatus, Contact, Site
from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible


def clients_visible(actor: Any) -> QuerySet[Client]:
    """Clients the actor may see (403 if the role has no access to clients at all)."""
    require(actor, "clients", "view")
    return Client.objects.visible_to(actor)


def client_list(actor: Any) -> QuerySet[Client]:
    """Clients with their site and contact counts, for list screens."""
    return clients_visible(actor).select_related("account_manager").annotate(
        site_count=Count("sites", distinct=True), contact_count=Count("contacts", distinct=True))


def access_client(actor: Any, client_id: Any) -> Client:
    """One client, or NotFound (missing and not-yours answer alike)."""
    require(actor, "clients", "view")
    return get_visible(Client.objects.select_related("account_manager"), actor, client_id)


def sites_visible(actor: Any) -> QuerySet[Site]:
    """Sites the actor may see."""
    require(actor, "clients", "view")
    return Site.objects.visible_to(actor).select_related("client")


def access_site(actor: Any, site_id: Any) -> Site:
    """One site, or NotFound."""
    require(actor, "clients", "view")
    return get_visible(Site.objects.select_related("client"), actor, site_id)


def contacts_visible(actor: Any) -> QuerySet[Contact]:
    """Contacts the actor may see."""
    require(actor, "contacts", "view")
    return Contact.objects.visible_to(actor).select_related("client", "site")


def access_contact(actor: Any, contact_id: Any) -> Contact:
    """One contact, or NotFound."""
    require(actor, "contacts", "view")
    return get_visible(Contact.objects.select_related("client", "site"), actor, contact_id)


def client_counts(actor: Any) -> dict[str, int]:
    """How many visible clients are in each status."""
    rows = Client.objects.visible_to(actor).aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status=ClientStatus.ACTIVE)),
        prospect=Count("pk", filter=Q(status=ClientStatus.PROSPECT)),
        former=Count("pk", filter=Q(status=ClientStatus.FORMER)),
    )
    return {k: int(v or 0) for k, v in rows.items()}


def decision_makers(client: Client) -> QuerySet[Contact]:
    """The client's decision makers (required at a QBR)."""
    return client.contacts.filter(is_decision_maker=True)
