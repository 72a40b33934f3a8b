"""REST endpoints of the KPIs (each with the previous period), the forecasts, the inventory report and the
report subscriptions (scheduled delivery by e-mail)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from tenfold.core.api import ERRORS, Page, actor_of, paginate
from tenfold.reporting import forecasts, inventory, kpi_tables, kpis
from tenfold.reporting.kpi_models import ReportSubscription
from tenfold.reporting.kpi_schemas import (
    DashboardOut,
    FigureDetailOut,
    ForecastReportOut,
    InventoryOut,
    PeriodQuery,
    ReportSubscriptionFilters,
    ReportSubscriptionIn,
    ReportSubscriptionOut,
    ReportSubscriptionPatch,
)
from tenfold.reporting.kpi_views import forecast_rows

kpis_router = Router(tags=["kpis"])
forecasts_router = Router(tags=["kpis"])
inventory_router = Router(tags=["reports"])
subscriptions_router = Router(tags=["reports"])


def _period(params: PeriodQuery) -> kpis.Period:
    return kpis.make_period(params.period, params.start, params.end)


def _period_out(period: kpis.Period) -> dict[str, Any]:
    return {"kind": period.kind, "start": period.start, "end": period.last_day, "label": period.label}


def _figure_out(figure: kpis.Figure) -> dict[str, Any]:
    return {"key": figure.key, "title": str(figure.title), "unit": figure.unit, "value": figure.value,
            "previous": figure.previous, "change": figure.change, "note": str(figure.note or "")}


def _table_out(table: kpi_tables.Table) -> dict[str, Any]:
    keys = [k for k, _label in table.columns]
    return {"title": str(table.title), "columns": keys,
            "rows": [{k: (kpi_tables._cell(row.get(k)) if row.get(k) is not None else None) for k in keys}
                     for row in table.rows]}


@kpis_router.get("/", response={200: DashboardOut, **ERRORS}, summary="Every KPI with its previous period")
def kpi_dashboard(request: HttpRequest, params: Query[PeriodQuery]) -> Any:
    """The KPIs the caller's role may read (a service manager the service KPIs, an account manager those of their
    own pipeline) for the period, each beside the previous period's value."""
    scope = kpis.kpi_scope(actor_of(request))
    period = _period(params)
    figures = kpis.dashboard(scope, period, with_series=False)
    return {"period": _period_out(period), "previous": _period_out(period.previous()),
            "figures": [_figure_out(f) for f in figures]}


@kpis_router.get("/{key}", response={200: FigureDetailOut, **ERRORS}, summary="One KPI with its breakdown")
def kpi_detail(request: HttpRequest, key: str, params: Query[PeriodQuery]) -> Any:
    """One KPI: value and previous value, its 12-month series, its breakdown tables and the first records it is
    computed from (all of them in the page's CSV)."""
    scope = kpis.kpi_scope(actor_of(request))
    kpis.require_figure(scope, key)
    period = _period(params)
    figure = kpis.figure(scope, key, period)
    records = kpi_tables.records(scope, key, period)
    return {"period": _period_out(period), "previous": _period_out(period.previous()), "figure": _figure_out(figure),
            "series": [{"label": str(label), "value": value} for label, value in figure.series],
            "tables": [_table_out(t) for t in kpi_tables.breakdown(scope, key, period)],
            "records": _table_out(records), "records_total": records.total or 0}


@forecasts_router.get("/", response={200: ForecastReportOut, **ERRORS}, summary="Next quarter's forecasts")
def forecast_report(request: HttpRequest) -> Any:
    """Hours, revenue, tickets and clients for the next three months, in total and per client, each with the
    backtested error of the method on past quarters (figures the role may read only)."""
    scope = kpis.kpi_scope(actor_of(request))
    report = forecasts.forecast_report(scope, timezone.localdate())
    return {"starts": report.quarter_start,
            "forecasts": [{k: row[k] for k in ("client_id", "client", "metric_key", "value", "months", "method",
                                                "mae", "mape", "quarters", "history")} | {"metric": row["metric_key"]}
                          for row in forecast_rows(report)]}


@inventory_router.get("/{client_id}", response={200: InventoryOut, **ERRORS}, summary="A client's inventory report")
def inventory_report(request: HttpRequest, client_id: int) -> Any:
    """Hardware in service, software grouped by product, licences owned against installed seats."""
    report = inventory.inventory_for(actor_of(request), client_id)
    return {"client_id": report.client.pk, "client": report.client.name,
            "devices": [{"id": d.pk, "name": d.name, "kind": d.kind, "state": d.state, "managed": d.managed,
                         "vendor": d.vendor, "model": d.model, "serial_number": d.serial_number,
                         "os_name": d.os_name, "warranty_end": d.warranty_end} for d in report.devices],
            "software": [{"name": s.name, "publisher": s.publisher, "versions": s.versions, "devices": s.devices}
                         for s in report.software],
            "licences": [{"product": lic.product, "publisher": lic.publisher, "owned": lic.owned,
                          "installed": lic.installed, "difference": lic.gap, "expires_on": lic.expires_on}
                         for lic in report.licences]}


@inventory_router.get("/{client_id}/csv", response=ERRORS, summary="A client's inventory report as CSV",
                      openapi_extra={"responses": {"200": {
                          "description": "CSV, UTF-8: a hardware, a software and a licences section.",
                          "content": {"text/csv": {"schema": {"type": "string"}, "example": (
                              "hardware\r\nname,kind,state,managed,...\r\nA-WS1,workstation,active,yes,...\r\n\r\n"
                              "software\r\nname,publisher,versions,devices\r\nFirefox,Mozilla,128.0,9\r\n")}}}}})
def inventory_csv(request: HttpRequest, client_id: int) -> Any:
    """The same report as the page's CSV download."""
    report = inventory.inventory_for(actor_of(request), client_id)
    response = HttpResponse(inventory.inventory_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="inventory-{report.client.pk}.csv"'
    return response


# --- Report subscriptions -------------------------------------------------------------------------------------


def _subscription_out(sub: ReportSubscription) -> dict[str, Any]:
    return {"id": sub.pk, "report": sub.report, "client_id": sub.client_id,
            "client": sub.client.name if sub.client else None, "recipients": sub.recipient_list(),
            "cadence": sub.cadence, "format": sub.format, "enabled": sub.enabled, "next_send_on": sub.next_send_on,
            "last_sent_at": sub.last_sent_at, "created_at": sub.created_at}


@subscriptions_router.get("", response={200: Page[ReportSubscriptionOut], **ERRORS},
                          summary="List scheduled reports")
def list_subscriptions(request: HttpRequest, filters: Query[ReportSubscriptionFilters]) -> Any:
    """The scheduled reports of the clients the caller sees, and those of every client."""
    queryset = inventory.subscriptions_visible(actor_of(request))
    if filters.client_id is not None:
        queryset = queryset.filter(client_id=filters.client_id)
    if filters.report is not None:
        queryset = queryset.filter(report=filters.report)
    if filters.enabled is not None:
        queryset = queryset.filter(enabled=filters.enabled)
    page = paginate(queryset, filters.page, filters.page_size)
    page["items"] = [_subscription_out(sub) for sub in page["items"]]
    return page


@subscriptions_router.post("", response={201: ReportSubscriptionOut, **ERRORS}, summary="Schedule a report")
def create_subscription(request: HttpRequest, payload: ReportSubscriptionIn) -> Any:
    """A client's report goes to staff who see the client or to its contacts; a report of every client to staff
    who see every client."""
    sub = inventory.subscription_create(actor=actor_of(request), report=payload.report, client_id=payload.client_id,
                                        recipients=payload.recipients, cadence=payload.cadence,
                                        first_send_on=payload.next_send_on, format=payload.format,
                                        enabled=payload.enabled)
    return Status(201, _subscription_out(sub))


@subscriptions_router.get("/{subscription_id}", response={200: ReportSubscriptionOut, **ERRORS},
                          summary="Get a scheduled report")
def get_subscription(request: HttpRequest, subscription_id: int) -> Any:
    return _subscription_out(inventory.access_subscription(actor_of(request), subscription_id))


@subscriptions_router.patch("/{subscription_id}", response={200: ReportSubscriptionOut, **ERRORS},
                            summary="Change a scheduled report")
def update_subscription(request: HttpRequest, subscription_id: int, payload: ReportSubscriptionPatch) -> Any:
    """Recipients, report, cadence, format, next delivery, enabled; the client does not change."""
    actor = actor_of(request)
    sub = inventory.access_subscription(actor, subscription_id)
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return _subscription_out(inventory.subscription_update(actor=actor, subscription=sub, data=data))


@subscriptions_router.delete("/{subscription_id}", response={204: None, **ERRORS}, summary="Delete a scheduled report")
def delete_subscription(request: HttpRequest, subscription_id: int) -> Any:
    actor = actor_of(request)
    inventory.subscription_delete(actor=actor, subscription=inventory.access_subscription(actor, subscription_id))
    return Status(204, None)
