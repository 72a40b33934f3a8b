"""Browser test of the payments flow: finance finds an overdue invoice on the ageing report, records the payment
and sees the invoice become paid; the client's portal administrator then sees it paid in the portal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_portal_user, make_staff
from tenfold.billing.models import Invoice
from tenfold.billing.tests.test_payments import make_client, make_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_records_a_payment_and_the_portal_admin_sees_the_invoice_paid(page: Page, live_server) -> None:
    # given an issued invoice of 1 440.00, 12 days overdue, of a client with a portal administrator
    client = make_client("Boulangerie Martin")
    today = timezone.localdate()
    invoice = make_invoice(client, "1440.00", number="F-2026-0421", issue_date=today - timedelta(days=42),
                           due_date=today - timedelta(days=12))
    portal_admin = make_portal_user(client, "portal_admin", mfa=True)
    browser_log_in(page, live_server.url, make_staff("finance", first_name="Nathalie"))

    # when finance opens the ageing report from the payments menu and follows the overdue invoice
    page.click("[data-nav=payments]")
    page.click("[data-testid=ageing-link]")
    expect(page.locator(f"[data-testid=ageing-client-{client.pk}] [data-bucket=days_1_30]")).to_have_text(
        "1,440.00\u00a0€")
    page.click(f"[data-testid=ageing-client-{client.pk}] summary")
    page.click("text=F-2026-0421")

    # and first types more than is due (the form says why), then the balance with the bank's reference
    page.fill("#id_amount", "1440.01")
    page.click("[data-testid=record-payment]")
    expect(page.locator(".field.has-error .error")).to_contain_text(
        "This payment of 1440.01 is more than the balance due on F-2026-0421 (1440.00)")
    page.fill("#id_amount", "1440.00")
    page.fill("#id_reference", "VIR-0421")
    page.click("[data-testid=record-payment]")

    # then the invoice is paid, nothing is left due, and the form gives way to the reason
    expect(page.locator("[data-testid=invoice-status]")).to_have_text("Paid")
    expect(page.locator("[data-testid=invoice-balance]")).to_have_text("0.00\u00a0€")
    expect(page.locator("[data-testid=not-payable]")).to_have_text("Invoice F-2026-0421 is already paid.")
    invoice.refresh_from_db()
    assert invoice.status == "paid"

    # when the client's portal administrator signs in and opens the invoices
    page.context.clear_cookies()
    browser_log_in(page, live_server.url, portal_admin)
    page.click("[data-nav=portal-invoices]")

    # then the invoice shows as paid, nothing is due
    row = page.locator(f"[data-testid=portal-invoice-{invoice.pk}]")
    expect(row.locator("[data-testid=status]")).to_have_text("Paid")
    expect(page.locator("[data-testid=portal-balance]")).to_have_text("Balance due: 0.00\u00a0€")
    assert Invoice.objects.get(pk=invoice.pk).amount_paid == invoice.total
