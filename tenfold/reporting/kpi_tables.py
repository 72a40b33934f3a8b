"""The tables behind each KPI: its breakdown (per month, client, salesperson, technician) and the records it is
computed from (deals, contracts, invoice lines, coverage, tickets, time entries, surveys), each linking to the
record's own page. Shared by the pages, the CSV exports and the API."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tenfold.reporting import kpis
from tenfold.reporting.kpis import KpiScope, Period

RECORDS_ON_PAGE = 200
RECORDS_IN_CSV = 100_000


@dataclass
class Table:
    """Columns (key, label) and rows (dicts; `url` links the row's first cell)."""

    title: Any
    columns: list[tuple[str, Any]]
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int | None = None  # the number of records when the rows are a first page


def _user_names(ids: set[int | None]) -> dict[int | None, str]:
    from django.contrib.auth import get_user_model

    names: dict[int | None, str] = {None: "—"}
    names.update({u.pk: str(u) for u in get_user_model().objects.filter(pk__in=[i for i in ids if i])})
    return names


def breakdown(scope: KpiScope, key: str, period: Period) -> list[Table]:
    """The figure's breakdown tables for the period."""
    kpis.require_figure(scope, key)
    report: Any
    name = kpis.ClientNames.of(scope)
    client_url = "clients:client_detail"

    def client_row(client_id: int, **values: Any) -> dict[str, Any]:
        return {"client": name(client_id), "url": reverse(client_url, args=[client_id]), **values}

    if key in ("average_deal_value", "salespeople"):
        rows = [{"rank": r.rank, "name": r.name, "won": r.won, "lost": r.lost, "total": r.total,
                 "average": r.average, "monthly": r.monthly, "win_rate": r.win_rate}
                for r in kpis.per_salesperson(scope, period)]
        return [Table(_("Per salesperson"), [("rank", _("Rank")), ("name", _("Salesperson")), ("won", _("Won")),
                                             ("lost", _("Lost")), ("total", _("Value won")),
                                             ("average", _("Average deal value")),
                                             ("monthly", _("Monthly value won")), ("win_rate", _("Win rate (%)"))],
                      rows)]
    if key == "new_contracts":
        report = kpis.new_contracts(scope, period)
        return [Table(_("Per month"), [("month", _("Month")), ("count", _("New contracts")), ("total", _("Value")),
                                       ("average", _("Average value"))],
                      [{"month": m.month.strftime("%Y-%m"), "count": m.count, "total": m.total, "average": m.average}
                       for m in report.months])]
    if key in ("mrr", "upsell"):
        report = kpis.mrr_report(scope, period)
        month_table = Table(_("MRR movements per month"), [
            ("month", _("Month")), ("mrr", _("MRR")), ("new", _("New")), ("expansion", _("Expansion")),
            ("contraction", _("Contraction")), ("churn", _("Churn")), ("clients", _("Clients billed"))],
            [{"month": m.month.strftime("%Y-%m"), "mrr": m.mrr, "new": m.new, "expansion": m.expansion,
              "contraction": m.contraction, "churn": m.churn, "clients": m.clients} for m in report.months])
        if key == "upsell":
            up = kpis.upsell(scope, period)
            return [Table(_("Per client"), [("client", _("Client")), ("expansion", _("Expansion")),
                                            ("contraction", _("Contraction"))],
                          [client_row(r.client_id, expansion=r.expansion, contraction=r.contraction)
                           for r in up.clients]), month_table]
        return [month_table, Table(_("Per client"), [("client", _("Client")), ("before", _("MRR before")),
                                                ("after", _("MRR at the end")), ("change", _("Change")),
                                                ("movement", _("Movement"))],
                              [client_row(r.client_id, before=r.before, after=r.after, change=r.change,
                                          movement=MOVEMENTS.get(r.movement, r.movement)) for r in report.clients])]
    if key == "managed_growth":
        rows = [client_row(r.client_id, managed=r.managed, devices=r.devices, discovered=r.unmanaged_discovered,
                           pct=r.pct) for r in kpis.environment_managed(scope, period.last_day)]
        counts = kpis.managed_counts(scope, kpis.month_ends(kpis.month_start(period.last_day)))
        return [Table(_("Share of each client's environment under management"), [
            ("client", _("Client")), ("managed", _("Managed devices")), ("devices", _("Devices")),
            ("discovered", _("Discovered, not managed")), ("pct", _("Managed (%)"))], rows),
            Table(_("Servers and workstations managed"), [("month", _("Month")), ("servers", _("Servers")),
                                                          ("workstations", _("Workstations")), ("total", _("Total"))],
                  [{"month": c.at.strftime("%Y-%m"), "servers": c.servers, "workstations": c.workstations,
                    "total": c.total} for c in counts])]
    if key == "cross_sell":
        report = kpis.cross_sell(scope, period)
        labels = [m.strftime("%Y-%m") for m in report.months]
        per_service = Table(_("Revenue per service per month"), [("service", _("Service"))]
                            + [(m, m) for m in labels] + [("total", _("Total"))],
                            [{"service": report.names.get(sid, sid),
                              **{m.strftime("%Y-%m"): values.get(m) for m in report.months},
                              "total": report.service_total(sid)}
                             for sid, values in sorted(report.by_service.items(),
                                                       key=lambda item: -report.service_total(item[0]))])
        coverage = Table(_("Share of each client's environment covered by %(service)s") % {
            "service": report.service or "—"}, [("client", _("Client")), ("billed_units", _("Units billed")),
                                               ("units", _("Units in the environment")), ("pct", _("Covered (%)"))],
            [client_row(r["client_id"], billed_units=r["billed_units"], units=r["units"], pct=r["pct"])
             for r in report.coverage])
        return [per_service, coverage]
    if key == "ticket_volume":
        volume = kpis.ticket_volume(scope, period)
        grain = "day" if period.days <= 31 else "week" if period.days <= 92 else "month"
        return [Table(_("Averages"), [("per_day", _("Per day")), ("per_week", _("Per week")),
                                      ("per_month", _("Per month")), ("count", _("Total"))],
                      [{"per_day": volume.per_day, "per_week": volume.per_week, "per_month": volume.per_month,
                        "count": volume.count}]),
                Table(_("Per client"), [("client", _("Client")), ("count", _("Tickets"))],
                      [client_row(cid, count=n) | {"url": reverse("servicedesk:ticket_list") + f"?client={cid}"}
                       for cid, n in volume.by_client]),
                Table(_("Per %(grain)s") % {"grain": GRAINS[grain]}, [("bucket", _("From")), ("count", _("Tickets"))],
                      [{"bucket": b.isoformat(), "count": n} for b, n in kpis.ticket_series(scope, period, grain)])]
    if key == "billed_hours":
        money = scope.can(kpis.REVENUE)
        columns = [("client", _("Client")), ("hours", _("Billed hours"))] + ([("amount", _("Amount"))] if money
                                                                             else [])
        return [Table(_("Per client"), columns, [client_row(r.key_id, hours=r.hours, amount=r.amount)
                                                 for r in kpis.billed_hours(scope, period)])]
    if key == "revenue_per_technician":
        report = kpis.revenue_per_technician(scope, period)
        users = _user_names({r.key_id for r in report.rows})
        return [Table(_("Revenue per technician"), [("revenue", _("Invoiced revenue")),
                                                    ("technicians", _("Technicians who logged time")),
                                                    ("average", _("Revenue per technician"))],
                      [{"revenue": report.revenue, "technicians": report.technicians, "average": report.average}]),
                Table(_("Billed time per technician"), [("name", _("Technician")), ("hours", _("Billed hours")),
                                                        ("amount", _("Amount"))],
                      [{"name": users[r.key_id], "hours": r.hours, "amount": r.amount} for r in report.rows])]
    if key == "tasks_per_technician":
        load = kpis.tasks_per_technician(scope, period)
        return [Table(_("Tickets per technician"), [("name", _("Technician")), ("count", _("Tickets")),
                                                    ("share", _("Share (%)"))],
                      [{"name": n, "count": c, "share": s,
                        "url": reverse("servicedesk:ticket_list") + f"?assignee={uid}"} for uid, n, c, s in load.rows]),
                Table(_("Workload balance"), [("mean", _("Mean")), ("stdev", _("Standard deviation")),
                                              ("cv", _("Coefficient of variation")), ("imbalanced", _("Unbalanced"))],
                      [{"mean": load.mean, "stdev": load.stdev, "cv": load.cv,
                        "imbalanced": _("Yes") if load.imbalanced else _("No")}])]
    if key == "handling_time":
        report = kpis.handling_time(scope, period)
        return [Table(_("Per client"), [("client", _("Client")), ("count", _("Tickets resolved")),
                                        ("hours", _("Average hours to resolve"))],
                      [client_row(cid, count=n, hours=h) for cid, n, h in report.by_client])]
    if key == "sla":
        report = kpis.sla_attainment(scope, period)
        return [Table(_("SLA attainment"), [("resolution", _("Resolution target met (%)")),
                                            ("response", _("First response target met (%)"))],
                      [{"resolution": report.resolution_pct, "response": report.response_pct}]),
                Table(_("Per client"), [("client", _("Client")), ("met", _("Met")), ("total", _("Tickets")),
                                        ("pct", _("Met (%)"))],
                      [client_row(cid, met=met, total=n, pct=pct) for cid, met, n, pct in report.by_client])]
    report_s = kpis.survey_scores(scope, period)
    users = _user_names({r[0] for r in report_s.by_technician})
    return [Table(_("Survey scores"), [("answered", _("Answered")), ("sent", _("Sent")),
                                      ("response_rate", _("Response rate (%)")),
                                      ("professionalism", _("Professionalism")), ("accuracy", _("Accuracy")),
                                      ("speed", _("Speed")), ("overall", _("Overall"))],
                  [{"answered": report_s.answered, "sent": report_s.sent, "response_rate": report_s.response_rate,
                    "professionalism": report_s.professionalism, "accuracy": report_s.accuracy,
                    "speed": report_s.speed, "overall": report_s.overall}]),
            Table(_("Per technician"), [("name", _("Technician")), ("count", _("Answered")),
                                        ("overall", _("Overall"))],
                  [{"name": users[uid], "count": n, "overall": o} for uid, n, o in report_s.by_technician])]


MOVEMENTS = {"new": _("New"), "expansion": _("Expansion"), "contraction": _("Contraction"), "churn": _("Churn"),
             "flat": _("Unchanged")}
GRAINS = {"day": _("day"), "week": _("week"), "month": _("month")}


def records(scope: KpiScope, key: str, period: Period, limit: int | None = RECORDS_ON_PAGE) -> Table:
    """The records the figure is computed from, newest first, each with a link to its page."""
    kpis.require_figure(scope, key)
    rows: list[dict[str, Any]] = []
    qs: QuerySet[Any]
    if key in ("average_deal_value", "salespeople"):
        start, end = period.bounds()
        stages = ("won",) if key == "average_deal_value" else ("won", "lost")
        qs = (scope.deals().filter(stage__in=stages, closed_at__gte=start, closed_at__lt=end)
              .select_related("client", "owner").order_by("-closed_at", "-pk"))
        columns = [("deal", _("Deal")), ("client", _("Client")), ("owner", _("Owner")), ("stage", _("Stage")),
                   ("closed", _("Closed")), ("value", _("Value"))]
        for d in _page(qs, limit):
            rows.append({"deal": d.title, "url": reverse("sales:deal_detail", args=[d.pk]), "client": d.client.name,
                         "owner": str(d.owner), "stage": d.get_stage_display(), "closed": d.closed_at.date(),
                         "value": kpis.deal_value(d)})
    elif key == "new_contracts":
        qs = kpis.new_contracts_queryset(scope, period).select_related("client").order_by("-start_date", "-pk")
        contracts = list(_page(qs, limit))
        values = kpis.contract_values(scope, contracts)
        columns = [("contract", _("Contract")), ("client", _("Client")), ("type", _("Type")), ("start", _("Start")),
                   ("value", _("Value"))]
        for c in contracts:
            rows.append({"contract": str(c), "url": reverse("contracts:contract_detail", args=[c.pk]),
                         "client": c.client.name, "type": c.get_type_display(), "start": c.start_date,
                         "value": values[c.pk]})
    elif key in ("mrr", "upsell", "cross_sell"):
        if key == "cross_sell":
            service = kpis.backup_service()
            qs = kpis.service_revenue_lines(scope, period.start, period.end).filter(service=service)
        else:
            months = period.months()
            qs = kpis.recurring_lines(scope).filter(period_start__gte=kpis.add_months(months[0], -1),
                                                    period_start__lt=period.end)
        qs = qs.select_related("invoice", "client").order_by("-period_start", "-pk")
        columns = [("invoice", _("Invoice")), ("client", _("Client")), ("description", _("Description")),
                   ("period", _("Month")), ("amount", _("Amount"))]
        for line in _page(qs, limit):
            rows.append({"invoice": line.invoice.number, "url": reverse("billing:invoice_detail",
                                                                        args=[line.invoice_id]),
                         "client": line.client.name, "description": line.description, "period": line.period_start,
                         "amount": line.amount})
    elif key == "managed_growth":
        t = kpis.aware(period.end)
        qs = (kpis.device_coverage(scope).filter(kpis._covered_at(t)).select_related("device", "client")
              .order_by("client__name", "device__name", "pk"))
        columns = [("device", _("Device")), ("client", _("Client")), ("kind", _("Kind")), ("since", _("Covered since"))]
        for row in _page(qs, limit):
            rows.append({"device": row.device.name, "url": reverse("assets:device_detail", args=[row.device_id]),
                         "client": row.client.name, "kind": row.device.get_kind_display(),
                         "since": row.started_at.date()})
    elif key in ("ticket_volume", "tasks_per_technician", "handling_time", "sla"):
        if key in ("handling_time", "sla"):
            qs = kpis.tickets_resolved(scope, period).order_by("-resolved_at", "-pk")
        else:
            qs = kpis.tickets_opened(scope, period).order_by("-created_at", "-pk")
        qs = qs.select_related("client", "assignee")
        columns = [("ticket", _("Ticket")), ("title", _("Title")), ("client", _("Client")),
                   ("assignee", _("Assignee")), ("opened", _("Opened")), ("resolved", _("Resolved")),
                   ("sla", _("Resolution target met"))]
        for ticket in _page(qs, limit):
            rows.append({"ticket": ticket.number or ticket.pk, "url": reverse("servicedesk:ticket_detail",
                                                                               args=[ticket.pk]),
                         "title": ticket.title, "client": ticket.client.name, "assignee": str(ticket.assignee or "—"),
                         "opened": ticket.created_at, "resolved": ticket.resolved_at or "",
                         "sla": {True: _("Yes"), False: _("No")}.get(ticket.sla_resolution_met, "")})
    elif key in ("billed_hours", "revenue_per_technician"):
        qs = kpis.billed_entries(scope, period).select_related("client", "user", "ticket").order_by("-started_at",
                                                                                                    "-pk")
        columns = [("ticket", _("Ticket")), ("client", _("Client")), ("technician", _("Technician")),
                   ("started", _("Started")), ("minutes", _("Billable minutes")), ("amount", _("Amount"))]
        for entry in _page(qs, limit):
            rows.append({"ticket": entry.ticket.number if entry.ticket else "—",
                         "url": reverse("servicedesk:ticket_detail", args=[entry.ticket_id]) if entry.ticket_id
                         else "", "client": entry.client.name, "technician": str(entry.user),
                         "started": entry.started_at, "minutes": entry.billable_minutes, "amount": entry.amount})
    else:
        qs = kpis.surveys_answered(scope, period).select_related("client", "ticket", "technician").order_by(
            "-answered_at", "-pk")
        columns = [("ticket", _("Ticket")), ("client", _("Client")), ("technician", _("Technician")),
                   ("answered", _("Answered")), ("professionalism", _("Professionalism")),
                   ("accuracy", _("Accuracy")), ("speed", _("Speed"))]
        for survey in _page(qs, limit):
            rows.append({"ticket": survey.ticket.number or survey.ticket_id,
                         "url": reverse("servicedesk:ticket_detail", args=[survey.ticket_id]),
                         "client": survey.client.name, "technician": str(survey.technician or "—"),
                         "answered": survey.answered_at, "professionalism": survey.professionalism,
                         "accuracy": survey.accuracy, "speed": survey.speed})
    return Table(_("Records"), columns, rows, total=qs.count() if limit is not None else len(rows))


def _page(queryset: QuerySet[Any], limit: int | None) -> Any:
    return queryset[:limit] if limit is not None else queryset[:RECORDS_IN_CSV]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def tables_csv(tables: list[Table]) -> bytes:
    """Tables as one CSV: each table's title row, header row and rows, a blank line between tables."""
    out = io.StringIO()
    writer = csv.writer(out)
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        if len(tables) > 1:
            writer.writerow([str(table.title)])
        writer.writerow([str(label) for _k, label in table.columns])
        for row in table.rows:
            writer.writerow([_cell(row.get(k)) for k, _l in table.columns])
    return out.getvalue().encode("utf-8")
