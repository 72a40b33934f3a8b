"""Browser test of the device Performance chart: drawn by the vendored Chart.js inside the HTMX-loaded
monitoring panel, redrawn by the range buttons, with no CSP violation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.assets.models import MetricSample
from tenfold.monitoring.models import DeviceMetricDaily
from tenfold.monitoring.tests.factories import make_client, make_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_performance_chart_draws_and_switches_range(page: Page, live_server) -> None:
    client = make_client("Cabinet Martin")
    device = make_device(client, name="pc-martin-01")
    now = timezone.now()
    MetricSample.objects.bulk_create([
        MetricSample(client=client, device=device, at=now - timedelta(minutes=5 * i), cpu_pct=20 + i % 7,
                     mem_pct=50, disk_min_free_pct=40) for i in range(50)])
    DeviceMetricDaily.objects.bulk_create([
        DeviceMetricDaily(client=client, device=device, day=(now - timedelta(days=d)).date(), samples=288,
                          cpu_avg=30, cpu_max=80, mem_avg=55, mem_max=70, disk_min_free=40, computed_at=now)
        for d in range(1, 20)])
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    browser_log_in(page, live_server.url, make_staff("technician"))
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url) if "metrics.json" in req.url else None)

    page.goto(f"{live_server.url}/devices/{device.pk}/")
    card = page.locator("[data-testid=performance]")
    expect(card).to_be_visible()
    # Chart.js registers the chart on the canvas once drawn
    page.wait_for_function("() => { const c = document.querySelector('canvas[data-chart-url]');"
                           " return c && window.Chart && window.Chart.getChart(c)"
                           " && window.Chart.getChart(c).data.labels.length === 50; }")
    card.locator("button[data-chart-range='30d']").click()
    page.wait_for_function("() => { const c = document.querySelector('canvas[data-chart-url]');"
                           " const chart = window.Chart.getChart(c);"
                           " return chart && chart.data.labels.length === 19; }")
    expect(card.locator("button[data-chart-range='30d']")).to_have_attribute("aria-pressed", "true")
    assert any("range=30d" in url for url in requests)
    assert violations == []
