"""Browser test of the billing flow: finance runs billing for a month, opens the client's invoice with the
devices behind its line, issues it and downloads the PDF."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.billing.models import Invoice
from tenfold.billing.tests.factories import cover, make_catalog, make_client, make_contract, make_tax
from tenfold.billing.usage import month_start, next_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_run_billing_issue_and_download(page: Page, live_server) -> None:
    # given a managed contract covering two servers (40 € each) and 20 % VAT
    make_tax("20.000")
    parts = make_catalog()
    client = make_client("Imprimerie Roux")
    contract = make_contract(client, parts["good"])
    cover(contract, "server", 2, datetime(2025, 12, 1, tzinfo=UTC), prefix="ROUX-SRV")
    user = make_staff("finance")
    browser_log_in(page, live_server.url, user)
    month = next_month(month_start(datetime.now(UTC).date()))

    # when finance runs billing for next month from the billing runs page
    page.goto(f"{live_server.url}/billing/")
    page.click("[data-testid=billing-runs]")
    page.fill("#id_month", month.strftime("%Y-%m"))
    page.click("[data-testid=run-billing]")
    expect(page.locator("[data-testid=run-status]")).to_have_text("Done")
    expect(page.locator("[data-testid=run-total]")).to_have_text("96.00")

    # and opens the invoice: the line lists the servers counted
    page.click("[data-testid=run-invoices] a")
    expect(page.locator("[data-testid=invoice-lines]")).to_contain_text("ROUX-SRV-01")
    expect(page.locator("[data-testid=invoice-total]")).to_contain_text("96.00")

    # and issues it
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=issue]")
    expect(page.locator("[data-testid=invoice-status]")).to_have_text("Issued")
    invoice = Invoice.objects.get(client=client)
    expect(page.locator("[data-testid=invoice-number]")).to_have_text(invoice.number)

    # then the PDF downloads
    with page.expect_download() as download_info:
        page.click("[data-testid=download-pdf]")
    download = download_info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(4) == b"%PDF"
