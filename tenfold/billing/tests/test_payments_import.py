"""The payments CSV import: good files (comma or semicolon, decimal comma, BOM), idempotent by reference, and bad
files refused as a whole or row by row with exact messages, nothing written."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.billing import payments
from tenfold.billing.models import Invoice, Payment
from tenfold.billing.tests.test_payments import logged_in, make_client, make_invoice
from tenfold.core.errors import PermissionDenied
from tenfold.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db

HEADER = "invoice_number,date,amount,method,reference\n"


def written() -> tuple[int, int, int, list[tuple[str, Decimal]]]:
    return (Payment.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count(),
            list(Invoice.objects.order_by("pk").values_list("status", "amount_paid")))


@pytest.fixture
def books() -> dict[str, Invoice]:
    client = make_client()
    return {"a": make_invoice(client, "1200.00", number="F-2026-0001"),
            "b": make_invoice(client, "300.00", number="F-2026-0002"),
            "void": make_invoice(client, "80.00", number="F-2026-0003", status="void"),
            "credit": make_invoice(client, "80.00", number="AV-2026-0001", kind="credit_note")}


def test_a_semicolon_file_with_decimal_commas_and_a_bom_is_imported(books: dict[str, Invoice]) -> None:
    # given a spreadsheet export: BOM, semicolons, decimal commas, French dates, labels in any case
    finance = make_staff("finance")
    content = ("\ufeffInvoice number;Date;Amount;Method;Reference\n"
               "F-2026-0001;15/01/2026;1 000,50;Bank transfer;VIR-001\n"
               "F-2026-0002;2026-01-16;300;cheque;CHQ-002\n"
               "F-2026-0001;2026-01-20;199,50;;VIR-003\n").encode("utf-8")
    # when it is imported
    result = payments.payments_import_csv(actor=finance, file=content)
    # then three payments are recorded, marked imported, and the invoices are paid
    assert result.applied and result.count("record") == 3 and result.total == Decimal("1500.00")
    a, b = Invoice.objects.get(number="F-2026-0001"), Invoice.objects.get(number="F-2026-0002")
    assert (a.status, a.amount_paid) == ("paid", Decimal("1200.00"))
    assert (b.status, b.amount_paid) == ("paid", Decimal("300.00"))
    assert list(Payment.objects.order_by("reference").values_list("reference", "amount", "method", "imported")) == [
        ("CHQ-002", Decimal("300.00"), "cheque", True), ("VIR-001", Decimal("1000.50"), "transfer", True),
        ("VIR-003", Decimal("199.50"), "transfer", True)]
    assert OutboxEvent.objects.filter(name="payment.recorded").count() == 3
    assert OutboxEvent.objects.filter(name="invoice.paid").count() == 2
    assert AuditEntry.objects.get(action="payments.imported").changes == {
        "rows": 3, "recorded": 3, "skipped": 0, "total": "1500.00"}


def test_importing_the_same_file_twice_records_nothing_the_second_time(books: dict[str, Invoice]) -> None:
    finance = make_staff("finance")
    content = (HEADER + "F-2026-0001,2026-01-15,500.00,transfer,VIR-9\nF-2026-0002,2026-01-15,100,transfer,VIR-9\n"
               ).encode()
    payments.payments_import_csv(actor=finance, file=content)
    before = written()
    again = payments.payments_import_csv(actor=finance, file=content)
    assert again.applied and (again.count("record"), again.count("skip")) == (0, 2)
    assert [row.note for row in again.rows] == ["Already recorded.", "Already recorded."]
    assert written() == before


@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty."),
    (b"invoice_number,date,amount,reference\n", "The file has a header but no rows."),
    (b"invoice,when,amount,reference\nF-2026-0001,2026-01-01,1,R\n",
     "Unknown columns: when. The columns are: invoice_number, date, amount, method, reference."),
    (b"invoice_number,amount,reference\nF-2026-0001,1,R\n",
     "The first row must name the columns; missing: date. The columns are: invoice_number, date, amount, method, "
     "reference."),
    (b"invoice_number,date,amount,amount,reference\nF-2026-0001,2026-01-01,1,1,R\n",
     "These columns appear twice: amount."),
    ("invoice_number;date;amount;reference\nF-2026-0001;2026-01-01;1;Société\n".encode("latin-1"),
     "The file is not UTF-8 text: save it as “CSV UTF-8” and try again."),
    (b"invoice_number,date\x00", "This is not a CSV text file."),
    (b"x" * (payments.MAX_BYTES + 1), "The file is larger than 1 MiB: split it into smaller files."),
])
def test_a_wrong_file_is_refused_as_a_whole(books: dict[str, Invoice], content: bytes, message: str) -> None:
    finance = make_staff("finance")
    before = written()
    result = payments.payments_import_csv(actor=finance, file=content)
    assert (result.applied, result.error, result.rows) == (False, message, [])
    assert written() == before


def test_every_wrong_row_is_named_and_nothing_is_imported(books: dict[str, Invoice]) -> None:
    # given a file whose first row is right and every other row is wrong in one way
    finance = make_staff("finance")
    make_invoice(books["a"].client, "40.00", number="F-2026-0009")
    payments.payment_record(actor=finance, invoice=Invoice.objects.get(number="F-2026-0009"), data={
        "amount": Decimal("10.00"), "received_on": timezone.localdate(), "method": "transfer", "reference": "OLD-1"})
    future = (timezone.localdate().replace(year=timezone.localdate().year + 1)).isoformat()
    content = (HEADER +
               "F-2026-0001,2026-01-15,100.00,transfer,OK-1\n"       # 2: right
               "F-9999-0001,2026-01-15,10.00,transfer,R-3\n"         # 3: unknown invoice
               "F-2026-0002,2026-01-15,-5,transfer,R-4\n"            # 4: negative
               "F-2026-0002,2026-01-15,0,transfer,R-5\n"             # 5: zero
               "F-2026-0002,31/02/2026,5,transfer,R-6\n"             # 6: no such day
               "F-2026-0002,2026-01-15,5,paypal,R-7\n"               # 7: unknown method
               "F-2026-0002,2026-01-15,5,transfer,\n"                # 8: no reference
               "F-2026-0003,2026-01-15,5,transfer,R-9\n"             # 9: void invoice
               "AV-2026-0001,2026-01-15,5,transfer,R-10\n"           # 10: credit note
               "F-2026-0001,2026-01-15,100.00,transfer,OK-1\n"       # 11: same reference again in the file
               "F-2026-0002,2026-01-15,200.00,transfer,R-12\n"       # 12: right (300 due)
               "F-2026-0002,2026-01-15,100.01,transfer,R-13\n"       # 13: 100.00 left after row 12
               f"F-2026-0002,{future},1.00,transfer,R-14\n"          # 14: in the future
               "F-2026-0009,2026-01-15,9.00,transfer,OLD-1\n"        # 15: reference recorded with another amount
               "F-2026-0002,2026-01-15,12.345,transfer,R-16\n"       # 16: three decimals
               "F-2026-0002,2026-01-15,douze,transfer,R-17\n"        # 17: not an amount
               "F-2026-0002,2026-01-15,5,transfer,R-18,extra\n"      # 18: a cell too many
               ).encode()
    before = written()
    # when it is imported
    result = payments.payments_import_csv(actor=finance, file=content)
    # then nothing is written and each wrong row says why
    assert not result.applied and written() == before
    errors = result.errors_by_row()
    assert errors == {
        "row:3": ["invoice_number: No invoice numbered “F-9999-0001”."],
        "row:4": ["amount: The amount must be more than zero."],
        "row:5": ["amount: The amount must be more than zero."],
        "row:6": ["date: “31/02/2026” is not a date: write 2026-03-31 or 31/03/2026."],
        "row:7": ["method: Unknown method “paypal”: use one of transfer, direct_debit, card, cheque, cash, other."],
        "row:8": ["reference: The reference is required: it makes a second import of the same file harmless."],
        "row:9": ["invoice_number: Invoice F-2026-0003 is void: it cannot be paid."],
        "row:10": ["invoice_number: AV-2026-0001 is a credit note: payments are recorded on invoices."],
        "row:11": ["reference: Row 2 already pays F-2026-0001 with this reference."],
        "row:13": ["amount: This payment of 100.01 is more than the balance due on F-2026-0002 (100.00): "
                   "overpayments are not recorded."],
        "row:14": ["date: A payment cannot be received in the future."],
        "row:15": [f"reference: Reference “OLD-1” is already recorded for F-2026-0009 with 10.00 on "
                   f"{timezone.localdate().isoformat()}: this row differs."],
        "row:16": ["amount: An amount has at most two decimal places."],
        "row:17": ["amount: “douze” is not an amount: write 1234.50 or 1234,50."],
        "row:18": ["This row has 6 cells but the header names 5 columns."],
    }
    assert [row.action for row in result.rows if row.line in (2, 12)] == ["record", "record"]


def test_another_clients_invoice_is_unknown_to_a_restricted_user(books: dict[str, Invoice]) -> None:
    mine = make_client("Mine")
    finance = make_staff("finance", clients=[mine], restricted=True)
    result = payments.payments_import_csv(actor=finance, file=(HEADER + "F-2026-0001,2026-01-15,1,transfer,R\n"
                                                               ).encode())
    assert result.errors_by_row() == {"row:2": ["invoice_number: No invoice numbered “F-2026-0001”."]}
    assert Payment.objects.count() == 0


def test_a_role_that_only_reads_cannot_import(books: dict[str, Invoice]) -> None:
    with pytest.raises(PermissionDenied):
        payments.payments_import_csv(actor=make_staff("account_manager"),
                                     file=(HEADER + "F-2026-0001,2026-01-15,1,transfer,R\n").encode())
    assert Payment.objects.count() == 0


@pytest.mark.parametrize(("text", "amount"), [
    ("1234.50", "1234.50"), ("1234,50", "1234.50"), ("1 234,50", "1234.50"), ("1\u00a0234,5", "1234.50"),
    ("1,234.50", "1234.50"), ("1.234,50", "1234.50"), ("12 €", "12.00"), ("0,01", "0.01"),
])
def test_amounts_are_read_with_either_decimal_mark(text: str, amount: str) -> None:
    assert payments.parse_amount(text) == (Decimal(amount), "")


@pytest.mark.parametrize("text", ["-1", "−1", "1.2.3", "abc", "1e3", "0", "1,234,567"])
def test_what_is_not_a_positive_amount_is_refused(text: str) -> None:
    amount, message = payments.parse_amount(text)
    assert amount is None and message


# --- Screens and API ----------------------------------------------------------------------------------------


def test_the_import_page_previews_then_confirms(books: dict[str, Invoice]) -> None:
    http = logged_in(make_staff("finance"))
    content = (HEADER + "F-2026-0002,2026-01-15,300.00,transfer,VIR-1\n").encode()
    assert 'name="file"' in http.get("/billing/payments/import/").content.decode()
    preview = http.post("/billing/payments/import/", {"file": SimpleUploadedFile("p.csv", content, "text/csv")})
    page = preview.content.decode()
    assert preview.status_code == 200 and 'data-testid="confirm-import"' in page
    assert Payment.objects.count() == 0
    pending = page.split('name="pending" value="')[1].split('"')[0]
    done = http.post("/billing/payments/import/", {"pending": pending}, follow=True)
    assert "Import done: 1 payments recorded, 0 already recorded." in done.content.decode()
    assert Invoice.objects.get(number="F-2026-0002").status == "paid"


def test_the_import_page_shows_row_errors_and_writes_nothing(books: dict[str, Invoice]) -> None:
    http = logged_in(make_staff("finance"))
    content = (HEADER + "F-2026-0002,2026-01-15,300.00,transfer,VIR-1\nNOPE,2026-01-15,1,transfer,X\n").encode()
    response = http.post("/billing/payments/import/", {"file": SimpleUploadedFile("p.csv", content, "text/csv")})
    page = response.content.decode()
    assert response.status_code == 422
    assert "No invoice numbered “NOPE”." in page and 'data-testid="confirm-import"' not in page
    wrong = http.post("/billing/payments/import/", {"file": SimpleUploadedFile("p.csv", b"a,b\n1,2\n", "text/csv")})
    assert wrong.status_code == 422 and "Unknown columns: a, b." in wrong.content.decode()
    assert Payment.objects.count() == 0


def test_the_api_previews_and_a_confirmed_wrong_file_is_a_422_naming_rows(books: dict[str, Invoice]) -> None:
    http = logged_in(make_staff("finance"))
    good = base64.b64encode((HEADER + "F-2026-0002,2026-01-15,100,transfer,VIR-1\n").encode()).decode()
    bad = base64.b64encode((HEADER + "F-2026-0002,2026-01-15,100,transfer,VIR-1\nF-2026-0002,2026-01-15,201,"
                                     "transfer,VIR-2\n").encode()).decode()
    preview = http.post("/api/v1/payments/import", {"content_base64": good}, content_type="application/json").json()
    assert (preview["confirmed"], preview["recorded"], preview["total"]) == (False, 1, "100.00")
    assert Payment.objects.count() == 0
    refused = http.post("/api/v1/payments/import", {"content_base64": bad, "confirm": True},
                        content_type="application/json")
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"row:3": [
        "amount: This payment of 201.00 is more than the balance due on F-2026-0002 (200.00): overpayments are not "
        "recorded."]}
    assert Payment.objects.count() == 0
    not_base64 = http.post("/api/v1/payments/import", {"content_base64": "%%%", "confirm": True},
                           content_type="application/json")
    assert not_base64.status_code == 422
    done = http.post("/api/v1/payments/import", {"content_base64": good, "confirm": True},
                     content_type="application/json").json()
    assert (done["confirmed"], done["recorded"]) == (True, 1)
    assert Invoice.objects.get(number="F-2026-0002").amount_paid == Decimal("100.00")
