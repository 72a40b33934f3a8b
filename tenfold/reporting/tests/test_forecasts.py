"""Forecasts on hand-built series, with the smoothing worked out by hand in the comments."""

from __future__ import annotations

from datetime import date

import pytest

from tenfold.reporting import forecasts, kpis
from tenfold.reporting.tests.kpi_factories import build_msp

SEASON = [5, -5, 10, -10, 0, 0, 3, -3, 7, -7, 1, -1]  # sums to 0


def test_holt_by_hand() -> None:
    # level 10, trend 14 − 10 = 4; month 14: level .5×14 + .5×(10+4) = 14, trend .5×4 + .5×4 = 4
    # month 12: level .5×12 + .5×18 = 15, trend .5×1 + .5×4 = 2.5 → 17.5, 20, 22.5
    assert forecasts.holt([10, 14, 12], 0.5, 0.5) == [17.5, 20.0, 22.5]


def test_holt_winters_forecasts_trend_plus_season_exactly() -> None:
    # y_t = 100 + 2t + season: the start values are exact, so any parameters forecast it exactly
    y = [100 + 2 * t + SEASON[t % 12] for t in range(36)]
    for params in ((0.2, 0.0, 0.1), (0.8, 0.2, 0.4)):
        months = forecasts.holt_winters(y, *params)
        # months 36, 37, 38: 100 + 72 + 5 = 177, 100 + 74 − 5 = 169, 100 + 76 + 10 = 186
        assert [round(v, 9) for v in months] == [177.0, 169.0, 186.0]
    result = forecasts.forecast(y)
    # every backtest quarter starts after 24 months, so it is Holt-Winters too and exact: MAE 0, MAPE 0
    assert (result.method, round(result.value or 0, 9), result.backtest.quarters, round(result.mae or 0, 9),
            round(result.mape or 0, 9)) == ("holt_winters", 532.0, 4, 0.0, 0.0)


def test_backtest_by_hand() -> None:
    y = [10, 14, 12, 16, 20, 18]
    result = forecasts.backtest(y, (0.5, 0.5, 0.1))
    # only the last quarter has 3 months before it: from [10, 14, 12] → 17.5 + 20 + 22.5 = 60 against
    # 16 + 20 + 18 = 54: MAE 6, MAPE 6/54 = 11.11 %
    assert (result.quarters, result.errors, result.mae, round(result.mape or 0, 2)) == (1, ((60.0, 54.0),), 6.0,
                                                                                        11.11)


def test_grid_keeps_the_parameters_with_the_lowest_backtest_error() -> None:
    y = [10, 14, 12, 16, 20, 18]
    # (0.2, 0): from [10, 14, 12] level 14 then .2×12 + .8×18 = 16.8, trend 4 → 20.8 + 24.8 + 28.8 = 74.4: error 20.4
    # (0.5, 0.5): error 6 (above) → kept
    result = forecasts.forecast(y, grid=[(0.2, 0.0, 0.1), (0.5, 0.5, 0.1)])
    assert (result.params, result.mae, result.method) == ((0.5, 0.5, 0.1), 6.0, "holt")
    # the whole history with (0.5, 0.5): level/trend 14/4, 15/2.5, 16.75/2.125, 19.4375/2.40625,
    # 19.921875/1.4453125 → 21.3671875 + 22.8125 + 24.2578125 = 68.4375
    assert result.months == (21.3671875, 22.8125, 24.2578125)
    assert result.value == 68.4375


def test_short_histories() -> None:
    assert forecasts.forecast([4, 8]).value == 18.0  # mean 6 for each of three months
    assert forecasts.forecast([4, 8], "last").value == 6.0
    assert forecasts.forecast([]).value is None
    # a falling series is clamped at 0, never negative: 5, 0, 0 → trend −5 → every month 0
    assert forecasts.forecast([5, 0, 0], grid=[(0.5, 0.5, 0.1)]).value == 0.0


@pytest.mark.django_db
def test_forecast_report_on_the_hand_built_msp() -> None:
    msp = build_msp()
    report = forecasts.forecast_report(kpis.kpi_scope(msp.users["owner"]), date(2026, 4, 15))
    assert report.quarter_start == date(2026, 4, 1)
    total = report.total.forecasts
    # the history starts in January 2026 (the first invoices), three months → Holt, nothing to backtest,
    # so the grid's first parameters (0.2, 0):
    # tickets 0, 1, 5: level 0 trend 1; 1 → .2×1 + .8×1 = 1; 5 → .2×5 + .8×2 = 2.6 → 3.6 + 4.6 + 5.6 = 13.8
    assert round(total["tickets"].value or 0, 6) == 13.8
    # revenue 500, 600, 920: level 500 trend 100; 600 → 600; 920 → .2×920 + .8×700 = 744 → 844 + 944 + 1044
    assert round(total["revenue"].value or 0, 6) == 2832.0
    # clients billed 2, 3, 3 (the last month of the quarter counts): 2/1; 3 → 3; 3 → .6 + .8×4 = 3.8 → 6.8
    assert round(total["clients"].value or 0, 6) == 6.8
    # hours 0, 1 (60 min), 295/60: 1 → 1; 4.91667 → .98333 + .8×2 = 2.58333 → 3.58 + 4.58 + 5.58 = 13.75
    assert round(total["hours"].value or 0, 6) == 13.75
    assert total["tickets"].backtest.quarters == 0 and total["tickets"].mae is None
    assert {row.name for row in report.clients} == {"Alpha Bakery", "Beta Garage", "Gamma Clinic", "Delta Notary"}


@pytest.mark.django_db
def test_service_manager_forecasts_hours_and_tickets_only() -> None:
    msp = build_msp()
    report = forecasts.forecast_report(kpis.kpi_scope(msp.users["service"]), date(2026, 4, 15))
    assert report.metrics == ["hours", "tickets"]
