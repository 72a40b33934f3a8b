"""Records the billing tests build: a catalog, clients with covered devices, time entries, tax rates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tenfold.assets.models import Device
from tenfold.clients.models import Client, Contact
from tenfold.contracts.models import Contract, ContractCoverage
from tenfold.contracts.tests.factories import make_catalog  # noqa: F401  (re-exported for billing tests)
from tenfold.core.models import TaxRate
from tenfold.servicedesk.models import Ticket, TimeEntry


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def make_client(name: str = "Boulangerie Martin", *, billing_email: str = "") -> Client:
    client = Client.objects.create(name=name, status="active")
    if billing_email:
        Contact.objects.create(client=client, first_name="Claire", last_name="Compta", email=billing_email,
                               is_billing_contact=True)
    return client


def make_tax(rate: str = "20.000", name: str = "VAT 20 %", default: bool = True) -> TaxRate:
    return TaxRate.objects.create(name=name, rate=Decimal(rate), is_default=default)


def make_contract(client: Client, plan: Any = None, **fields: Any) -> Contract:
    values = {"number": fields.pop("number", f"B-{Contract.objects.count() + 1:04d}"),
              "type": fields.pop("type", "managed"), "status": fields.pop("status", "active"),
              "start_date": fields.pop("start_date", date(2026, 1, 1)), **fields}
    return Contract.objects.create(client=client, plan=plan, **values)


def cover(contract: Contract, kind: str, count: int, since: datetime, until: datetime | None = None,
          prefix: str = "") -> list[Device]:
    """`count` devices of `kind` covered by the contract from `since` (until `until`)."""
    devices = []
    base = Device.objects.filter(client=contract.client).count()
    for n in range(count):
        device = Device.objects.create(client=contract.client, name=f"{prefix or kind.upper()}-{base + n + 1:02d}",
                                       kind=kind, state="active")
        ContractCoverage.objects.create(client=contract.client, contract=contract, kind="device", device=device,
                                        started_at=since, ended_at=until)
        devices.append(device)
    return devices


def make_ticket(client: Client, contract: Contract | None = None, title: str = "Printer") -> Ticket:
    return Ticket.objects.create(client=client, contract=contract, title=title, number=f"T{Ticket.objects.count()+1}")


def log_time(user: Any, ticket: Ticket, minutes: int, when: datetime, *, coverage: str = "covered",
             rate: str = "90.00", approval: str = "approved", billable: bool = True,
             billable_minutes: int | None = None) -> TimeEntry:
    """A finished time entry written directly (the service desk's own rules are tested there)."""
    return TimeEntry.objects.create(
        client=ticket.client, ticket=ticket, contract=ticket.contract, user=user, started_at=when, ended_at=when,
        actual_minutes=minutes, billable_minutes=minutes if billable_minutes is None else billable_minutes,
        billable=billable, coverage=coverage, rate=Decimal(rate), approval_status=approval)
