"""Network discovery from agents: set-based upserts of the neighbours they report.

Called inside the check-in transaction (not audited: telemetry). Whatever the number of neighbours,
it costs one read of the client's known addresses, one read of the rows already discovered, one
multi-row INSERT and one batched UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from tenfold.assets.models import Device, DeviceState, DiscoveredDevice
from tenfold.assets.oui import is_placeholder, normalise_mac, vendor_for

Neighbour = tuple[str, str, str, str]  # ip, mac, hostname, source
UPDATE_FIELDS = ["ip", "mac", "hostname", "vendor", "source", "subnet", "last_seen_at", "seen_by",
                 "matched_device", "updated_at"]


def known_addresses(client_id: int) -> tuple[dict[str, int], dict[str, int], dict[int, int | None]]:
    """The client's devices by MAC and by IP (managed devices as reported by their agent), and each
    device's site: one query."""
    by_mac: dict[str, int] = {}
    by_ip: dict[str, int] = {}
    sites: dict[int, int | None] = {}
    rows = (Device.objects.filter(client_id=client_id).exclude(state=DeviceState.RETIRED)
            .values_list("pk", "site_id", "managed", "last_ip", "hardware"))
    for pk, site_id, managed, last_ip, hardware in rows:
        sites[pk] = site_id
        if not managed:
            continue
        if last_ip:
            by_ip.setdefault(last_ip, pk)
        interfaces = (hardware or {}).get("network_interfaces") if isinstance(hardware, dict) else None
        for interface in interfaces if isinstance(interfaces, list) else []:
            if not isinstance(interface, dict):
                continue
            try:
                mac = normalise_mac(str(interface.get("mac") or ""))
            except ValueError:
                mac = ""
            if mac and not is_placeholder(mac):
                by_mac.setdefault(mac, pk)
            for address in list(interface.get("ipv4") or []) + list(interface.get("ipv6") or []):
                by_ip.setdefault(str(address).split("/", 1)[0], pk)
    return by_mac, by_ip, sites


def discovery_record(client_id: int, device_id: int,
                     items: list[tuple[datetime, str, list[Neighbour]]]) -> tuple[int, int]:
    """Upsert the neighbours one device's agent saw; returns (created, updated)."""
    latest: dict[tuple[str, str], tuple[str, str, str, str, str, datetime]] = {}
    for at, subnet, neighbours in items:
        for ip, raw_mac, hostname, source in neighbours:
            mac = "" if is_placeholder(raw_mac) else raw_mac
            key = ("mac", mac) if mac else ("ip", ip)
            previous = latest.get(key)
            if previous is None or previous[5] <= at:
                latest[key] = (ip, mac, hostname, source, subnet, at)
    if not latest:
        return 0, 0
    macs = [key[1] for key in latest if key[0] == "mac"]
    ips = sorted({value[0] for value in latest.values()})
    existing = list(DiscoveredDevice.objects.filter(client_id=client_id).filter(
        Q(mac__in=macs) | Q(mac="", ip__in=ips)))
    rows_by_mac = {row.mac: row for row in existing if row.mac}
    rows_by_ip = {row.ip: row for row in existing if not row.mac}
    device_by_mac, device_by_ip, sites = known_addresses(client_id)
    now = timezone.now()
    created: list[DiscoveredDevice] = []
    updated: dict[int, DiscoveredDevice] = {}
    # MAC-keyed neighbours first, so an address seen earlier without its MAC gains it.
    for key in sorted(latest, key=lambda k: k[0] != "mac"):
        ip, mac, hostname, source, subnet, at = latest[key]
        row = rows_by_mac.get(mac) if mac else rows_by_ip.get(ip)
        if row is None and mac:
            row = rows_by_ip.pop(ip, None)
        match = device_by_mac.get(mac) if mac else None
        match = match or device_by_ip.get(ip)
        if row is None:
            created.append(DiscoveredDevice(
                client_id=client_id, site_id=sites.get(device_id), ip=ip, mac=mac, hostname=hostname,
                vendor=vendor_for(mac), source=source, subnet=subnet, first_seen_at=at, last_seen_at=at,
                seen_by_id=device_id, matched_device_id=match, created_at=now, updated_at=now))
            continue
        if row.last_seen_at is not None and at < row.last_seen_at:
            continue  # an older report (a spool replayed late) does not overwrite a newer one
        row.ip, row.mac = ip, mac or row.mac
        row.hostname = hostname or row.hostname
        row.vendor = vendor_for(row.mac) or row.vendor
        row.source, row.subnet = source, subnet or row.subnet
        row.last_seen_at, row.seen_by_id, row.updated_at = at, device_id, now
        if match:
            row.matched_device_id = match
        if row.pk is not None:
            updated[row.pk] = row
    if created:
        # Two agents of one client may report the same neighbour at once: the second insert is skipped
        # and its next report updates the row.
        DiscoveredDevice.objects.bulk_create(created, batch_size=500, ignore_conflicts=True)
    if updated:
        DiscoveredDevice.objects.bulk_update(list(updated.values()), UPDATE_FIELDS, batch_size=500)
    return len(created), len(updated)


def discovery_rows(data: Any) -> tuple[str, list[Neighbour]]:
    """The subnet and neighbour tuples of a validated `discovery` item's data."""
    return data.subnet or "", [(n.ip, n.mac, n.hostname, n.source) for n in data.neighbors]
