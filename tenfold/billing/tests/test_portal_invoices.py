"""The portal's invoices: a portal administrator sees the company's issued invoices and credit notes (never a
draft, never another company's: 404), their lines, payments and PDF; a portal user has none (403)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.billing import payments
from tenfold.billing.tests.test_payments import logged_in, make_client, make_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def books() -> dict[str, Any]:
    mine, other = make_client("Boulangerie Martin"), make_client("Garage Perrin")
    today = timezone.localdate()
    late = make_invoice(mine, "120.00", number="F-MINE-1", issue_date=today - timedelta(days=45),
                        due_date=today - timedelta(days=15), lines=[
                            {"kind": "recurring", "description": "Workstation monitoring", "quantity": Decimal("4"),
                             "unit_price": Decimal("25.00"), "amount": Decimal("100.00")}])
    payments.payment_record(actor=make_staff("finance"), invoice=late, data={
        "amount": Decimal("20.00"), "received_on": today, "method": "card", "reference": "CB-7", "notes": ""})
    return {"mine": mine, "other": other, "late": late,
            "draft": make_invoice(mine, "55.00", status="draft", notes="DRAFT-SECRET"),
            "credit": make_invoice(mine, "30.00", number="AV-MINE-1", kind="credit_note"),
            "foreign": make_invoice(other, "77.00", number="F-OTHER-1")}


def test_a_portal_admin_sees_the_companys_issued_invoices_only(books: dict[str, Any]) -> None:
    http = logged_in(make_portal_user(books["mine"], "portal_admin"))
    page = http.get("/portal/invoices/").content.decode()
    assert "F-MINE-1" in page and "AV-MINE-1" in page
    assert "F-OTHER-1" not in page and f"/portal/invoices/{books['draft'].pk}/" not in page
    assert 'data-testid="portal-balance">Balance due: 100.00\u00a0€' in page
    assert "Overdue" in page


def test_the_detail_shows_lines_payments_and_the_balance(books: dict[str, Any]) -> None:
    http = logged_in(make_portal_user(books["mine"], "portal_admin"))
    page = http.get(f"/portal/invoices/{books['late'].pk}/").content.decode()
    assert "Workstation monitoring" in page
    assert 'data-testid="invoice-status">Partially paid' in page
    assert 'data-testid="invoice-paid">20.00\u00a0€' in page and 'data-testid="invoice-balance">100.00\u00a0€' in page


def test_another_companys_invoice_and_a_draft_are_404(books: dict[str, Any]) -> None:
    http = logged_in(make_portal_user(books["mine"], "portal_admin"))
    for invoice in (books["foreign"], books["draft"]):
        assert http.get(f"/portal/invoices/{invoice.pk}/").status_code == 404
        assert http.get(f"/portal/invoices/{invoice.pk}/pdf/").status_code == 404


def test_a_portal_user_has_no_invoices(books: dict[str, Any]) -> None:
    http = logged_in(make_portal_user(books["mine"], "portal_user"))
    assert http.get("/portal/invoices/").status_code == 403
    assert http.get(f"/portal/invoices/{books['late'].pk}/").status_code == 403
    assert "/portal/invoices/" not in http.get("/portal/").content.decode()


def test_the_portal_admin_has_the_navigation_entry_and_downloads_the_pdf(books: dict[str, Any]) -> None:
    http = logged_in(make_portal_user(books["mine"], "portal_admin"))
    assert 'data-nav="portal-invoices"' in http.get("/portal/").content.decode()
    response = http.get(f"/portal/invoices/{books['late'].pk}/pdf/")
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == 'attachment; filename="F-MINE-1.pdf"'


def test_staff_use_the_staff_pages_not_the_portal(books: dict[str, Any]) -> None:
    assert logged_in(make_staff("finance")).get("/portal/invoices/").status_code == 403
