"""Browser test of the KPI pages: from the menu to the dashboard, change the period, read a figure beside the
previous period's, drill down to the records behind it and download them: the CSV is exactly the hand-built
dataset's tickets (tests/kpi_factories.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in
from tenfold.reporting.tests.kpi_factories import build_msp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_kpi_dashboard_period_previous_figure_drill_down_and_csv(page: Page, live_server: Any) -> None:
    # given the hand-built MSP (March 2026 under test, February before it) and its owner
    msp = build_msp()
    browser_log_in(page, live_server.url, msp.users["owner"])

    # when they open the KPIs from the menu and choose March 2026
    page.click("[data-nav=kpis]")
    expect(page.locator("h1")).to_have_text("KPIs")
    page.select_option("[data-testid=kpi-period] select[name=period]", "month")
    page.fill("[data-testid=kpi-period] input[name=start]", "2026-03-01")
    page.click("[data-testid=kpi-period-show]")

    # then the dashboard compares March with February: 5 tickets opened (t1, t2, t3, t4, t7; t5 was merged),
    # 1 in February (t6)
    expect(page.locator("[data-testid=kpi-periods]")).to_have_text("Period 2026-03, compared with 2026-02.")
    volume = page.locator("[data-testid=kpi-ticket_volume]")
    expect(volume.locator("[data-testid=kpi-value]")).to_have_text("5")
    expect(volume.locator("[data-testid=kpi-previous]")).to_have_text("Previous period: 1")

    # when they drill down into the ticket volume
    volume.locator("h2 a").click()
    expect(page.locator("h1")).to_have_text("Ticket volume")
    expect(page.locator("[data-testid=kpi-periods]")).to_have_text("Period 2026-03, compared with 2026-02.")
    # then the records behind the figure are the five tickets, newest first, each linked to its ticket
    records = page.locator("[data-testid=kpi-records] tbody tr")
    expect(records).to_have_count(5)
    expect(records.locator("td:first-child")).to_have_text(["t7", "t4", "t3", "t2", "t1"])
    link = records.first.locator("a")
    expect(link).to_have_attribute("href", reverse("servicedesk:ticket_detail", args=[msp.tickets["t7"].pk]))

    # and the records' CSV holds exactly those tickets
    with page.expect_download() as download:
        page.click("[data-testid=kpi-records-csv]")
    assert download.value.suggested_filename == "kpi-ticket_volume-records-2026-03-01.csv"
    content = Path(download.value.path()).read_bytes().decode("utf-8")
    assert list(csv.reader(io.StringIO(content))) == [
        ["Ticket", "Title", "Client", "Assignee", "Opened", "Resolved", "Resolution target met"],
        ["t7", "t7", "Alpha Bakery", "—", "2026-03-25T10:00:00+00:00", "", ""],
        ["t4", "t4", "Beta Garage", "Tina Two", "2026-03-12T10:00:00+00:00", "2026-03-12T12:00:00+00:00", "Yes"],
        ["t3", "t3", "Alpha Bakery", "Tom One", "2026-03-10T08:00:00+00:00", "", ""],
        ["t2", "t2", "Alpha Bakery", "Tom One", "2026-03-05T09:00:00+00:00", "2026-03-06T09:00:00+00:00", "No"],
        ["t1", "t1", "Alpha Bakery", "Tom One", "2026-03-02T10:00:00+00:00", "2026-03-02T14:00:00+00:00", "Yes"],
    ]
    assert content.count("\r\n") == 6
