"""The KPI dashboard over a large MSP: 200 clients, 20,000 devices under managed contracts, 24 months of invoices,
500,000 tickets (with time on a fifth of them and surveys on a tenth), generated in bulk in a throw-away database;
then the dashboard (every figure, its previous period and its 12-month series) is timed server-side, as the
computation alone and as the whole page (view + template). Target: < 1 s. Never run in CI.

    python -m bench.kpis                      # PostgreSQL at postgres://postgres@127.0.0.1:5432 (dropped after)
    python -m bench.kpis --tickets 100000     # a smaller run
    python -m bench.kpis --sqlite             # the embedded default
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.common import DEFAULT_PG, log, migrate, setup_django, workspace

TARGET_SECONDS = 1.0


def _month(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def generate(clients: int, devices: int, tickets: int, months: int = 24, seed: int = 7) -> dict[str, Any]:
    """Write the dataset with bulk inserts; returns the counts and the seconds taken."""
    from django.contrib.auth import get_user_model

    from tenfold.assets.models import Device
    from tenfold.billing.models import Invoice, InvoiceLine
    from tenfold.catalog.models import Service
    from tenfold.clients.models import Client
    from tenfold.contracts.models import Contract, ContractCoverage
    from tenfold.sales.models import Deal
    from tenfold.servicedesk.models import Ticket, TimeEntry
    from tenfold.servicedesk.models_surveys import SurveyResponse

    rng = random.Random(seed)  # noqa: S311  (benchmark data, not secrets)
    started = time.perf_counter()
    user_model = get_user_model()
    owner = user_model.objects.create_user("owner@bench.test", "x", role="owner", first_name="Bench", last_name="Owner")
    sellers = [user_model.objects.create_user(f"sales{i}@bench.test", "x", role="account_manager",
                                              first_name="Sales", last_name=str(i)) for i in range(4)]
    techs = [user_model.objects.create_user(f"tech{i}@bench.test", "x", role="technician", first_name="Tech",
                                            last_name=str(i)) for i in range(10)]
    Client.objects.bulk_create([Client(name=f"Bench client {i:03d}", status="active",
                                       account_manager=sellers[i % len(sellers)]) for i in range(clients)])
    client_ids = list(Client.objects.order_by("pk").values_list("pk", flat=True))
    ws = Service.objects.create(name="Managed workstation", code="ws", unit="workstation", list_price=Decimal("30"))
    srv = Service.objects.create(name="Managed server", code="srv", unit="server", list_price=Decimal("90"))
    backup = Service.objects.create(name="Backup", code="backup", unit="workstation", list_price=Decimal("8"),
                                    includes_backup=True, is_addon=True)
    today = date.today()
    first = _month(today, months)
    Contract.objects.bulk_create([Contract(client_id=cid, number=f"BK-{cid}", type="managed", status="active",
                                           start_date=first) for cid in client_ids])
    contract_of = dict(Contract.objects.values_list("client_id", "pk"))
    per_client = devices // clients
    Device.objects.bulk_create([Device(client_id=cid, name=f"D{cid}-{n}", kind="server" if n % 10 == 0 else
                                       "workstation", state="active", managed=True)
                                for cid in client_ids for n in range(per_client)], batch_size=5000)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    ContractCoverage.objects.bulk_create([
        ContractCoverage(client_id=cid, contract_id=contract_of[cid], kind="device", device_id=did,
                         started_at=since + timedelta(days=rng.randrange(months * 30)))
        for did, cid in Device.objects.values_list("pk", "client_id")], batch_size=5000)
    invoices, specs = [], []
    for cid in client_ids:
        for back in range(months, 0, -1):
            month = _month(today, back)
            units = max(1, per_client - back * 2)
            lines = [(ws, units, Decimal("30.00")), (srv, per_client // 10, Decimal("90.00"))]
            if back < 12:
                lines.append((backup, units // 2, Decimal("8.00")))
            amount = sum((Decimal(q) * p for _s, q, p in lines), Decimal(0))
            invoices.append(Invoice(client_id=cid, status="paid", number=f"B{month:%Y%m}-{cid}", issue_date=month,
                                    period_start=month, subtotal=amount, total=amount))
            specs.append(lines)
    Invoice.objects.bulk_create(invoices, batch_size=5000)
    ids = dict(Invoice.objects.values_list("number", "pk"))
    InvoiceLine.objects.bulk_create([
        InvoiceLine(client_id=inv.client_id, invoice_id=ids[inv.number], kind="recurring", description=s.name,
                    contract_id=contract_of[inv.client_id], service=s, quantity=Decimal(q), unit_price=p,
                    amount=Decimal(q) * p, period_start=inv.period_start)
        for inv, lines in zip(invoices, specs, strict=True) for s, q, p in lines], batch_size=5000)
    Deal.objects.bulk_create([
        Deal(client_id=rng.choice(client_ids), title=f"Deal {n}", owner=rng.choice(sellers),
             stage=rng.choice(("won", "won", "lost", "proposal")), monthly_value=Decimal(rng.randrange(0, 500)),
             one_off_value=Decimal(rng.randrange(0, 5000)), close_date=today,
             closed_at=since + timedelta(days=rng.randrange(months * 30))) for n in range(4000)], batch_size=5000)
    log(f"clients, devices, contracts, invoices, deals written in {time.perf_counter() - started:.1f} s")
    span = months * 30 * 86400
    written = 0
    batch = 20_000
    while written < tickets:
        size = min(batch, tickets - written)
        rows = []
        for n in range(size):
            opened = since + timedelta(seconds=rng.randrange(span))
            rows.append(Ticket(client_id=rng.choice(client_ids), number=f"BT{written + n}", title="Bench ticket",
                               status="closed", assignee=rng.choice(techs), created_at=opened,
                               resolved_at=opened + timedelta(hours=rng.choice((1, 2, 4, 8, 24, 48))),
                               first_responded_at=opened + timedelta(minutes=20),
                               sla_first_response_met=rng.random() < .9, sla_resolution_met=rng.random() < .85))
        Ticket.objects.bulk_create(rows, batch_size=5000)
        saved = list(Ticket.objects.filter(number__in=[r.number for r in rows[::5]]).values_list(
            "pk", "client_id", "assignee_id", "created_at", "resolved_at"))
        TimeEntry.objects.bulk_create([
            TimeEntry(client_id=cid, ticket_id=tid, user_id=uid, started_at=opened, actual_minutes=45,
                      billable_minutes=45, billable=True, coverage="out_of_scope", rate=Decimal("85.00"))
            for tid, cid, uid, opened, _r in saved], batch_size=5000)
        SurveyResponse.objects.bulk_create([
            SurveyResponse(client_id=cid, ticket_id=tid, technician_id=uid, sent_at=resolved,
                           expires_at=resolved + timedelta(days=14), answered_at=resolved + timedelta(hours=5),
                           professionalism=5, accuracy=4, speed=4)
            for tid, cid, uid, _o, resolved in saved[::2]], batch_size=5000)
        written += size
        log(f"{written} tickets ({time.perf_counter() - started:.0f} s)")
    return {"owner": owner, "seconds": time.perf_counter() - started, "clients": clients,
            "devices": per_client * clients, "tickets": written}


def time_dashboard(owner: Any, repeats: int = 5) -> dict[str, float]:
    """Median seconds of the dashboard computation and of the whole page, after one warm-up of each."""
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import RequestFactory

    from tenfold.reporting import kpi_views, kpis

    period = kpis.make_period("month", _month(date.today(), 1))
    scope = kpis.kpi_scope(owner)
    compute, page = [], []
    for attempt in range(repeats + 1):
        started = time.perf_counter()
        kpis.dashboard(scope, period)
        if attempt:
            compute.append(time.perf_counter() - started)
        request = RequestFactory().get("/reporting/kpis/", {"period": "month", "start": period.start.isoformat()})
        SessionMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type,return-value]
        request.user = owner
        started = time.perf_counter()
        response = kpi_views.kpi_dashboard(request)
        assert response.status_code == 200, response.status_code
        if attempt:
            page.append(time.perf_counter() - started)
    return {"compute": statistics.median(compute), "page": statistics.median(page)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--devices", type=int, default=20_000)
    parser.add_argument("--tickets", type=int, default=500_000)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with workspace(sqlite=args.sqlite, pg_url=args.pg, keep=args.keep) as ws:
        setup_django(ws)
        migrate()
        data = generate(args.clients, args.devices, args.tickets)
        if ws.vendor == "postgresql":
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        timings = time_dashboard(data["owner"])
    print(f"KPI dashboard on {ws.vendor}: {data['clients']} clients, {data['devices']} devices, "
          f"{data['tickets']} tickets (generated in {data['seconds']:.0f} s)")
    print(f"{'figure':<40}{'value':>12}{'target':>12}")
    print(f"{'dashboard computation (median of 5)':<40}{timings['compute']:>11.3f}s{TARGET_SECONDS:>11.1f}s")
    print(f"{'dashboard page, view + template':<40}{timings['page']:>11.3f}s{TARGET_SECONDS:>11.1f}s")


if __name__ == "__main__":
    main()
