"""Records the sales tests build: a three-tier offering with add-ons, a client with devices and contacts, a deal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.assets.models import Device
from tenfold.catalog.models import Offering, Plan, PlanItem, Service
from tenfold.clients.models import Client, Contact, Site
from tenfold.core.models import Organization
from tenfold.sales.models import Deal, Quote


def _service(code: str, name: str, unit: str, price: str, *, cost: str = "0", minutes: str = "0",
             addon: bool = False) -> Service:
    return Service.objects.create(code=code, name=name, unit=unit, list_price=Decimal(price), unit_cost=Decimal(cost),
                                  labour_minutes=Decimal(minutes), is_addon=addon)


def make_catalog() -> dict[str, Any]:
    """Good: monitoring 25 €/workstation (tool 3 €, 18 min) and 60 €/server; Better adds antivirus 6 € and
    patching 4 € per workstation; Best adds server backup 55 €/server. Add-ons: Microsoft 365 backup 3.50 €/user,
    dark-web watch 49.99 € flat."""
    Organization.objects.update_or_create(pk=1, defaults={"loaded_labour_cost": Decimal("45.00"), "currency": "EUR",
                                                          "default_language": "en", "name": "Tenfold MSP"})
    offering = Offering.objects.create(name="Managed workplace")
    plans = {tier: Plan.objects.create(offering=offering, tier=tier, name=f"Workplace {tier.capitalize()}",
                                       description=f"The {tier} level.")
             for tier in ("good", "better", "best")}
    ws = _service("ws-mon", "Workstation monitoring", "workstation", "25.00", cost="3.00", minutes="18")
    srv = _service("srv-mon", "Server monitoring", "server", "60.00", cost="6.00", minutes="45")
    av = _service("ws-av", "Antivirus", "workstation", "6.00", cost="2.80", minutes="2")
    patch = _service("ws-patch", "Patching", "workstation", "4.00", cost="0.50", minutes="3")
    backup = _service("srv-backup", "Server backup", "server", "55.00", cost="18.00", minutes="20")
    m365 = _service("m365-backup", "Microsoft 365 backup", "user", "3.50", cost="1.10", addon=True)
    dark_web = _service("dark-web", "Dark web watch", "flat", "49.99", cost="15.00", addon=True)
    for plan, service in ((plans["good"], ws), (plans["good"], srv), (plans["better"], av),
                          (plans["better"], patch), (plans["best"], backup)):
        PlanItem.objects.create(plan=plan, service=service, unit_price=service.list_price)
    return {"offering": offering, **plans, "m365": m365, "dark_web": dark_web, "ws": ws}


def make_client(name: str = "Boulangerie Martin SARL", *, workstations: int = 12, servers: int = 2,
                contacts: int = 3) -> Client:
    """A client with a site, devices (one retired, not counted) and contacts."""
    client = Client.objects.create(name=name, status="active")
    site = Site.objects.create(client=client, name="Shop")
    for n in range(workstations):
        Device.objects.create(client=client, site=site, name=f"{name[:6]}-PC-{n}",
                              kind="laptop" if n % 3 == 0 else "workstation", state="active")
    for n in range(servers):
        Device.objects.create(client=client, site=site, name=f"{name[:6]}-SRV-{n}", kind="server", state="active")
    Device.objects.create(client=client, site=site, name=f"{name[:6]}-OLD", kind="workstation", state="retired")
    for n in range(contacts):
        Contact.objects.create(client=client, first_name=f"Person{n}", last_name=name.split()[0],
                               email=f"person{n}@{client.pk}.example")
    return client


def make_deal(client: Client, owner: Any = None, **fields: Any) -> Deal:
    owner = owner or make_staff("account_manager")
    values = {"title": "Managed services", "close_date": date(2026, 9, 30), **fields}
    return Deal.objects.create(client=client, owner=owner, **values)


def make_quote(deal: Deal, offering: Offering, *, status: str = "draft", sent_by: Any = None,
               **fields: Any) -> Quote:
    today = timezone.localdate()
    values: dict[str, Any] = {"number": f"Q-T-{Quote.objects.count() + 1:04d}", "valid_until": today
                              + timedelta(days=30), "start_date": today, "workstations": 12, "servers": 2,
                              "users": 15, "sites": 1, **fields}
    return Quote.objects.create(client=deal.client, deal=deal, offering=offering, status=status,
                                sent_by=sent_by or (deal.owner if status != "draft" else None),
                                sent_at=timezone.now() if status != "draft" else None, **values)
