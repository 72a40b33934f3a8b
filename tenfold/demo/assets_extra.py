"""Demo discovered devices and licences: what agents saw on each active client's network (most of it
matched to managed devices, a few printers and phones not), and licences with seats below and above
the installed counts."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db.models import Count
from django.utils import timezone

from tenfold.assets.models import Device, DiscoveredDevice, Licence, SoftwareItem
from tenfold.assets.oui import vendor_for
from tenfold.clients.models import Client

UNMANAGED = [("00:80:77", "brn-imp-accueil"), ("3c:d9:2b", "hp-laserjet-compta"), ("00:26:ab", "epson-et-5800"),
             ("a4:5e:60", "iphone-direction"), ("da:a1:19", ""), ("80:5e:c0", "yealink-t54w"),
             ("00:11:32", "nas-sauvegarde")]
LICENCES = [("Microsoft 365 Business Standard", "Microsoft", "Microsoft 365"), ("Sage 100", "Sage", "Sage 100"),
            ("Adobe Acrobat", "Adobe", "Acrobat")]


def _mac(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(f":{rng.randrange(256):02x}" for _ in range(3))


def seed_assets_extra(seed: int, clients: list[Client]) -> tuple[int, int]:
    """Write the demo discovered devices and licences; returns (discovered, licences)."""
    rng = random.Random(seed * 31 + 7)
    now = timezone.now()
    today = timezone.localdate()
    rows: list[DiscoveredDevice] = []
    licences: list[Licence] = []
    active = [c for c in clients if c.status == "active"]
    installed = {(client_id, pattern): n for pattern in {p for _n, _p, p in LICENCES}
                 for client_id, n in SoftwareItem.objects.filter(client__in=active, name__icontains=pattern)
                 .values_list("client_id").annotate(n=Count("device_id", distinct=True)).values_list("client_id", "n")}
    for client in active:
        managed = list(Device.objects.filter(client=client, managed=True).order_by("pk")
                       .values_list("pk", "site_id", "vendor"))
        seer = managed[0][0] if managed else None
        host = 10
        for pk, site_id, _vendor in managed:
            host += 1
            mac = _mac(rng, rng.choice(["00:14:22", "3c:d9:2b", "00:1b:21", "f8:b1:56"]))
            seen = now - timedelta(minutes=rng.randint(1, 240))
            rows.append(DiscoveredDevice(client=client, site_id=site_id, ip=f"192.168.1.{host}", mac=mac,
                                         vendor=vendor_for(mac), source="arp", subnet="192.168.1.0/24",
                                         first_seen_at=seen - timedelta(days=rng.randint(5, 60)), last_seen_at=seen,
                                         seen_by_id=seer, matched_device_id=pk))
        for index, (prefix, hostname) in enumerate(rng.sample(UNMANAGED, k=rng.randint(2, 4))):
            mac = _mac(rng, prefix)
            seen = now - timedelta(minutes=rng.randint(1, 600))
            rows.append(DiscoveredDevice(client=client, ip=f"192.168.1.{200 + index}", mac=mac, hostname=hostname,
                                         vendor=vendor_for(mac), source=rng.choice(["arp", "ping"]),
                                         subnet="192.168.1.0/24", last_seen_at=seen,
                                         first_seen_at=seen - timedelta(days=rng.randint(1, 30)), seen_by_id=seer,
                                         ignored=index == 3))
        for product, publisher, pattern in LICENCES:
            count = installed.get((client.pk, pattern), 0)
            if not count:
                continue
            seats = max(0, count + rng.choice([-2, -1, 0, 2, 5]))
            expires: date | None = today + timedelta(days=rng.choice([25, 70, 200, 340]))
            licences.append(Licence(client=client, product=product, publisher=publisher, seats=seats,
                                    expires_on=None if product == "Sage 100" else expires, match_pattern=pattern))
    DiscoveredDevice.objects.bulk_create(rows, batch_size=500)
    Licence.objects.bulk_create(licences, batch_size=500)
    return len(rows), len(licences)
