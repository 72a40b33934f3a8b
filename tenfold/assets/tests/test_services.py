"""Device services: manual creation, edits, lifecycle with history, audit and events, refusals."""

from __future__ import annotations

from datetime import date

import pytest

from tenfold.accounts.testing import make_staff
from tenfold.assets import services
from tenfold.assets.models import Device, DeviceStateChange
from tenfold.clients.models import Client, Site
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a() -> Client:
    return Client.objects.create(name="Boulangerie Martin", status="active")


def test_device_create_by_hand_is_active_unmanaged_audited(client_a: Client) -> None:
    # given a technician and a site of the client
    tech = make_staff("technician", mfa=False)
    site = Site.objects.create(client=client_a, name="Fournil")
    # when they add a printer by hand
    device = services.device_create(actor=tech, client=client_a, data={
        "name": " IMP-ACCUEIL ", "kind": "other", "site_id": site.pk, "vendor": "Brother",
        "warranty_end": date(2027, 6, 30), "purchase_date": date(2024, 6, 30)})
    # then it is stored trimmed, active, unmanaged, with a first history row, an audit row and an event
    stored = Device.objects.get(pk=device.pk)
    assert (stored.name, stored.state, stored.managed, stored.site_id, stored.warranty_end) == (
        "IMP-ACCUEIL", "active", False, site.pk, date(2027, 6, 30))
    history = list(DeviceStateChange.objects.values_list("from_state", "to_state", "actor_id"))
    assert history == [("", "active", tech.pk)]
    entry = AuditEntry.objects.get(action="device.created")
    assert (entry.actor_id, entry.client_id, entry.changes["name"]) == (tech.pk, client_a.pk, "IMP-ACCUEIL")
    assert OutboxEvent.objects.get(name="device.created").payload == {
        "device_id": device.pk, "client_id": client_a.pk, "kind": "other", "managed": False}


def test_device_create_refuses_another_clients_site(client_a: Client) -> None:
    # given a site of another client
    other = Client.objects.create(name="Garage Perrin")
    foreign = Site.objects.create(client=other, name="Atelier")
    # when a device of client A is created at it
    with pytest.raises(ValidationError) as info:
        services.device_create(actor=make_staff("admin", mfa=False), client=client_a,
                               data={"name": "PC-01", "site_id": foreign.pk})
    # then it is refused on the site field, nothing written
    assert info.value.errors == {"site": ["Choose one of this client's sites."]}
    assert Device.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_warranty_cannot_end_before_purchase(client_a: Client) -> None:
    with pytest.raises(ValidationError) as info:
        services.device_create(actor=make_staff("admin", mfa=False), client=client_a, data={
            "name": "PC-01", "purchase_date": date(2025, 1, 1), "warranty_end": date(2024, 1, 1)})
    assert list(info.value.errors) == ["warranty_end"]
    assert Device.objects.count() == 0


def test_account_manager_cannot_create_or_change_devices(client_a: Client) -> None:
    # given an account manager (read-only on devices) and a device
    manager = make_staff("account_manager", mfa=False)
    device = Device.objects.create(client=client_a, name="PC-01", state="active")
    # when they try to add or change devices
    with pytest.raises(PermissionDenied):
        services.device_create(actor=manager, client=client_a, data={"name": "PC-02"})
    with pytest.raises(PermissionDenied):
        services.device_update(actor=manager, device=device, data={"name": "Renamed"})
    with pytest.raises(PermissionDenied):
        services.device_set_state(actor=manager, device=device, state="retired")
    # then nothing changed
    assert list(Device.objects.values_list("name", "state")) == [("PC-01", "active")]
    assert AuditEntry.objects.count() == 0 and DeviceStateChange.objects.count() == 0


def test_device_update_records_only_the_changes_and_a_warranty_event(client_a: Client) -> None:
    # given a device
    admin = make_staff("admin", mfa=False)
    device = Device.objects.create(client=client_a, name="SRV-FICHIERS", kind="server", warranty_end=date(2026, 1, 1))
    # when its warranty is extended and its notes set
    services.device_update(actor=admin, device=device, data={"warranty_end": date(2029, 1, 1), "notes": "Extended",
                                                             "name": "SRV-FICHIERS"})
    # then the audit row holds exactly those two changes and an event carries the new date
    entry = AuditEntry.objects.get(action="device.updated")
    assert entry.changes == {"notes": ["", "Extended"], "warranty_end": ["2026-01-01", "2029-01-01"]}
    assert OutboxEvent.objects.get(name="device.warranty_changed").payload == {
        "device_id": device.pk, "from": "2026-01-01", "to": "2029-01-01"}


def test_device_update_refuses_fields_staff_do_not_maintain(client_a: Client) -> None:
    device = Device.objects.create(client=client_a, name="PC-01")
    with pytest.raises(ValidationError):
        services.device_update(actor=make_staff("admin", mfa=False), device=device, data={"last_seen_at": None})
    assert AuditEntry.objects.count() == 0


def test_set_state_keeps_history_audits_and_emits(client_a: Client) -> None:
    # given an onboarding device
    tech = make_staff("technician", mfa=False)
    device = Device.objects.create(client=client_a, name="PC-COMPTA-01", state="onboarding")
    # when it goes active, then into maintenance, then is retired
    services.device_set_state(actor=tech, device=device, state="active")
    services.device_set_state(actor=tech, device=device, state="maintenance", reason="Disk replaced")
    services.device_retire(actor=tech, device=device, reason="Replaced by PC-COMPTA-04")
    # then the history holds the three moves in order, each audited and announced
    assert list(DeviceStateChange.objects.order_by("pk").values_list("from_state", "to_state", "reason")) == [
        ("onboarding", "active", ""), ("active", "maintenance", "Disk replaced"),
        ("maintenance", "retired", "Replaced by PC-COMPTA-04")]
    assert Device.objects.get(pk=device.pk).state == "retired"
    assert AuditEntry.objects.filter(action="device.state_changed").count() == 3
    assert [e.payload["to"] for e in OutboxEvent.objects.filter(name="device.state_changed").order_by("pk")] == [
        "active", "maintenance", "retired"]


def test_set_state_to_the_same_state_is_a_conflict(client_a: Client) -> None:
    device = Device.objects.create(client=client_a, name="PC-01", state="active")
    with pytest.raises(Conflict):
        services.device_set_state(actor=make_staff("admin", mfa=False), device=device, state="active")
    assert DeviceStateChange.objects.count() == 0


def test_machine_id_is_unique_per_client_only_when_set(client_a: Client) -> None:
    # given two devices without machine id and one with
    Device.objects.create(client=client_a, name="A")
    Device.objects.create(client=client_a, name="B")
    Device.objects.create(client=client_a, name="C", machine_id="m-1")
    other = Client.objects.create(name="Other")
    Device.objects.create(client=other, name="C elsewhere", machine_id="m-1")
    # when a second device of the same client takes the same machine id
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.create(client=client_a, name="D", machine_id="m-1")
    # then only the first four exist
    assert Device.objects.count() == 4
