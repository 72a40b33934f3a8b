"""Records the contracts tests build: a catalog with Good/Better plans, clients with devices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tenfold.assets.models import Device
from tenfold.catalog.models import Offering, Plan, PlanItem, Service
from tenfold.clients.models import Client, Site
from tenfold.contracts.models import Contract


def make_catalog() -> dict[str, Any]:
    """Good: monitoring 10 €/workstation (tool 2 €, 6 min) and 40 €/server (tool 5 €, 30 min);
    Better adds antivirus 5 €/workstation (tool 1.50 €, 3 min); add-on backup 8 €/server (tool 3 €)."""
    offering = Offering.objects.create(name="Managed workplace")
    good = Plan.objects.create(offering=offering, tier="good", name="Bien")
    better = Plan.objects.create(offering=offering, tier="better", name="Mieux")
    ws = Service.objects.create(name="Workstation monitoring", code="ws-mon", unit="workstation",
                                list_price=Decimal("10.00"), unit_cost=Decimal("2.00"), labour_minutes=Decimal("6"))
    srv = Service.objects.create(name="Server monitoring", code="srv-mon", unit="server", list_price=Decimal("40.00"),
                                 unit_cost=Decimal("5.00"), labour_minutes=Decimal("30"))
    av = Service.objects.create(name="Antivirus", code="av", unit="workstation", list_price=Decimal("5.00"),
                                unit_cost=Decimal("1.50"), labour_minutes=Decimal("3"))
    backup = Service.objects.create(name="Server backup", code="backup", unit="server", list_price=Decimal("8.00"),
                                    unit_cost=Decimal("3.00"), is_addon=True)
    licence = Service.objects.create(name="Mail filtering", code="mail", unit="user", list_price=Decimal("2.00"),
                                     unit_cost=Decimal("0.50"), is_addon=True)
    PlanItem.objects.create(plan=good, service=ws, unit_price=Decimal("10.00"))
    PlanItem.objects.create(plan=good, service=srv, unit_price=Decimal("40.00"))
    PlanItem.objects.create(plan=better, service=av, unit_price=Decimal("5.00"))
    return {"good": good, "better": better, "backup": backup, "mail": licence, "ws": ws}


def make_client(name: str = "Boulangerie Martin") -> Client:
    return Client.objects.create(name=name, status="active")


def make_devices(client: Client, site: Site | None = None, **kinds: int) -> list[Device]:
    """e.g. make_devices(client, workstation=3, laptop=1, server=1)."""
    devices = []
    for kind, count in kinds.items():
        for n in range(count):
            devices.append(Device.objects.create(client=client, site=site, name=f"{client.name[:10]}-{kind}-{n}",
                                                 kind=kind, state="active"))
    return devices


def make_contract(client: Client, plan: Plan | None, **fields: Any) -> Contract:
    values = {"number": fields.pop("number", f"T-{Contract.objects.count() + 1:04d}"), "type": "managed",
              "start_date": date(2026, 1, 1), **fields}
    return Contract.objects.create(client=client, plan=plan, **values)
