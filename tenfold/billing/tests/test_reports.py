"""The ageing report on a fixed date (buckets, payments after the date ignored, totals) and the accounting CSV
exports (exact content, period filter, drafts left out), with their screens and API."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.billing import reports
from tenfold.billing.models import Invoice, Payment
from tenfold.billing.tests.test_payments import logged_in, make_client, make_invoice
from tenfold.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def pay(invoice: Invoice, amount: str, on: date) -> Payment:
    """A payment written directly, as the report reads it (the rules of recording are tested elsewhere)."""
    return Payment.objects.create(client=invoice.client, invoice=invoice, amount=Decimal(amount), received_on=on)


@pytest.fixture
def ledger() -> dict[str, object]:
    martin, perrin = make_client("Boulangerie Martin"), make_client("Garage Perrin")
    issue = date(2026, 1, 5)
    inv = {
        # Martin: one not yet due, one due on the day (not due), one 1 day late, one 30, one 31 late
        "not_due": make_invoice(martin, "100.00", number="M-1", issue_date=issue, due_date=date(2026, 7, 15)),
        "due_today": make_invoice(martin, "10.00", number="M-2", issue_date=issue, due_date=AS_OF),
        "late_1": make_invoice(martin, "200.00", number="M-3", issue_date=issue, due_date=date(2026, 6, 29)),
        "late_30": make_invoice(martin, "300.00", number="M-4", issue_date=issue, due_date=date(2026, 5, 31)),
        "late_31": make_invoice(martin, "400.00", number="M-5", issue_date=issue, due_date=date(2026, 5, 30),
                                status="partially_paid"),
        # Perrin: 60, 61, 90 and 91 days late; one paid before the date, one paid after it (still owed then)
        "late_60": make_invoice(perrin, "50.00", number="P-1", issue_date=issue, due_date=date(2026, 5, 1)),
        "late_61": make_invoice(perrin, "60.00", number="P-2", issue_date=issue, due_date=date(2026, 4, 30)),
        "late_90": make_invoice(perrin, "70.00", number="P-3", issue_date=issue, due_date=date(2026, 4, 1)),
        "late_91": make_invoice(perrin, "80.00", number="P-4", issue_date=issue, due_date=date(2026, 3, 31)),
        "paid_before": make_invoice(perrin, "90.00", number="P-5", issue_date=issue, due_date=date(2026, 2, 1),
                                    status="paid"),
        "paid_after": make_invoice(perrin, "25.00", number="P-6", issue_date=issue, due_date=date(2026, 6, 1),
                                   status="paid"),
        # Left out: a draft, a void invoice, a credit note, an invoice issued after the date
        "draft": make_invoice(perrin, "999.00", status="draft"),
        "void": make_invoice(perrin, "999.00", number="P-7", status="void", issue_date=issue),
        "credit": make_invoice(perrin, "999.00", number="AV-1", kind="credit_note", issue_date=issue),
        "later": make_invoice(perrin, "999.00", number="P-8", issue_date=date(2026, 7, 1)),
    }
    pay(inv["late_31"], "150.00", date(2026, 6, 10))
    pay(inv["paid_before"], "90.00", date(2026, 6, 1))
    pay(inv["paid_after"], "25.00", date(2026, 7, 2))
    return {"martin": martin, "perrin": perrin, **inv}


def test_ageing_puts_each_balance_in_its_bucket_on_a_fixed_date(ledger: dict[str, object]) -> None:
    report = reports.ageing(make_staff("finance"), AS_OF)
    rows = {row.client_name: row for row in report.clients}
    assert list(rows) == ["Boulangerie Martin", "Garage Perrin"]
    assert rows["Boulangerie Martin"].buckets == {
        "not_due": Decimal("110.00"), "days_1_30": Decimal("500.00"), "days_31_60": Decimal("250.00"),
        "days_61_90": Decimal("0.00"), "over_90": Decimal("0.00")}
    assert rows["Garage Perrin"].buckets == {
        "not_due": Decimal("0.00"), "days_1_30": Decimal("25.00"), "days_31_60": Decimal("50.00"),
        "days_61_90": Decimal("130.00"), "over_90": Decimal("80.00")}
    assert report.totals == {"not_due": Decimal("110.00"), "days_1_30": Decimal("525.00"),
                             "days_31_60": Decimal("300.00"), "days_61_90": Decimal("130.00"),
                             "over_90": Decimal("80.00")}
    assert (rows["Boulangerie Martin"].total, rows["Garage Perrin"].total, report.total) == (
        Decimal("860.00"), Decimal("285.00"), Decimal("1145.00"))
    assert [(i.invoice.number, i.days_past_due) for i in rows["Garage Perrin"].invoices] == [
        ("P-4", 91), ("P-3", 90), ("P-2", 61), ("P-1", 60), ("P-6", 29)]


def test_a_later_date_counts_the_payments_received_by_then(ledger: dict[str, object]) -> None:
    report = reports.ageing(make_staff("finance"), date(2026, 7, 5))
    perrin = next(row for row in report.clients if row.client_name == "Garage Perrin")
    # P-6 was paid on 2 July; P-8 (issued 1 July, due 31 July) is not due yet
    assert [i.invoice.number for i in perrin.invoices] == ["P-4", "P-3", "P-2", "P-1", "P-8"]
    assert perrin.buckets["not_due"] == Decimal("999.00")


@pytest.mark.parametrize(("days", "bucket"), [(-5, "not_due"), (0, "not_due"), (1, "days_1_30"),
                                              (30, "days_1_30"), (31, "days_31_60"), (60, "days_31_60"),
                                              (61, "days_61_90"), (90, "days_61_90"), (91, "over_90")])
def test_bucket_edges(days: int, bucket: str) -> None:
    assert reports.bucket_for(days) == bucket


def test_ageing_is_scoped_and_staff_only(ledger: dict[str, object]) -> None:
    restricted = make_staff("finance", clients=[ledger["martin"]], restricted=True)
    assert [row.client_name for row in reports.ageing(restricted, AS_OF).clients] == ["Boulangerie Martin"]
    with pytest.raises(PermissionDenied):
        reports.ageing(make_portal_user(ledger["martin"], "portal_admin"), AS_OF)
    with pytest.raises(PermissionDenied):
        reports.ageing(make_staff("technician"), AS_OF)


def test_the_ageing_page_and_its_csv(ledger: dict[str, object]) -> None:
    http = logged_in(make_staff("account_manager"))
    page = http.get("/billing/reports/ageing/?as_of=2026-06-30").content.decode()
    assert 'data-testid="total-all">1,145.00\u00a0€' in page
    download = http.get("/billing/reports/ageing/?as_of=2026-06-30&format=csv")
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download.content.decode().splitlines() == [
        "client,not_due,days_1_30,days_31_60,days_61_90,over_90,total",
        "Boulangerie Martin,110.00,500.00,250.00,0.00,0.00,860.00",
        "Garage Perrin,0.00,25.00,50.00,130.00,80.00,285.00",
        "TOTAL,110.00,525.00,300.00,130.00,80.00,1145.00"]
    api = http.get("/api/v1/billing-reports/ageing?as_of=2026-06-30").json()
    assert (api["total"], api["totals"]["over_90"], api["clients"][1]["invoices"][0]["number"]) == (
        "1145.00", "80.00", "P-4")
    bad = http.get("/billing/reports/ageing/?as_of=not-a-date")
    assert bad.status_code == 422


# --- Exports --------------------------------------------------------------------------------------------------


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def test_the_invoice_export_has_one_row_per_issued_document_in_the_period() -> None:
    client = make_client("Café «Le Zinc»")
    invoice = make_invoice(client, "120.00", number="F-1", issue_date=date(2026, 3, 1), due_date=date(2026, 3, 31),
                           lines=[{"kind": "recurring", "description": "Supervision, postes", "quantity":
                                   Decimal("4.00"), "unit_price": Decimal("25.00"), "amount": Decimal("100.00")}])
    pay(invoice, "20.00", date(2026, 3, 10))
    invoice.amount_paid, invoice.status = Decimal("20.00"), "partially_paid"
    invoice.save()
    make_invoice(client, "120.00", number="AV-1", kind="credit_note", issue_date=date(2026, 3, 20),
                 credited_invoice=invoice)
    make_invoice(client, "50.00", status="draft")
    make_invoice(client, "50.00", number="F-0", issue_date=date(2026, 2, 28))
    finance = make_staff("finance")
    rows = _rows(reports.invoices_csv(finance, date(2026, 3, 1), date(2026, 3, 31)))
    assert [tuple(r.values()) for r in rows] == [
        ("F-1", "invoice", "partially_paid", "Café «Le Zinc»", str(client.pk), "2026-03-01", "2026-03-31", "", "",
         "EUR", "100.00", "20.00", "120.00", "20.00", "100.00", ""),
        ("AV-1", "credit_note", "issued", "Café «Le Zinc»", str(client.pk), "2026-03-20", "2026-04-19", "", "",
         "EUR", "100.00", "20.00", "120.00", "0.00", "0.00", "F-1")]
    lines = _rows(reports.invoice_lines_csv(finance, date(2026, 3, 1), date(2026, 3, 31)))
    assert [tuple(r.values()) for r in lines] == [
        ("F-1", "invoice", "2026-03-01", "Café «Le Zinc»", str(client.pk), "0", "recurring", "Supervision, postes",
         "", "", "", "", "4.00", "25.00", "", "", "100.00", "20.000")]
    assert len(_rows(reports.invoices_csv(finance))) == 3


def test_the_export_downloads_and_refuses_a_reversed_period() -> None:
    client = make_client()
    make_invoice(client, "12.00", number="F-9", issue_date=date(2026, 3, 1))
    http = logged_in(make_staff("finance"))
    response = http.get("/billing/exports/invoices.csv?start=2026-03-01&end=2026-03-31")
    assert response["Content-Disposition"] == 'attachment; filename="invoices-2026-03-01-2026-03-31.csv"'
    assert response.content.decode().splitlines()[0] == ",".join(reports.INVOICE_COLUMNS)
    assert response.content.decode().splitlines()[1].startswith("F-9,invoice,issued,")
    reversed_period = http.get("/billing/exports/invoices.csv?start=2026-03-31&end=2026-03-01")
    assert reversed_period.status_code == 422 and "The period ends before it starts." in (
        reversed_period.content.decode())
    api = http.get("/api/v1/billing-exports/invoice-lines.csv?start=2026-03-31&end=2026-03-01")
    assert api.status_code == 422
    assert http.get("/api/v1/billing-exports/invoices.csv").content.decode().count("F-9") == 1
    page = http.get("/billing/exports/?start=2026-03-01&end=2026-03-31").content.decode()
    assert "1 document in this period." in page


def test_a_portal_admin_cannot_export_nor_see_the_ledger() -> None:
    client = make_client()
    make_invoice(client, "12.00", number="F-9")
    http = logged_in(make_portal_user(client, "portal_admin"))
    assert http.get("/billing/exports/invoices.csv").status_code == 403
    assert http.get("/api/v1/billing-exports/invoices.csv").status_code == 403
    assert http.get("/api/v1/billing-reports/ageing").status_code == 403
