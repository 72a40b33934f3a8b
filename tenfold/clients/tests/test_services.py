"""Client, site and contact services: validation, permissions, audit and events."""

from __future__ import annotations

import pytest

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.clients import services
from tenfold.clients.models import Client, Contact, Site
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db


def test_client_create_writes_audit_and_event() -> None:
    # given an account manager
    manager = make_staff("account_manager")
    # when they create a client
    client = services.client_create(actor=manager, data={"name": "  Boulangerie Martin  ", "status": "prospect",
                                                          "account_manager_id": manager.pk})
    # then the client exists with trimmed name, one audit row and one event name it
    assert Client.objects.get(pk=client.pk).name == "Boulangerie Martin"
    entry = AuditEntry.objects.get(action="client.created")
    assert (entry.actor_id, entry.object_id, entry.client_id) == (manager.pk, str(client.pk), client.pk)
    assert entry.changes["name"] == "Boulangerie Martin"
    event = OutboxEvent.objects.get(name="client.created")
    assert event.payload == {"client_id": client.pk, "status": "prospect"}


def test_client_name_is_unique_ignoring_case() -> None:
    # given a client
    admin = make_staff("admin")
    services.client_create(actor=admin, data={"name": "Pharmacie du Centre"})
    # when another is created with the same name in other case
    with pytest.raises(ValidationError) as info:
        services.client_create(actor=admin, data={"name": "PHARMACIE DU CENTRE"})
    # then it is refused on the name field and nothing was added
    assert info.value.errors == {"name": ["A client with this name already exists."]}
    assert Client.objects.count() == 1
    assert AuditEntry.objects.filter(action="client.created").count() == 1


def test_technician_cannot_create_client() -> None:
    # given a technician (read-only on clients)
    tech = make_staff("technician")
    # when they try to create one
    with pytest.raises(PermissionDenied):
        services.client_create(actor=tech, data={"name": "Nope"})
    # then nothing was written
    assert Client.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_restricted_staff_cannot_create_client() -> None:
    # given a service manager restricted to one client
    existing = Client.objects.create(name="Existing")
    manager = make_staff("service_manager", clients=[existing], restricted=True)
    # when they create a client
    with pytest.raises(ValidationError):
        services.client_create(actor=manager, data={"name": "Other"})
    # then only the existing client is there
    assert list(Client.objects.values_list("name", flat=True)) == ["Existing"]


def test_account_manager_must_be_active_staff() -> None:
    # given a portal user of some client
    admin = make_staff("admin")
    other = Client.objects.create(name="Other")
    portal = make_portal_user(other, "portal_admin")
    # when someone names the portal user account manager
    with pytest.raises(ValidationError) as info:
        services.client_create(actor=admin, data={"name": "Client X", "account_manager_id": portal.pk})
    # then it is refused on that field
    assert list(info.value.errors) == ["account_manager"]
    assert not Client.objects.filter(name="Client X").exists()


def test_status_change_emits_event_with_before_and_after() -> None:
    # given a prospect
    admin = make_staff("admin")
    client = services.client_create(actor=admin, data={"name": "Hôtel Les Terrasses"})
    # when it becomes active
    services.client_update(actor=admin, client=client, data={"status": "active"})
    # then the event says from where to where, and the audit diff holds only the status
    event = OutboxEvent.objects.get(name="client.status_changed")
    assert event.payload == {"client_id": client.pk, "from": "prospect", "to": "active"}
    update = AuditEntry.objects.get(action="client.updated")
    assert update.changes == {"status": ["prospect", "active"]}


def test_active_client_cannot_be_deleted() -> None:
    # given an active client
    admin = make_staff("admin")
    client = Client.objects.create(name="Active Co", status="active")
    # when the admin deletes it
    with pytest.raises(Conflict):
        services.client_delete(actor=admin, client=client)
    # then it is still there
    assert Client.objects.filter(pk=client.pk).exists()


def test_site_time_zone_must_be_known() -> None:
    # given a client
    admin = make_staff("admin")
    client = Client.objects.create(name="Structura")
    # when a site gets a made-up time zone
    with pytest.raises(ValidationError) as info:
        services.site_create(actor=admin, client=client, data={"name": "HQ", "time_zone": "Europe/Atlantis"})
    # then the time zone field is named and no site exists
    assert list(info.value.errors) == ["time_zone"]
    assert Site.objects.count() == 0


def test_contact_site_of_another_client_is_refused() -> None:
    # given two clients, a site of the second
    admin = make_staff("admin")
    first = Client.objects.create(name="First")
    second = Client.objects.create(name="Second")
    foreign_site = Site.objects.create(client=second, name="Elsewhere")
    # when a contact of the first is attached to the second's site
    with pytest.raises(ValidationError) as info:
        services.contact_create(actor=admin, client=first, data={
            "first_name": "Ana", "last_name": "Lopes", "site_id": foreign_site.pk})
    # then it is refused with the same message as a missing site
    assert info.value.errors == {"site": ["Choose one of this client's sites."]}
    assert Contact.objects.count() == 0


def test_contact_email_unique_per_client_ignoring_case() -> None:
    # given a contact
    admin = make_staff("admin")
    client = Client.objects.create(name="Roux")
    services.contact_create(actor=admin, client=client, data={"first_name": "A", "last_name": "B",
                                                              "email": "a.b@roux.example"})
    # when a second contact has the same e-mail in capitals
    with pytest.raises(ValidationError) as info:
        services.contact_create(actor=admin, client=client, data={"first_name": "C", "last_name": "D",
                                                                  "email": "A.B@ROUX.EXAMPLE"})
    # then it is refused on email
    assert list(info.value.errors) == ["email"]
    assert Contact.objects.count() == 1


def test_portal_admin_may_add_contacts_but_not_change_client() -> None:
    # given a portal administrator of a client
    client = Client.objects.create(name="Lucioles")
    portal_admin = make_portal_user(client, "portal_admin")
    # when they add a colleague and then try to rename the company
    contact = services.contact_create(actor=portal_admin, client=client, data={"first_name": "Léa",
                                                                               "last_name": "Roy"})
    with pytest.raises(PermissionDenied):
        services.client_update(actor=portal_admin, client=client, data={"name": "Renamed"})
    # then the contact exists and the name did not change
    assert Contact.objects.get(pk=contact.pk).client_id == client.pk
    assert Client.objects.get(pk=client.pk).name == "Lucioles"


def test_unknown_field_is_refused() -> None:
    admin = make_staff("admin")
    with pytest.raises(ValidationError):
        services.client_create(actor=admin, data={"name": "X", "is_admin": True})
    assert Client.objects.count() == 0
