"""Forecasts of the next quarter (principle 5's predictability): hours required, revenue, tickets and clients, in
total and per client, from the monthly history, each beside its error on past quarters.

The method (docs/kpis.md "Forecasts"): exponential smoothing in plain Python.
- With 24 months of history or more: additive Holt-Winters with a 12-month season.
- With 3 to 23 months: Holt's linear trend (no season).
- With 1 or 2 months: the mean of the months known. With none: no forecast.
The smoothing parameters come from a small grid; the ones kept minimise the backtest's mean absolute error:
for each of the last BACKTEST_QUARTERS quarters of the history, the model is fitted on the months before it
and forecasts its three months; the error is |forecast quarter − actual quarter|. MAE and MAPE (over quarters
whose actual is not 0) are shown beside the forecast. Forecasts below 0 are 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import product
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from tenfold.billing.models import Invoice, InvoiceKind
from tenfold.reporting import kpis
from tenfold.servicedesk.models import Ticket, TimeEntry

SEASON = 12
HORIZON = 3
BACKTEST_QUARTERS = 4
HISTORY_MONTHS = 36
ALPHAS = (0.2, 0.5, 0.8)
BETAS = (0.0, 0.2)
GAMMAS = (0.1, 0.4)

METRICS: dict[str, Any] = {
    "hours": _("Hours required"),
    "revenue": _("Revenue"),
    "tickets": _("Tickets"),
    "clients": _("Clients"),
}
# How a quarter is made of its months: hours, revenue and tickets add up; the number of clients is the last
# month's.
QUARTER_OF = {"hours": "sum", "revenue": "sum", "tickets": "sum", "clients": "last"}


# --- The models --------------------------------------------------------------------------------------------


def holt_winters(y: Sequence[float], alpha: float, beta: float, gamma: float, horizon: int = HORIZON,
                 season: int = SEASON) -> list[float]:
    """Additive Holt-Winters forecasts for `horizon` months; needs two seasons of history.

    Start: the trend b is (mean of season 2 − mean of season 1) / season; the level one step before the first
    month is mean(season 1) − (season + 1) / 2 × b; season index i is y_i − (mean(season 1) + (i − (season−1)/2)
    × b). A series that is exactly trend + season is then forecast exactly, whatever the parameters."""
    if len(y) < 2 * season:
        raise ValueError("Holt-Winters needs two seasons of history")
    first = sum(y[:season]) / season
    second = sum(y[season:2 * season]) / season
    trend = (second - first) / season
    level = first - (season + 1) / 2 * trend
    seasonal = [y[i] - (first + (i - (season - 1) / 2) * trend) for i in range(season)]
    for t, value in enumerate(y):
        s = seasonal[t % season]
        previous_level = level
        level = alpha * (value - s) + (1 - alpha) * (level + trend)
        trend = beta * (level - previous_level) + (1 - beta) * trend
        seasonal[t % season] = gamma * (value - level) + (1 - gamma) * s
    n = len(y)
    return [level + h * trend + seasonal[(n + h - 1) % season] for h in range(1, horizon + 1)]


def holt(y: Sequence[float], alpha: float, beta: float, horizon: int = HORIZON) -> list[float]:
    """Holt's linear trend: level = y0 and trend = y1 − y0 to start, then smoothed from the second month."""
    if len(y) < 2:
        raise ValueError("Holt needs two months of history")
    level, trend = y[0], y[1] - y[0]
    for value in y[1:]:
        previous_level = level
        level = alpha * value + (1 - alpha) * (level + trend)
        trend = beta * (level - previous_level) + (1 - beta) * trend
    return [level + h * trend for h in range(1, horizon + 1)]


def method_for(length: int) -> str:
    if length >= 2 * SEASON:
        return "holt_winters"
    if length >= 3:
        return "holt"
    if length >= 1:
        return "mean"
    return "none"


def predict(y: Sequence[float], params: tuple[float, float, float], horizon: int = HORIZON) -> list[float]:
    """The forecast of the method the history's length calls for, clamped at 0."""
    method = method_for(len(y))
    alpha, beta, gamma = params
    if method == "holt_winters":
        values = holt_winters(y, alpha, beta, gamma, horizon)
    elif method == "holt":
        values = holt(y, alpha, beta, horizon)
    elif method == "mean":
        values = [sum(y) / len(y)] * horizon
    else:
        return []
    return [max(0.0, v) for v in values]


def _quarter(values: Sequence[float], how: str) -> float:
    return values[-1] if how == "last" else sum(values)


@dataclass(frozen=True)
class Backtest:
    """The errors of the forecasts the method would have made for past quarters."""

    quarters: int
    mae: float | None
    mape: float | None
    errors: tuple[tuple[float, float], ...]  # (forecast, actual) per quarter, oldest first


def backtest(y: Sequence[float], params: tuple[float, float, float], how: str = "sum",
             quarters: int = BACKTEST_QUARTERS) -> Backtest:
    """Forecast each of the last `quarters` quarters from the months before it (at least 3 months of history)."""
    pairs = []
    for k in range(quarters, 0, -1):
        cut = len(y) - HORIZON * k
        if cut < 3:
            continue
        forecast = predict(y[:cut], params)
        pairs.append((_quarter(forecast, how), _quarter(y[cut:cut + HORIZON], how)))
    if not pairs:
        return Backtest(0, None, None, ())
    mae = sum(abs(f - a) for f, a in pairs) / len(pairs)
    relative = [abs(f - a) / abs(a) for f, a in pairs if a]
    mape = 100 * sum(relative) / len(relative) if relative else None
    return Backtest(len(pairs), mae, mape, tuple(pairs))


GRID: tuple[tuple[float, float, float], ...] = tuple(product(ALPHAS, BETAS, GAMMAS))


@dataclass(frozen=True)
class Forecast:
    """The next quarter's forecast of one series, its months, the method, the parameters and the backtest."""

    value: float | None
    months: tuple[float, ...]
    method: str
    params: tuple[float, float, float] | None
    backtest: Backtest
    history: int

    @property
    def mae(self) -> float | None:
        return self.backtest.mae

    @property
    def mape(self) -> float | None:
        return self.backtest.mape


def forecast(y: Sequence[float], how: str = "sum",
             grid: Sequence[tuple[float, float, float]] = GRID) -> Forecast:
    """Choose the parameters with the lowest backtest MAE (the first of the grid on a tie; the grid's first when
    nothing can be backtested), then forecast the next three months from the whole history."""
    y = [float(v) for v in y]
    if not y:
        return Forecast(None, (), "none", None, Backtest(0, None, None, ()), 0)
    best: tuple[float, tuple[float, float, float], Backtest] | None = None
    for params in grid:
        result = backtest(y, params, how)
        score = result.mae if result.mae is not None else float("inf")
        if best is None or score < best[0]:
            best = (score, params, result)
    assert best is not None
    months = predict(y, best[1])
    return Forecast(_quarter(months, how), tuple(months), method_for(len(y)), best[1], best[2], len(y))


# --- The history -------------------------------------------------------------------------------------------


def history_months(today: date, months: int = HISTORY_MONTHS) -> list[date]:
    """The complete months before `today`'s month, oldest first."""
    last = kpis.add_months(kpis.month_start(today), -1)
    return [kpis.add_months(last, -i) for i in range(months - 1, -1, -1)]


@dataclass
class History:
    """Monthly series per metric: total and per client, over the same months."""

    months: list[date]
    total: dict[str, list[float]] = field(default_factory=dict)
    by_client: dict[int, dict[str, list[float]]] = field(default_factory=dict)


def _trim(months: list[date], series: dict[str, list[float]]) -> int:
    """Index of the first month with any data (a client's history starts with its first record)."""
    for index in range(len(months)):
        if any(values[index] for values in series.values()):
            return index
    return len(months)


def monthly_history(scope: kpis.KpiScope, today: date, months: int = HISTORY_MONTHS) -> History:
    """Hours worked (actual minutes / 60), invoiced revenue (subtotals of booked invoices by issue date), tickets
    opened and clients billed (MRR > 0) per month, in total and per client."""
    axis = history_months(today, months)
    first, end = axis[0], kpis.add_months(axis[-1], 1)
    index = {m: i for i, m in enumerate(axis)}
    per_client: dict[int, dict[str, list[float]]] = defaultdict(lambda: {k: [0.0] * len(axis) for k in METRICS})
    start_at, end_at = kpis.aware(first), kpis.aware(end)

    def add(rows: Any, metric: str, value_key: str, scale: float = 1.0) -> None:
        for row in rows:
            i = index.get(kpis._as_date(row["m"]))
            if i is not None:
                per_client[row["client_id"]][metric][i] += float(row[value_key] or 0) * scale

    if scope.can(kpis.SERVICE):
        add(scope.restrict(TimeEntry.objects.all()).filter(started_at__gte=start_at, started_at__lt=end_at)
            .annotate(m=TruncMonth("started_at")).values("m", "client_id").annotate(v=Sum("actual_minutes"))
            .order_by(), "hours", "v", 1 / 60)
        add(scope.restrict(Ticket.objects.all()).filter(merged_into__isnull=True, created_at__gte=start_at,
                                                         created_at__lt=end_at)
            .annotate(m=TruncMonth("created_at")).values("m", "client_id").annotate(v=Count("pk")).order_by(),
            "tickets", "v")
    if scope.can(kpis.REVENUE):
        add(scope.restrict(Invoice.objects.all()).filter(kind=InvoiceKind.INVOICE, status__in=kpis.BOOKED,
                                                          issue_date__gte=first, issue_date__lt=end)
            .annotate(m=TruncMonth("issue_date")).values("m", "client_id").annotate(v=Sum("subtotal")).order_by(),
            "revenue", "v")
    by_month = kpis.mrr_by_month(scope, first, axis[-1]) if scope.can(kpis.REVENUE) else {}
    for month, clients in by_month.items():
        for client_id, mrr in clients.items():
            if mrr > 0 and month in index:
                per_client[client_id]["clients"][index[month]] = 1.0
    total = {k: [sum(c[k][i] for c in per_client.values()) for i in range(len(axis))] for k in METRICS}
    return History(axis, total, dict(per_client))


def allowed_metrics(scope: kpis.KpiScope) -> list[str]:
    """Hours and tickets are service figures; revenue and clients are revenue figures."""
    keys = []
    if scope.can(kpis.SERVICE):
        keys += ["hours", "tickets"]
    if scope.can(kpis.REVENUE):
        keys += ["revenue", "clients"]
    return [k for k in METRICS if k in keys]


@dataclass
class ForecastRow:
    client_id: int | None
    name: str
    forecasts: dict[str, Forecast]


@dataclass
class ForecastReport:
    quarter_start: date
    metrics: list[str]
    total: ForecastRow
    clients: list[ForecastRow]


def next_quarter(today: date) -> date:
    return kpis.add_months(date(today.year, (today.month - 1) // 3 * 3 + 1, 1), 3)


def forecast_report(scope: kpis.KpiScope, today: date, *, per_client: bool = True,
                    months: int = HISTORY_MONTHS) -> ForecastReport:
    """Next quarter's forecasts of what the actor may read, in total and per client.

    The history ends with the last complete month; the forecast covers the three months after it (the next
    quarter when run in a quarter's last month, otherwise the three months ahead)."""
    metrics = allowed_metrics(scope)
    history = monthly_history(scope, today, months)
    total = ForecastRow(None, str(_("All clients")), {
        k: forecast(history.total[k][_trim(history.months, history.total):], QUARTER_OF[k]) for k in metrics})
    rows: list[ForecastRow] = []
    if per_client:
        names = kpis.ClientNames.of(scope)
        for client_id, series in sorted(history.by_client.items(), key=lambda item: names(item[0])):
            start = _trim(history.months, {k: series[k] for k in metrics})
            rows.append(ForecastRow(client_id, names(client_id), {
                k: forecast(series[k][start:], QUARTER_OF[k]) for k in metrics}))
    return ForecastReport(kpis.add_months(history.months[-1], 1), metrics, total, rows)


def rounded(value: float | None, places: int = 2) -> Decimal | None:
    """A forecast figure for display and the API."""
    if value is None:
        return None
    return Decimal(str(round(value, places)))
