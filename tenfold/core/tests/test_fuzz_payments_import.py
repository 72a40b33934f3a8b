"""Generated payments files (`billing.payments`, the bank statement import): any bytes give a file-level error or
rows each with its action and reasons, never an exception; the preview says exactly what the import then does;
the import is all or nothing. The atheris target of the same parser is `fuzz/parsers.py payments`; its findings
stay here as regression tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from tenfold.accounts.testing import make_staff
from tenfold.billing import payments
from tenfold.billing.models import Invoice, Payment
from tenfold.billing.tests.test_payments import make_client, make_invoice
from tenfold.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db

NUMBERS = ("F-2026-0001", "F-2026-0002", "F-2026-0003", "AV-2026-0001", "F-2026-0004")


def make_books() -> Any:
    """Open, void, credit-note and partly paid invoices, and the finance user who imports."""
    client = make_client()
    make_invoice(client, "1200.00", number=NUMBERS[0])
    make_invoice(client, "300.00", number=NUMBERS[1])
    make_invoice(client, "80.00", number=NUMBERS[2], status="void")
    make_invoice(client, "80.00", number=NUMBERS[3], kind="credit_note")
    partly = make_invoice(client, "500.00", number=NUMBERS[4])
    finance = make_staff("finance")
    payments.payment_record(actor=finance, invoice=partly, data={
        "amount": Decimal("100.00"), "received_on": partly.issue_date, "reference": "VIR-OLD"})
    return finance


def written() -> tuple[Any, ...]:
    return (Payment.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count(),
            list(Invoice.objects.order_by("pk").values_list("status", "amount_paid")))


def outline(result: payments.ImportResult) -> tuple[Any, ...]:
    return result.error, [(row.line, row.action, row.errors, row.values) for row in result.rows]


def check_import(actor: Any, data: bytes) -> payments.ImportResult:
    """The property, in a transaction rolled back afterwards so that every example starts from the same books."""
    with transaction.atomic():
        before = written()
        preview = payments.payments_import_preview(actor=actor, file=data)
        assert written() == before and not preview.applied
        result = payments.payments_import_csv(actor=actor, file=data)
        assert outline(result) == outline(preview)
        if result.error:
            assert not result.rows and not result.applied and written() == before
            assert isinstance(result.error, str) and result.error
        else:
            lines = [row.line for row in result.rows]
            assert result.rows and len(result.rows) <= payments.MAX_ROWS and lines == sorted(set(lines))
            for row in result.rows:
                assert row.action in ("record", "skip", "error")
                assert bool(row.errors) == (row.action == "error"), (row.action, row.errors)
                assert all(messages and all(isinstance(m, str) and m for m in messages)
                           for messages in row.errors.values())
            if result.count("error"):
                assert not result.applied and not result.payments and written() == before
            else:
                assert result.applied and len(result.payments) == result.count("record")
                assert Payment.objects.count() == before[0] + result.count("record")
                for invoice in Invoice.objects.all():
                    assert invoice.amount_paid <= invoice.total
        transaction.set_rollback(True)
    return result


def books_actor() -> Any:
    """The finance user of `make_books`, which runs once per test (hypothesis runs many examples in one test)."""
    payment = Payment.objects.select_related("recorded_by").filter(reference="VIR-OLD").first()
    return payment.recorded_by if payment else make_books()


@given(st.binary(max_size=2048))
def test_any_bytes_give_a_file_error_or_rows_and_change_nothing_unless_all_are_good(data: bytes) -> None:
    check_import(books_actor(), data)


HEADERS = st.sampled_from([
    "invoice_number,date,amount,method,reference", "Invoice number;Date;Amount;Method;Reference",
    "invoice,received_on,amount,ref", "number,payment_date,amount,reference,method", "invoice_number,date,amount",
    "invoice_number,date,amount,reference,reference", "invoice_number,date,amount,reference,colour", ""])
CELLS = st.one_of(
    st.sampled_from([*NUMBERS, "F-2026-9999", "2026-01-15", "15/01/2026", "2099-01-01", "31/02/2026", "100",
                     "1 000,50", "1.234,56", "0,01", "400,00", "1e3", "-5", "0", "12345678901234567890123456789",
                     "1" * 40, "transfer", "cheque", "card", "Bank transfer", "bitcoin", "VIR-001", "VIR-OLD",
                     "", " ", '"', '"a,b"', "x" * 130]),
    st.text(max_size=20),
)


@given(header=HEADERS, rows=st.lists(st.lists(CELLS, min_size=0, max_size=6), max_size=8),
       separator=st.sampled_from([",", ";"]), bom=st.booleans(), crlf=st.booleans())
def test_any_payments_file_is_previewed_as_imported_and_imported_all_or_nothing(
        header: str, rows: list[list[str]], separator: str, bom: bool, crlf: bool) -> None:
    # given a file of the shape a bank or a spreadsheet writes, with any cells
    end = "\r\n" if crlf else "\n"
    text = end.join([header.replace(",", separator), *(separator.join(cells) for cells in rows)]) + end
    # when it is previewed and imported / then
    check_import(books_actor(), (("\ufeff" if bom else "") + text).encode())


def test_a_good_file_is_recorded_and_a_repeat_is_skipped() -> None:
    # given the books and a file paying two invoices
    finance = make_books()
    data = (b"invoice_number,date,amount,method,reference\nF-2026-0001,2026-01-15,1200,cheque,CHQ-1\n"
            b"F-2026-0004,2026-01-16,\"400,00\",,VIR-2\n")
    # when it is imported twice
    first = payments.payments_import_csv(actor=finance, file=data)
    second = payments.payments_import_csv(actor=finance, file=data)
    # then the first records both, the second skips both
    assert [(row.line, row.action) for row in first.rows] == [(2, "record"), (3, "record")]
    assert [(row.line, row.action) for row in second.rows] == [(2, "skip"), (3, "skip")]
    assert list(Invoice.objects.filter(number__in=["F-2026-0001", "F-2026-0004"]).order_by("number").values_list(
        "status", "amount_paid")) == [("paid", Decimal("1200.00")), ("paid", Decimal("500.00"))]


@pytest.mark.parametrize("text", ["12345678901234567890123456789", "1" * 27, "9" * 400 + ",5"])
def test_regression_an_amount_of_more_than_28_digits_is_too_large(text: str) -> None:
    """An amount too long for the decimal context is refused as too large (quantizing it raised
    InvalidOperation: a 500 on the import page and the API)."""
    assert payments.parse_amount(text) == (None, "This amount is too large.")


def test_regression_a_file_with_a_28_digit_amount_is_refused_row_by_row_and_writes_nothing() -> None:
    """The import names the row and the column of such an amount, and writes nothing."""
    # given the books
    finance = make_books()
    before = written()
    data = b"invoice_number,date,amount,reference\nF-2026-0001,2026-01-15,1111111111111111111111111111,R1\n"
    # when
    result = payments.payments_import_csv(actor=finance, file=data)
    # then
    assert result.errors_by_row() == {"row:2": ["amount: This amount is too large."]}
    assert not result.applied and written() == before
