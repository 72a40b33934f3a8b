"""Device screens: list (status, filters, sorting, pagination, HTMX), query budget, detail, forms."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.assets.models import Device, DeviceStateChange, SoftwareItem
from tenfold.clients.models import Client

pytestmark = pytest.mark.django_db


def logged_in(role: str = "admin", **kwargs) -> HttpClient:
    http = HttpClient()
    http.force_login(make_staff(role, **kwargs))
    return http


@pytest.fixture
def client_a() -> Client:
    return Client.objects.create(name="Boulangerie Martin", status="active")


def test_list_shows_status_and_filters_online(client_a: Client) -> None:
    # given an online and an offline device
    now = timezone.now()
    Device.objects.create(client=client_a, name="PC-COMPTA-01", last_seen_at=now, antivirus_state="running",
                          pending_updates=4, os_name="Windows 11 Pro", os_version="23H2")
    Device.objects.create(client=client_a, name="SRV-FICHIERS", kind="server", last_seen_at=now - timedelta(hours=1))
    http = logged_in()
    # when listing all, then only offline ones
    page = http.get("/devices/").content.decode()
    offline = http.get("/devices/?online=False").content.decode()
    # then the status, OS, AV state and pending updates are shown, and the filter is exact
    assert "Online" in page and "Windows 11 Pro 23H2" in page and "Running" in page
    assert '<td data-col="pending_updates">4</td>' in page
    assert "SRV-FICHIERS" in offline and "PC-COMPTA-01" not in offline


def test_list_filters_by_client_kind_and_searches(client_a: Client) -> None:
    other = Client.objects.create(name="Garage Perrin", status="active")
    Device.objects.create(client=client_a, name="SRV-FICHIERS", kind="server")
    Device.objects.create(client=client_a, name="PC-COMPTA-01", kind="workstation")
    Device.objects.create(client=other, name="SRV-ATELIER", kind="server")
    http = logged_in()
    servers_a = http.get(f"/devices/?client={client_a.pk}&kind=server").content.decode()
    search = http.get("/devices/?q=atelier").content.decode()
    assert "SRV-FICHIERS" in servers_a and "PC-COMPTA-01" not in servers_a and "SRV-ATELIER" not in servers_a
    assert "SRV-ATELIER" in search and "SRV-FICHIERS" not in search


def test_htmx_request_returns_only_the_table(client_a: Client) -> None:
    Device.objects.create(client=client_a, name="PC-COMPTA-01")
    response = logged_in().get("/devices/?q=compta", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-results")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="list-results">') and "<html" not in body and "PC-COMPTA-01" in body


def test_list_paginates_at_50(client_a: Client) -> None:
    Device.objects.bulk_create([Device(client=client_a, name=f"PC-{i:03d}") for i in range(120)])
    third = logged_in().get("/devices/?page=3").content.decode()
    assert "PC-119" in third and "PC-099" not in third and "Page 3 of 3" in third


def test_list_query_count_does_not_grow_with_rows(client_a: Client) -> None:
    http = logged_in()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get("/devices/?sort=-last_seen_at").status_code == 200
        return len(captured)

    queries()
    Device.objects.bulk_create([Device(client=client_a, name=f"PC-{i}", last_seen_at=timezone.now())
                                for i in range(3)])
    small = queries()
    other = Client.objects.create(name="Other", status="active")
    Device.objects.bulk_create([Device(client=other, name=f"SRV-{i}", kind="server") for i in range(60)])
    assert queries() == small


def test_portal_user_cannot_use_the_staff_device_list(client_a: Client) -> None:
    from tenfold.accounts.testing import make_portal_user

    http = HttpClient()
    http.force_login(make_portal_user(client_a, "portal_admin"))
    assert http.get("/devices/").status_code == 403


def test_detail_shows_hardware_posture_software_and_history(client_a: Client) -> None:
    # given a device with inventory, posture and a state change
    device = Device.objects.create(
        client=client_a, name="PC-COMPTA-01", vendor="Dell Inc.", model="OptiPlex 7010", serial_number="5CG1234XYZ",
        memory_bytes=16 * 1024**3, antivirus_product="Microsoft Defender", antivirus_state="running",
        firewall_state="on", pending_updates=2, warranty_end=date(2027, 3, 31),
        hardware={"disks": [{"mount": "C:", "total_bytes": 512 * 1024**3}], "network_interfaces": [
            {"name": "Ethernet", "mac": "00:11:22:33:44:55", "ipv4": ["192.168.1.23"]}]})
    SoftwareItem.objects.create(client=client_a, device=device, name="Mozilla Firefox", version="128.0")
    DeviceStateChange.objects.create(client=client_a, device=device, from_state="onboarding", to_state="active",
                                     reason="Set up done")
    # when the detail page is shown
    page = logged_in().get(f"/devices/{device.pk}/").content.decode()
    # then it shows all of it, and loads the agent panel from the agents app
    for text in ("OptiPlex 7010", "5CG1234XYZ", "16.0\xa0GB", "Microsoft Defender", "192.168.1.23", "Mozilla Firefox",
                 "Set up done", f'hx-get="/agents/devices/{device.pk}/"'):
        assert text in page, text


def test_software_fragment_searches(client_a: Client) -> None:
    device = Device.objects.create(client=client_a, name="PC-01")
    SoftwareItem.objects.bulk_create([SoftwareItem(client=client_a, device=device, name=n)
                                      for n in ("Mozilla Firefox", "7-Zip", "LibreOffice")])
    body = logged_in().get(f"/devices/{device.pk}/software/?q=zip").content.decode()
    assert "7-Zip" in body and "Firefox" not in body and "1 program" in body


def test_edit_form_saves_and_shows_errors(client_a: Client) -> None:
    device = Device.objects.create(client=client_a, name="PC-01")
    http = logged_in("technician")
    bad = http.post(f"/devices/{device.pk}/edit/", {"name": "PC-01", "kind": "workstation",
                                                    "purchase_date": "2025-01-01", "warranty_end": "2024-01-01"})
    assert bad.status_code == 200 and "The warranty cannot end before the purchase date." in bad.content.decode()
    assert Device.objects.get(pk=device.pk).warranty_end is None
    good = http.post(f"/devices/{device.pk}/edit/", {"name": "PC-COMPTA-02", "kind": "laptop",
                                                     "warranty_end": "2028-02-29"})
    assert good.status_code == 302
    assert Device.objects.filter(pk=device.pk).values_list("name", "kind", "warranty_end").get() == (
        "PC-COMPTA-02", "laptop", date(2028, 2, 29))


def test_state_form_moves_the_device_and_refuses_the_same_state(client_a: Client) -> None:
    device = Device.objects.create(client=client_a, name="PC-01", state="active")
    http = logged_in("technician")
    assert http.post(f"/devices/{device.pk}/state/", {"state": "maintenance", "reason": "RAM"}).status_code == 302
    same = http.post(f"/devices/{device.pk}/state/", {"state": "maintenance"})
    assert same.status_code == 422 and "The device is already in this state." in same.content.decode()
    assert list(DeviceStateChange.objects.values_list("to_state", "reason")) == [("maintenance", "RAM")]


def test_create_by_hand_form(client_a: Client) -> None:
    http = logged_in("technician")
    response = http.post(f"/devices/new/{client_a.pk}/", {"name": "IMP-ACCUEIL", "kind": "other", "vendor": "Brother"})
    device = Device.objects.get(name="IMP-ACCUEIL")
    assert response.status_code == 302 and response["Location"] == f"/devices/{device.pk}/"
    assert (device.client_id, device.managed, device.vendor) == (client_a.pk, False, "Brother")


def test_client_page_devices_panel_counts_exactly() -> None:
    # given a client with two online workstations, an offline server and a retired laptop, and another client
    from django.test import Client as HttpClient
    from django.utils import timezone

    from tenfold.accounts.testing import make_staff
    from tenfold.assets.models import Device
    from tenfold.clients.models import Client

    client = Client.objects.create(name="Panel Co", status="active")
    other = Client.objects.create(name="Elsewhere")
    now = timezone.now()
    Device.objects.create(client=client, name="PC-1", kind="workstation", managed=True, last_seen_at=now)
    Device.objects.create(client=client, name="PC-2", kind="workstation", managed=True, last_seen_at=now)
    Device.objects.create(client=client, name="SRV-1", kind="server", managed=True,
                          last_seen_at=now - timezone.timedelta(days=2))
    Device.objects.create(client=client, name="LAPTOP-OLD", kind="laptop", managed=True, state="retired")
    Device.objects.create(client=other, name="PC-X", kind="workstation", managed=True, last_seen_at=now)
    http = HttpClient()
    http.force_login(make_staff("technician"))
    # when the panel is loaded
    body = http.get(f"/devices/clients/{client.pk}/panel/").content.decode()
    # then the counts are exact and only this client's
    assert 'data-testid="managed-count">3<' in body
    assert 'data-testid="online-count">2<' in body
    assert f"?client={client.pk}&amp;kind=workstation" in body and ">2</td>" in body
    assert "laptop" not in body.lower() or "kind=laptop" not in body
