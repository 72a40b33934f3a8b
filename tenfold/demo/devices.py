"""Simulated devices of the demo MSP: 15–40 per active client, in bulk, deterministic for a seed."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, datetime, timedelta

from django.utils import timezone

from tenfold.assets.models import Device, DeviceStateChange, SoftwareItem
from tenfold.clients.models import Client, Site

DEPARTMENTS = ["COMPTA", "ACCUEIL", "DIRECTION", "COMMERCIAL", "ATELIER", "RH", "LOGISTIQUE", "SECRETARIAT"]
SERVER_ROLES = ["SRV-FICHIERS", "SRV-AD", "SRV-SAGE", "SRV-BACKUP", "SRV-APPLI"]
WINDOWS = [("Windows 11 Pro", "23H2"), ("Windows 11 Pro", "22H2"), ("Windows 10 Pro", "22H2")]
SERVERS = [("Windows Server 2022", "21H2"), ("Windows Server 2019", "1809"), ("Ubuntu", "22.04")]
HARDWARE = {
    "workstation": [("Dell Inc.", "OptiPlex 7010"), ("HP", "EliteDesk 800 G9"), ("Lenovo", "ThinkCentre M70q")],
    "laptop": [("Dell Inc.", "Latitude 5440"), ("Lenovo", "ThinkPad T14 Gen 4"), ("HP", "EliteBook 840 G10"),
               ("Apple Inc.", "MacBook Air (M2)")],
    "server": [("Dell Inc.", "PowerEdge T350"), ("HPE", "ProLiant ML110 Gen11")],
    "network_device": [("Ubiquiti", "UniFi Switch 24 PoE"), ("Fortinet", "FortiGate 40F")],
    "mobile": [("Samsung", "Galaxy Tab Active4 Pro"), ("Apple Inc.", "iPhone 14")],
}
COMMON_SOFTWARE = [("Mozilla Firefox", "128.0.3", "Mozilla"), ("Google Chrome", "127.0.6533.89", "Google LLC"),
                   ("7-Zip", "23.01", "Igor Pavlov"), ("Adobe Acrobat Reader", "24.002.20991", "Adobe"),
                   ("Microsoft 365 Apps for business", "16.0.17726", "Microsoft Corporation"),
                   ("VLC media player", "3.0.21", "VideoLAN"), ("TeamViewer", "15.56.5", "TeamViewer"),
                   ("LibreOffice", "24.2.5", "The Document Foundation")]
SERVER_SOFTWARE = [("Veeam Agent for Microsoft Windows", "6.1.2", "Veeam Software Group GmbH"),
                   ("Sage 100", "10.0", "Sage"), ("Microsoft SQL Server 2019", "15.0.4375", "Microsoft Corporation")]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper().replace(" ", "")


def _last_seen(rng: random.Random, now: datetime) -> datetime | None:
    roll = rng.random()
    if roll < 0.85:
        return now - timedelta(seconds=rng.randint(5, 150))  # online
    if roll < 0.97:
        return now - timedelta(hours=rng.randint(1, 96))  # offline for a while
    return now - timedelta(days=rng.randint(20, 60))  # long gone


def seed_devices(rng: random.Random, clients: list[Client], sites_by_client: dict[int, list[Site]],
                 people: dict[int, list[str]]) -> int:
    """Write the simulated devices of every active client; returns how many."""
    now = timezone.now()
    devices: list[Device] = []
    for client in clients:
        if client.status != "active":
            continue
        count, used = rng.randint(15, 40), set()
        users = people.get(client.pk) or ["utilisateur"]
        for index in range(count):
            kind = rng.choices(["workstation", "laptop", "server", "network_device", "mobile"],
                               weights=[45, 30, 8, 10, 7])[0]
            user = rng.choice(users)
            if kind == "server":
                name = SERVER_ROLES[index % len(SERVER_ROLES)]
                os_name, os_version = rng.choice(SERVERS)
            elif kind == "laptop":
                name = f"LAPTOP-{_ascii(user)[:10]}"
                os_name, os_version = ("macOS", "14.6") if rng.random() < 0.15 else rng.choice(WINDOWS)
            elif kind == "network_device":
                name = rng.choice(["SW-BAIE", "FW-PRINCIPAL", "AP-ACCUEIL", "AP-ETAGE"])
                os_name, os_version = "", ""
            elif kind == "mobile":
                name = f"TAB-{_ascii(user)[:10]}"
                os_name, os_version = ("Android", "14") if rng.random() < 0.7 else ("iOS", "17.5")
            else:
                name = f"PC-{rng.choice(DEPARTMENTS)}"
                os_name, os_version = rng.choice(WINDOWS)
            suffix = 1
            while f"{name}-{suffix:02d}" in used:
                suffix += 1
            name = f"{name}-{suffix:02d}"
            used.add(name)
            vendor, model = rng.choice(HARDWARE[kind])
            managed = kind in ("workstation", "laptop", "server")
            purchase = date(2019, 1, 1) + timedelta(days=rng.randint(0, 5 * 365))
            family = ("windows" if os_name.startswith("Windows") else "macos" if os_name == "macOS"
                      else "linux" if os_name == "Ubuntu" else "other" if os_name else "")
            av_roll = rng.random()
            devices.append(Device(
                client=client, site=rng.choice(sites_by_client[client.pk]), name=name, hostname=name.lower(),
                kind=kind, state=rng.choices(["active", "onboarding", "maintenance"], weights=[90, 6, 4])[0],
                managed=managed, os_family=family, os_name=os_name, os_version=os_version, vendor=vendor, model=model,
                serial_number=f"{vendor[:2].upper()}{rng.randint(10**7, 10**8 - 1)}",
                machine_id=f"demo-{client.pk}-{index:03d}" if managed else "",
                cpu_model="Intel Core i5-13500" if kind != "server" else "Intel Xeon E-2334",
                cpu_cores=14 if kind != "server" else 8,
                memory_bytes=rng.choice([8, 16, 32]) * 1024**3 if kind != "server" else 64 * 1024**3,
                last_seen_at=_last_seen(rng, now) if managed else None,
                logged_in_user=user.lower() if kind in ("workstation", "laptop") else "",
                uptime_seconds=rng.randint(600, 40 * 86400) if managed else None,
                antivirus_product="Microsoft Defender" if managed and family == "windows" else "",
                antivirus_state=("" if not managed or family != "windows" else "running" if av_roll < 0.85
                                 else "out_of_date" if av_roll < 0.95 else "disabled"),
                antivirus_definitions_at=now - timedelta(hours=rng.randint(1, 120)) if managed else None,
                firewall_state="on" if managed and rng.random() < 0.92 else ("off" if managed else ""),
                pending_updates=rng.choice([0, 0, 0, 1, 2, 3, 5, 12]) if managed else None,
                backup_tool="Veeam" if kind == "server" else "",
                last_backup_at=now - timedelta(hours=rng.randint(2, 60)) if kind == "server" else None,
                purchase_date=purchase, warranty_end=purchase + timedelta(days=365 * rng.choice([1, 3, 3, 5])),
                inventory_at=now - timedelta(hours=rng.randint(1, 24)) if managed else None))
    Device.objects.bulk_create(devices, batch_size=500)
    saved = list(Device.objects.filter(client__in=clients).order_by("pk"))
    DeviceStateChange.objects.bulk_create([
        DeviceStateChange(client_id=d.client_id, device=d, at=d.created_at, from_state="", to_state=d.state,
                          reason="Demo") for d in saved], batch_size=500)
    software: list[SoftwareItem] = []
    for device in saved:
        if not device.managed:
            continue
        catalogue = COMMON_SOFTWARE + (SERVER_SOFTWARE if device.kind == "server" else [])
        for name, version, publisher in rng.sample(catalogue, k=rng.randint(3, 6)):
            software.append(SoftwareItem(client_id=device.client_id, device=device, name=name, version=version,
                                         publisher=publisher,
                                         installed_on=device.purchase_date + timedelta(days=rng.randint(1, 400))
                                         if device.purchase_date else None))
    SoftwareItem.objects.bulk_create(software, batch_size=1000)
    return len(saved)
