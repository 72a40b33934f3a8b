"""KPI dashboard, a KPI's drill-down, forecasts: parse the period, check access, compute, render (page or CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tenfold.catalog.selectors import currency
from tenfold.reporting import forecasts, kpi_tables, kpis
from tenfold.reporting.kpi_forms import PeriodForm, period_query

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 600, 160, 24


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: Any


@dataclass(frozen=True)
class Chart:
    """A server-drawn SVG chart (no script, no style attribute): bars, or a polyline with its points."""

    kind: str
    bars: list[Bar]
    points: str
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    baseline: float = CHART_HEIGHT - CHART_PAD
    maximum: Any = None
    first_label: str = ""
    last_label: str = ""


def svg_chart(series: list[tuple[str, Any]], kind: str = "line") -> Chart | None:
    """Scale a series into the chart box; None when there is nothing to draw."""
    values = [Decimal(v) if v is not None else None for _l, v in series]
    known = [v for v in values if v is not None]
    if not series or not known:
        return None
    top = max(max(known), Decimal(0)) or Decimal(1)
    inner_h = CHART_HEIGHT - 2 * CHART_PAD
    step = (CHART_WIDTH - 2 * CHART_PAD) / len(series)
    bars, points = [], []
    for index, ((label, raw), value) in enumerate(zip(series, values, strict=True)):
        height = float(max(value or 0, Decimal(0)) / top) * inner_h
        x = CHART_PAD + index * step
        bars.append(Bar(round(x + step * 0.15, 1), round(CHART_HEIGHT - CHART_PAD - height, 1),
                        round(step * 0.7, 1), round(height, 1), label, raw))
        if value is not None:
            points.append(f"{round(x + step / 2, 1)},{round(CHART_HEIGHT - CHART_PAD - height, 1)}")
    return Chart(kind, bars, " ".join(points), maximum=top, first_label=series[0][0], last_label=series[-1][0])


def _period(request: HttpRequest) -> tuple[PeriodForm, kpis.Period]:
    form = PeriodForm(request.GET or None)
    return form, form.period_or_default()


def _csv(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _status(form: PeriodForm) -> int:
    return 422 if form.is_bound and not form.is_valid() else 200


@login_required
@require_GET
def kpi_dashboard(request: HttpRequest) -> HttpResponse:
    """Every KPI the role may read for the chosen period, beside the previous period, each with its chart;
    ?format=csv downloads the figures."""
    scope = kpis.kpi_scope(request.user)
    form, period = _period(request)
    figures = kpis.dashboard(scope, period, with_series=request.GET.get("format") != "csv")
    if request.GET.get("format") == "csv":
        table = kpi_tables.Table("KPIs", [("key", "key"), ("title", "title"), ("unit", "unit"), ("value", "value"),
                                          ("previous", "previous"), ("change", "change")],
                                 [{"key": f.key, "title": str(f.title), "unit": f.unit, "value": f.value,
                                   "previous": f.previous, "change": f.change} for f in figures])
        return _csv(kpi_tables.tables_csv([table]), f"kpis-{period.start.isoformat()}.csv")
    cards = [{"figure": f, "chart": svg_chart(f.series, f.chart)} for f in figures]
    return render(request, "reporting/kpi_dashboard.html", {
        "form": form, "period": period, "previous": period.previous(), "cards": cards, "query": period_query(period),
        "currency": currency(), "own_pipeline": scope.own_pipeline}, status=_status(form))


@login_required
@require_GET
def kpi_detail(request: HttpRequest, key: str) -> HttpResponse:
    """One KPI: the figure and its previous period, its chart, its breakdown and the records behind it;
    ?format=csv downloads the breakdown, ?format=records the records."""
    scope = kpis.kpi_scope(request.user)
    kpis.require_figure(scope, key)
    form, period = _period(request)
    fmt = request.GET.get("format")
    if fmt == "csv":
        return _csv(kpi_tables.tables_csv(kpi_tables.breakdown(scope, key, period)),
                    f"kpi-{key}-{period.start.isoformat()}.csv")
    if fmt == "records":
        return _csv(kpi_tables.tables_csv([kpi_tables.records(scope, key, period, limit=None)]),
                    f"kpi-{key}-records-{period.start.isoformat()}.csv")
    figure = kpis.figure(scope, key, period)
    return render(request, "reporting/kpi_detail.html", {
        "form": form, "period": period, "previous": period.previous(), "figure": figure,
        "chart": svg_chart(figure.series, figure.chart), "tables": kpi_tables.breakdown(scope, key, period),
        "records": kpi_tables.records(scope, key, period), "query": period_query(period), "currency": currency()},
        status=_status(form))


def forecast_rows(report: forecasts.ForecastReport) -> list[dict[str, Any]]:
    """Flat rows (one per client and metric) for the page's table and the CSV."""
    rows = []
    for row in [report.total, *report.clients]:
        for metric in report.metrics:
            result = row.forecasts[metric]
            rows.append({"client": row.name, "client_id": row.client_id, "metric": str(forecasts.METRICS[metric]),
                         "metric_key": metric, "value": forecasts.rounded(result.value),
                         "months": [forecasts.rounded(v) for v in result.months], "method": result.method,
                         "params": result.params, "mae": forecasts.rounded(result.mae),
                         "mape": forecasts.rounded(result.mape, 1), "quarters": result.backtest.quarters,
                         "history": result.history})
    return rows


@login_required
@require_GET
def forecast_page(request: HttpRequest) -> HttpResponse:
    """Next quarter's forecasts, in total and per client, each beside its backtested error; ?format=csv."""
    scope = kpis.kpi_scope(request.user)
    report = forecasts.forecast_report(scope, kpis.timezone.localdate())
    rows = forecast_rows(report)
    if request.GET.get("format") == "csv":
        table = kpi_tables.Table("forecasts", [
            ("client", "client"), ("metric", "metric"), ("value", "forecast"), ("method", "method"),
            ("mae", "backtest MAE"), ("mape", "backtest MAPE (%)"), ("quarters", "quarters backtested"),
            ("history", "months of history")], rows)
        return _csv(kpi_tables.tables_csv([table]), f"forecasts-{report.quarter_start.isoformat()}.csv")
    return render(request, "reporting/forecast.html", {
        "report": report, "total_rows": [r for r in rows if r["client_id"] is None],
        "client_rows": [r for r in rows if r["client_id"] is not None], "currency": currency()})
