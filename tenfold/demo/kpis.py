"""Demo history for the KPI dashboard and the forecasts: 24 months of past invoices (recurring lines), tickets with
their time and surveys, won and lost deals and finished projects, for the demo clients, written in bulk.

Past tickets carry their SLA targets and outcomes (met more often as the service improves, less so lately for
`data.WORSENING_CLIENT`), which the scorecard's ticket summary reads for past quarters.

Only records dated before the billing seed's first month are added (its runs bill the last three months); nothing
that exists is changed. Each client's recurring revenue grows towards what it is billed today (clients join the
MSP over the two years, some add services), tickets follow a yearly season (busier in January and September),
so MRR movements, upsell, ticket volume and the forecasts' Holt-Winters all have something to show.
Deterministic for a seed (apart from today's date)."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from tenfold.billing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, LineKind, Payment, PaymentMethod
from tenfold.clients.models import Client
from tenfold.contracts.models import Contract, ContractStatus, ContractType
from tenfold.core.roles import Role
from tenfold.demo.data import WORSENING_CLIENT
from tenfold.demo.scorehistory import quality
from tenfold.sales.models import Deal, DealSource, DealStage
from tenfold.servicedesk.models import Coverage, Ticket, TicketStatus, TimeEntry
from tenfold.servicedesk.models_surveys import SurveyResponse

MONTHS = 24
CENT = Decimal("0.01")
SEASON = [1.35, 1.1, 1.0, 0.95, 0.9, 0.85, 0.7, 0.6, 1.3, 1.15, 1.05, 0.9]  # January … December
PROJECTS = ["Server migration", "Wi-Fi refresh", "Microsoft 365 roll-out", "Firewall replacement",
            "Backup audit", "Workstation renewal"]
ISSUES = ["Printer offline", "Password reset", "Slow workstation", "VPN does not connect", "Outlook crashes",
          "New starter set-up", "Shared drive full", "Phishing e-mail reported", "Scanner to e-mail fails"]


# Why a past deal was lost (a lost deal always says why).
LOST_REASONS = ("Price above budget", "Chose another provider", "Project postponed", "Handled in-house")


def _aware(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)), timezone.get_default_timezone())


def _month(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _current_mrr(client: Client) -> list[tuple[Any, Any, Decimal, Decimal, str]]:
    """The client's recurring lines on its most recent invoice (service, contract, quantity, unit price, text)."""
    latest = (Invoice.objects.filter(client=client, kind=InvoiceKind.INVOICE, lines__kind=LineKind.RECURRING)
              .order_by("-period_start", "-pk").first())
    if latest is None:
        return []
    return [(line.service_id, line.contract_id, line.quantity, line.unit_price, line.description.split(" — ")[0])
            for line in latest.lines.filter(kind=LineKind.RECURRING).order_by("position", "pk")]


def seed_history(rng: random.Random, months: int = MONTHS) -> dict[str, int]:
    """Write the history; returns the counts written."""
    today = timezone.localdate()
    first_billed = _month(today, 2)  # the billing seed runs two months ago, last month and this month
    clients = list(Client.objects.filter(status="active").order_by("pk"))
    users = get_user_model().objects
    technicians = list(users.filter(role=Role.TECHNICIAN, is_active=True).order_by("pk"))
    sellers = list(users.filter(role=Role.ACCOUNT_MANAGER, is_active=True).order_by("pk"))
    if not clients or not technicians:
        return {}
    invoices: list[Invoice] = []
    line_specs: list[list[dict[str, Any]]] = []
    tickets: list[Ticket] = []
    ticket_meta: list[tuple[int, int, datetime, datetime]] = []  # client, technician, opened, resolved
    deals: list[Deal] = []
    contracts: list[Contract] = []
    won_links: list[tuple[int, str]] = []  # (index in deals, number of the contract it made)
    for index, client in enumerate(clients):
        lines = _current_mrr(client)
        # Clients join over the two years: the first third were there from the start, the others later.
        joined = 0 if index % 3 == 0 else rng.randint(3, months - 4)
        grows_at = rng.randint(joined + 2, months) if lines else months
        size = max(1, sum(int(q) for _s, _c, q, _p, _t in lines) // 4)
        for back in range(months, 0, -1):
            month = _month(first_billed, back)
            age = months - back  # months since the start of the history
            if lines and age >= joined:
                specs = []
                for position, (service_id, contract_id, quantity, unit_price, text) in enumerate(lines):
                    # fewer units before the client grew (expansion when it did), one service added late
                    if position > 0 and age < grows_at and position == len(lines) - 1 and len(lines) > 1:
                        continue
                    units = quantity if age >= grows_at else max(Decimal(1), (quantity * Decimal("0.8")).quantize(
                        Decimal(1)))
                    specs.append({"service_id": service_id, "contract_id": contract_id, "quantity": units,
                                  "unit_price": unit_price, "amount": (units * unit_price).quantize(CENT),
                                  "description": f"{text} — {month:%Y-%m}"})
                if specs:
                    subtotal = sum((s["amount"] for s in specs), Decimal("0.00"))
                    invoices.append(Invoice(
                        client=client, kind=InvoiceKind.INVOICE, status=InvoiceStatus.PAID,
                        number=f"FH{month:%Y%m}-{client.pk:04d}", period_start=month,
                        period_end=_month(month, -1) - timedelta(days=1), issue_date=month,
                        due_date=month + timedelta(days=30), subtotal=subtotal, tax_total=_money(float(subtotal) * .2),
                        total=subtotal + _money(float(subtotal) * .2), amount_paid=subtotal + _money(
                            float(subtotal) * .2), bill_to_name=client.name, issued_at=_aware(month, 6),
                        created_at=_aware(month, 6)))
                    line_specs.append(specs)
            # Tickets: a seasonal rate around the client's size, with a slow upward trend.
            rate = (1.5 + size * 0.8) * SEASON[month.month - 1] * (0.8 + 0.4 * age / months)
            count = max(0, round(rng.gauss(rate, math.sqrt(rate))))
            days = (_month(month, -1) - month).days
            for n in range(count):
                opened = _aware(month + timedelta(days=rng.randrange(days)), rng.randint(8, 17), rng.randrange(60))
                tech = rng.choice(technicians)
                resolved = opened + timedelta(hours=rng.choice((1, 2, 3, 4, 6, 8, 24, 30, 48, 72)))
                # The SLA is met more often as the service improves (less so, lately, for the client that slips).
                # (Drawn in the same order as before the SLA fields were added, so the counts stay the same.)
                target = quality(client.name == WORSENING_CLIENT, age / months)
                met = rng.random() < min(0.98, target + 0.04)
                title = rng.choice(ISSUES)
                first_met = rng.random() < min(0.99, target + 0.10)
                responded = opened + timedelta(minutes=20)
                tickets.append(Ticket(
                    client=client, number=f"H{month:%y%m}-{client.pk:03d}-{n:03d}", title=title,
                    status=TicketStatus.CLOSED, assignee=tech, created_at=opened, resolved_at=resolved,
                    closed_at=resolved + timedelta(hours=1), first_responded_at=responded, sla_started_at=opened,
                    first_response_due_at=responded + timedelta(hours=1) if first_met else opened + timedelta(
                        minutes=15),
                    resolution_due_at=resolved + timedelta(hours=2) if met else opened + (resolved - opened) / 2,
                    sla_first_response_met=first_met, sla_resolution_met=met,
                    sla_first_response_breached=not first_met, sla_resolution_breached=not met,
                    resolution="Resolved."))
                ticket_meta.append((client.pk, tech.pk, opened, resolved))
            # Deals: now and then a won upsell or a lost one, and a finished project.
            if sellers and rng.random() < 0.35:
                won = rng.random() < 0.6
                closed = _aware(month + timedelta(days=rng.randrange(days)), 15)
                deals.append(Deal(client=client, title=f"{rng.choice(PROJECTS)} ({month:%Y-%m})",
                                  owner=sellers[index % len(sellers)],
                                  stage=DealStage.WON if won else DealStage.LOST,
                                  monthly_value=_money(rng.choice((0, 40, 60, 90, 150))),
                                  one_off_value=_money(rng.choice((0, 500, 1200, 2500, 4000))),
                                  close_date=closed.date(), closed_at=closed, source=DealSource.EXISTING_CLIENT,
                                  outcome_reason="" if won else rng.choice(LOST_REASONS),
                                  created_at=closed - timedelta(days=30)))
                if won:
                    won_links.append((len(deals) - 1, f"PH-{month:%Y%m}-{client.pk:04d}"))
                    contracts.append(Contract(
                        client=client, number=f"PH-{month:%Y%m}-{client.pk:04d}", title=deals[-1].title,
                        type=ContractType.FIXED_PRICE, status=ContractStatus.ENDED, start_date=closed.date(),
                        end_date=closed.date() + timedelta(days=30), renewal_term_months=0,
                        fixed_price_amount=deals[-1].one_off_value or _money(800), created_at=closed))
    Invoice.objects.bulk_create(invoices, batch_size=500)
    saved = {inv.number: inv for inv in Invoice.objects.filter(number__in=[i.number for i in invoices])}
    lines_out = [InvoiceLine(client_id=saved[inv.number].client_id, invoice=saved[inv.number], position=position,
                             kind=LineKind.RECURRING, description=spec["description"], contract_id=spec["contract_id"],
                             service_id=spec["service_id"], period_start=inv.period_start,
                             period_end=inv.period_end, quantity=spec["quantity"], unit_price=spec["unit_price"],
                             amount=spec["amount"], tax_rate=Decimal("20.000"))
                 for inv, specs in zip(invoices, line_specs, strict=True) for position, spec in enumerate(specs)]
    InvoiceLine.objects.bulk_create(lines_out, batch_size=1000)
    # Paid history: the payment behind each paid invoice, so the books agree (paid = the sum of payments).
    Payment.objects.bulk_create([
        Payment(client_id=inv.client_id, invoice=inv, received_on=inv.issue_date + timedelta(days=20),
                amount=inv.total, method=PaymentMethod.TRANSFER, reference=f"HIST-{inv.number}", imported=True,
                created_at=_aware(inv.issue_date + timedelta(days=20), 9))
        for inv in saved.values() if inv.total > 0 and inv.issue_date is not None], batch_size=1000)
    Ticket.objects.bulk_create(tickets, batch_size=1000)
    saved_tickets = dict(Ticket.objects.filter(number__in=[t.number for t in tickets]).values_list("number", "pk"))
    entries, surveys = [], []
    for ticket, (client_id, tech_id, opened, resolved) in zip(tickets, ticket_meta, strict=True):
        minutes = rng.choice((15, 30, 30, 45, 60, 90, 120))
        out_of_scope = rng.random() < 0.2
        ticket_id = saved_tickets[ticket.number]
        entries.append(TimeEntry(client_id=client_id, ticket_id=ticket_id, user_id=tech_id,
                                 started_at=opened + timedelta(minutes=30), actual_minutes=minutes,
                                 ended_at=opened + timedelta(minutes=30 + minutes),
                                 billable_minutes=minutes, billable=out_of_scope,
                                 coverage=Coverage.OUT_OF_SCOPE if out_of_scope else Coverage.COVERED,
                                 rate=Decimal("85.00"), cost_rate=Decimal("34.00"), created_at=opened))
        if rng.random() < 0.3:
            answered = rng.random() < 0.6
            scores = [max(1, min(5, round(rng.gauss(4.3, 0.7)))) for _ in range(3)] if answered else [None] * 3
            surveys.append(SurveyResponse(client_id=client_id, ticket_id=ticket_id, technician_id=tech_id,
                                          sent_at=resolved + timedelta(hours=2),
                                          expires_at=resolved + timedelta(days=14),
                                          answered_at=resolved + timedelta(days=1) if answered else None,
                                          professionalism=scores[0], accuracy=scores[1], speed=scores[2],
                                          created_at=resolved))
    TimeEntry.objects.bulk_create(entries, batch_size=1000)
    SurveyResponse.objects.bulk_create(surveys, batch_size=1000)
    # A won deal carries the contract it made (here the finished project's).
    Contract.objects.bulk_create(contracts, batch_size=500)
    made = dict(Contract.objects.filter(number__in=[number for _i, number in won_links]).values_list("number", "pk"))
    for position, number in won_links:
        deals[position].contract_id = made[number]
    Deal.objects.bulk_create(deals, batch_size=500)
    return {"invoices": len(invoices), "lines": len(lines_out), "tickets": len(tickets), "time_entries": len(entries),
            "surveys": len(surveys), "deals": len(deals), "contracts": len(contracts)}

