"""The demo MSP has two years of history: the KPI dashboard and the forecasts show trends on it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tenfold.accounts.models import User
from tenfold.billing.models import Invoice
from tenfold.conftest import DemoDatabase
from tenfold.reporting import forecasts, kpis
from tenfold.servicedesk.models import Ticket


@pytest.mark.django_db
def test_demo_history_gives_the_dashboard_two_years_of_trends(demo: DemoDatabase) -> None:
    today = timezone.localdate(demo.started_at)
    oldest = kpis.add_months(today.replace(day=1), -26)
    # history reaches back two years before the billing seed's first month, and only into the past
    assert Invoice.objects.filter(period_start=oldest).exists()
    assert not Invoice.objects.filter(number__startswith="FH", period_start__gte=kpis.add_months(
        today.replace(day=1), -2)).exists()
    assert Ticket.objects.filter(created_at__lt=kpis.aware(kpis.add_months(today.replace(day=1), -20))).count() > 50
    owner = User.objects.get(role="owner", email__startswith="owner@")
    scope = kpis.kpi_scope(owner)
    figures = {f.key: f for f in kpis.dashboard(scope, kpis.make_period("month", kpis.add_months(today, -3)))}
    mrr = [v for _label, v in figures["mrr"].series]
    assert all(v is not None and v > 0 for v in mrr) and mrr[-1] > mrr[0]  # MRR grew over the year
    assert sum(1 for _l, v in figures["ticket_volume"].series if v) == 12
    # managed services grew: the devices under contract over the year, and at yearly steps over two years
    growth = [v for _label, v in figures["managed_growth"].series]
    assert len(growth) == 12 and growth[0] < growth[-1] and len(set(growth)) > 3
    first = today.replace(day=1)
    steps = kpis.managed_counts(scope, [kpis.add_months(first, -k) - timedelta(days=1) for k in (24, 12, 0)])
    assert steps[0].total < steps[1].total < steps[2].total, steps
    assert steps[0].workstations < steps[2].workstations
    report = forecasts.forecast_report(scope, today, per_client=False)
    tickets = report.total.forecasts["tickets"]
    assert tickets.method == "holt_winters" and tickets.backtest.quarters == 4 and tickets.value and tickets.value > 0
