"""Network discovery: MAC normalisation and vendors, the `discovery` check-in item, set-based upserts,
matching, ignore and "add as a device", the API and pages."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.agents.protocol import ProtocolError, parse_checkin
from tenfold.agents.tests.helpers import AT, AT_DT, checkin_body, enroll, post
from tenfold.assets import selectors, services
from tenfold.assets.models import Device, DiscoveredDevice
from tenfold.assets.oui import normalise_mac, vendor_for
from tenfold.clients.models import Client
from tenfold.core.errors import Conflict, PermissionDenied
from tenfold.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def discovery(seq: int, neighbors: list[dict[str, Any]], subnet: str | None = "192.0.2.0/24",
              at: str = AT) -> dict[str, Any]:
    return {"seq": seq, "kind": "discovery", "at": at, "data": {"neighbors": neighbors, "subnet": subnet}}


def neighbour(ip: str, mac: str = "", hostname: str = "", source: str = "arp") -> dict[str, Any]:
    return {"ip": ip, "mac": mac, "hostname": hostname, "source": source}


@pytest.fixture
def client_a() -> Client:
    return Client.objects.create(name="Boulangerie Martin", status="active")


def checkin(credential: str, *items: dict[str, Any]) -> Any:
    return post(HttpClient(), "/agent/v1/checkin", checkin_body(*items), credential)


# --- MAC addresses and vendors ------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff"), ("aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:ff"),
    ("aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff"), ("AABBCCDDEEFF", "aa:bb:cc:dd:ee:ff"),
    ("0:80:77:1:2:3", "00:80:77:01:02:03"),
    ("", "")])
def test_normalise_mac_accepts_the_usual_spellings(raw: str, expected: str) -> None:
    assert normalise_mac(raw) == expected


@pytest.mark.parametrize("raw", ["aa:bb:cc:dd:ee", "gg:bb:cc:dd:ee:ff", "aa:bb-cc:dd:ee:ff", "aabbccddeeff00", "x"])
def test_normalise_mac_refuses_anything_else(raw: str) -> None:
    with pytest.raises(ValueError, match="not a MAC address"):
        normalise_mac(raw)


def test_vendor_from_the_oui_table_and_none_for_random_or_unknown() -> None:
    assert vendor_for("00:80:77:12:34:56") == "Brother"
    assert vendor_for("00:50:56:aa:bb:cc") == "VMware"
    assert vendor_for("da:a1:19:00:00:01") == ""  # locally administered (a phone's private address)
    assert vendor_for("00:00:01:00:00:01") == ""  # not in the small table


# --- The protocol item ---------------------------------------------------------------------------


def test_discovery_item_is_parsed_with_normalised_mac_and_ip() -> None:
    body = checkin_body(discovery(1, [neighbour("192.0.2.10", "AA-BB-CC-DD-EE-FF", "imp-accueil"),
                                      neighbour("2001:db8:0:0::1", source="ping")]))
    item = parse_checkin(json.dumps(body).encode()).items[0]
    assert item.kind == "discovery"
    assert [(n.ip, n.mac, n.hostname, n.source) for n in item.data.neighbors] == [
        ("192.0.2.10", "aa:bb:cc:dd:ee:ff", "imp-accueil", "arp"), ("2001:db8::1", "", "", "ping")]
    assert item.data.subnet == "192.0.2.0/24"


@pytest.mark.parametrize(("data", "fragment"), [
    ({"neighbors": [neighbour("192.0.2.300")]}, "data.neighbors.0.ip"),
    ({"neighbors": [neighbour("192.0.2.1", "zz:bb:cc:dd:ee:ff")]}, "data.neighbors.0.mac"),
    ({"neighbors": [neighbour("192.0.2.1", source="nmap")]}, "data.neighbors.0.source"),
    ({"neighbors": [], "subnet": "192.0.2.0/33"}, "data.subnet"),
    ({"neighbors": [{**neighbour("192.0.2.1"), "device_id": 3}]}, "data.neighbors.0.device_id"),
    ({"neighbors": [neighbour("192.0.2.1")] * 1025}, "data.neighbors"),
])
def test_bad_discovery_items_are_refused_by_seq(data: dict[str, Any], fragment: str) -> None:
    body = checkin_body({"seq": 9, "kind": "discovery", "at": AT, "data": data})
    with pytest.raises(ProtocolError) as info:
        parse_checkin(json.dumps(body).encode())
    assert list(info.value.errors) == ["seq:9"]
    assert info.value.errors["seq:9"][0].startswith(fragment)


# --- Applying it in the check-in ------------------------------------------------------------------


def test_checkin_creates_then_updates_discovered_devices_and_matches_managed_ones(client_a: Client) -> None:
    # given an enrolled agent whose inventory reports its own interface
    agent = enroll(client_a)
    Device.objects.filter(pk=agent["device_id"]).update(hardware={"network_interfaces": [
        {"name": "eth0", "mac": "00:1B:21:0A:0B:0C", "ipv4": ["192.0.2.5/24"], "ipv6": []}]})
    # when it reports its neighbours, itself and an address with an incomplete ARP entry included
    response = checkin(agent["credential"], discovery(1, [
        neighbour("192.0.2.10", "00:80:77:12:34:56", "imp-accueil"),
        neighbour("192.0.2.5", "00:1b:21:0a:0b:0c"),
        neighbour("192.0.2.20", "00:00:00:00:00:00", source="ping")]))
    # then three rows exist, the printer with its vendor, itself matched, the unknown MAC keyed by IP
    assert response.status_code == 200, response.content
    rows = {r.ip: r for r in DiscoveredDevice.objects.all()}
    assert sorted(rows) == ["192.0.2.10", "192.0.2.20", "192.0.2.5"]
    printer = rows["192.0.2.10"]
    assert (printer.mac, printer.vendor, printer.hostname, printer.seen_by_id, printer.matched_device_id,
            printer.subnet, printer.first_seen_at) == ("00:80:77:12:34:56", "Brother", "imp-accueil",
                                                       agent["device_id"], None, "192.0.2.0/24", AT_DT)
    assert rows["192.0.2.5"].matched_device_id == agent["device_id"]
    assert (rows["192.0.2.20"].mac, rows["192.0.2.20"].source) == ("", "ping")
    # when a later check-in sees the printer at a new address and the IP-only one with its MAC
    later = "2026-11-26T17:01:00Z"
    checkin(agent["credential"], discovery(2, [neighbour("192.0.2.11", "00:80:77:12:34:56"),
                                               neighbour("192.0.2.20", "30:05:5c:00:00:01")], at=later))
    # then the same rows are updated (hostname kept, first seen kept), none added
    assert DiscoveredDevice.objects.count() == 3
    printer.refresh_from_db()
    assert (printer.ip, printer.hostname, printer.first_seen_at.isoformat(), printer.last_seen_at.isoformat()) == (
        "192.0.2.11", "imp-accueil", "2026-11-26T16:01:00+00:00", "2026-11-26T17:01:00+00:00")
    upgraded = DiscoveredDevice.objects.get(ip="192.0.2.20")
    assert (upgraded.mac, upgraded.vendor) == ("30:05:5c:00:00:01", "Brother")


def test_discovery_costs_the_same_queries_for_5_or_500_neighbours(client_a: Client) -> None:
    # given an agent that already reported a first batch
    agent = enroll(client_a)

    def batch(seq: int, n: int) -> dict[str, Any]:
        return discovery(seq, [neighbour(f"10.0.{i // 250}.{i % 250 + 1}", f"00:80:77:00:{i // 250:02x}:{i % 250:02x}")
                               for i in range(n)])

    checkin(agent["credential"], batch(1, 3))
    # when it reports 5 neighbours (2 new), then 500 (495 new)
    with CaptureQueriesContext(connection) as small:
        assert checkin(agent["credential"], batch(2, 5)).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert checkin(agent["credential"], batch(3, 500)).status_code == 200
    # then the queries do not grow with the neighbours: only SQLite's smaller multi-row batches (a bound on
    # query parameters) add a few INSERT/UPDATE statements, never one per neighbour
    assert DiscoveredDevice.objects.count() == 500
    per_neighbour = [q["sql"] for q in large.captured_queries if "assets_discovereddevice" in q["sql"]]
    assert len(large.captured_queries) - len(small.captured_queries) <= (
        0 if connection.vendor == "postgresql" else 10), per_neighbour


def test_a_neighbour_of_another_client_is_its_own_row(client_a: Client) -> None:
    # given two clients whose agents both see the same MAC (a reused address)
    other = Client.objects.create(name="Garage Perrin", status="active")
    a, b = enroll(client_a), enroll(other, machine_id="other-machine")
    # when both report it
    checkin(a["credential"], discovery(1, [neighbour("192.0.2.10", "00:80:77:12:34:56")]))
    checkin(b["credential"], discovery(1, [neighbour("192.168.1.10", "00:80:77:12:34:56")]))
    # then each client has its own row
    assert sorted(DiscoveredDevice.objects.values_list("client_id", "ip")) == sorted(
        [(client_a.pk, "192.0.2.10"), (other.pk, "192.168.1.10")])


# --- Staff actions --------------------------------------------------------------------------------


def make_discovered(client: Client, ip: str = "192.0.2.10", mac: str = "00:80:77:12:34:56", **fields: Any) -> Any:
    now = timezone.now()
    return DiscoveredDevice.objects.create(client=client, ip=ip, mac=mac, vendor=vendor_for(mac), source="arp",
                                           first_seen_at=now - timedelta(days=2), last_seen_at=now, **fields)


def test_ignore_is_audited_and_a_second_ignore_is_a_conflict(client_a: Client) -> None:
    # given a discovered printer
    row = make_discovered(client_a)
    tech = make_staff("technician", mfa=False)
    # when a technician ignores it
    services.discovered_ignore(actor=tech, discovered=row)
    # then it is ignored, audited once; ignoring again is refused
    assert DiscoveredDevice.objects.get(pk=row.pk).ignored is True
    assert AuditEntry.objects.filter(action="discovered_device.ignored").count() == 1
    with pytest.raises(Conflict):
        services.discovered_ignore(actor=tech, discovered=row)


def test_finance_may_not_ignore(client_a: Client) -> None:
    row = make_discovered(client_a)
    with pytest.raises(PermissionDenied):
        services.discovered_ignore(actor=make_staff("finance", mfa=False), discovered=row)
    assert DiscoveredDevice.objects.get(pk=row.pk).ignored is False and AuditEntry.objects.count() == 0


def test_create_device_from_discovered_links_it_and_counts_as_matched(client_a: Client) -> None:
    # given two unmatched discovered devices, one of them ignored, and one managed device
    row = make_discovered(client_a, hostname="imp-accueil")
    make_discovered(client_a, ip="192.0.2.99", mac="", ignored=True)
    Device.objects.create(client=client_a, name="PC-01", managed=True, state="active")
    assert selectors.managed_vs_discovered(client_a.pk) == (1, 1)
    defaults = services.discovered_device_defaults(row)
    assert defaults == {"name": "imp-accueil", "hostname": "imp-accueil", "vendor": "Brother", "kind": "other",
                        "site_id": None, "notes": "MAC 00:80:77:12:34:56, IP 192.0.2.10"}
    # when a device is created from the printer
    device = services.discovered_create_device(actor=make_staff("technician", mfa=False), discovered=row,
                                               data={k: v for k, v in defaults.items()})
    # then it is unmanaged, the row points to it, and nothing is left unmatched
    assert (device.name, device.managed, DiscoveredDevice.objects.get(pk=row.pk).matched_device_id) == (
        "imp-accueil", False, device.pk)
    assert selectors.managed_vs_discovered(client_a.pk) == (1, 0)
    with pytest.raises(Conflict):
        services.discovered_create_device(actor=make_staff("admin", mfa=False), discovered=row, data=defaults)


def test_network_vendor_defaults_to_network_device(client_a: Client) -> None:
    row = make_discovered(client_a, mac="f0:9f:c2:00:00:01")
    assert services.discovered_device_defaults(row)["kind"] == "network_device"
    assert services.discovered_device_defaults(row)["name"] == "Ubiquiti-192.0.2.10"


# --- API and pages --------------------------------------------------------------------------------


def test_api_lists_with_filters_and_ignores(client_a: Client) -> None:
    # given a matched, an unmatched and an ignored row
    device = Device.objects.create(client=client_a, name="PC-01", managed=True)
    make_discovered(client_a, ip="192.0.2.5", mac="00:1b:21:0a:0b:0c", matched_device=device)
    printer = make_discovered(client_a, ip="192.0.2.10", hostname="imp-accueil")
    make_discovered(client_a, ip="192.0.2.30", mac="", ignored=True)
    http, headers = HttpClient(), bearer(make_api_token(make_staff("admin")))

    def ips(query: str) -> list[str]:
        response = http.get(f"/api/v1/discovered-devices{query}", **headers)
        assert response.status_code == 200, response.content
        return [item["ip"] for item in response.json()["items"]]

    # then filters and search answer exactly
    assert ips("") == ["192.0.2.10", "192.0.2.30", "192.0.2.5"]
    assert ips("?matched=false&ignored=false") == ["192.0.2.10"]
    assert ips("?matched=true") == ["192.0.2.5"]
    assert ips("?q=brother") == ["192.0.2.10"]
    assert ips("?ordering=-ip") == ["192.0.2.5", "192.0.2.30", "192.0.2.10"]
    assert http.get("/api/v1/discovered-devices?ordering=nope", **headers).status_code == 422
    # when the printer is ignored through the API, twice
    first = http.post(f"/api/v1/discovered-devices/{printer.pk}/ignore", data="{}",
                      content_type="application/json", **headers)
    second = http.post(f"/api/v1/discovered-devices/{printer.pk}/ignore", data="{}",
                       content_type="application/json", **headers)
    assert (first.status_code, first.json()["ignored"], second.status_code) == (200, True, 409)
    bad = http.post(f"/api/v1/discovered-devices/{printer.pk}/ignore", data='{"ignored": true, "x": 1}',
                    content_type="application/json", **headers)
    assert bad.status_code == 422


def test_pages_list_filter_and_create_a_device(client_a: Client) -> None:
    # given an unmatched printer and a logged-in technician
    row = make_discovered(client_a, hostname="imp-accueil")
    make_discovered(client_a, ip="192.0.2.77", mac="00:50:56:00:00:01", ignored=True)
    http = HttpClient()
    http.force_login(make_staff("technician"))
    # when they filter the list to what is not ignored
    page = http.get(f"/devices/discovered/?client={client_a.pk}&ignored=False")
    # then only the printer shows
    assert page.status_code == 200
    assert "imp-accueil" in page.content.decode() and "192.0.2.77" not in page.content.decode()
    # and the create page is prefilled
    form = http.get(f"/devices/discovered/{row.pk}/create-device/")
    assert 'value="imp-accueil"' in form.content.decode()
    # when they submit it
    response = http.post(f"/devices/discovered/{row.pk}/create-device/", {"name": "IMP-ACCUEIL", "kind": "other"})
    # then the device exists and the row is matched to it
    device = Device.objects.get(name="IMP-ACCUEIL")
    assert response.status_code == 302 and response["Location"] == f"/devices/{device.pk}/"
    assert DiscoveredDevice.objects.get(pk=row.pk).matched_device_id == device.pk
    # and ignoring from the detail page works
    assert http.post(f"/devices/discovered/{row.pk}/ignore/", {"ignored": "1"}).status_code == 302
    assert DiscoveredDevice.objects.get(pk=row.pk).ignored is True


def test_list_page_queries_do_not_grow_with_rows(client_a: Client) -> None:
    # given a technician and 3, then 40 discovered devices, some matched
    http = HttpClient()
    http.force_login(make_staff("technician"))
    device = Device.objects.create(client=client_a, name="PC-01", managed=True)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get("/devices/discovered/").status_code == 200
        return len(queries.captured_queries)

    for i in range(3):
        make_discovered(client_a, ip=f"192.0.2.{i + 1}", mac=f"00:80:77:00:00:{i:02x}", matched_device=device)
    few = count_queries()
    for i in range(3, 40):
        make_discovered(client_a, ip=f"192.0.2.{i + 1}", mac=f"00:80:77:00:00:{i:02x}",
                        matched_device=device if i % 2 else None)
    # then the page costs the same number of queries
    assert count_queries() == few
