"""Payments recorded by hand: exact amounts, the invoice's status issued ↔ partially paid ↔ paid, refusals that
change nothing (zero, negative, overpayment, draft, void, credit note, paid, future date, duplicate reference,
role without the right, another client's invoice), and the payment screens."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.billing import payments
from tenfold.billing.models import Invoice, InvoiceLine, Payment
from tenfold.clients.models import Client
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db

_numbers = iter(range(1, 100000))


def make_client(name: str = "Boulangerie Martin") -> Client:
    return Client.objects.create(name=name, status="active")


def make_invoice(client: Client, total: str = "1200.00", *, status: str = "issued", kind: str = "invoice",
                 number: str | None = None, issue_date: date | None = None, due_date: date | None = None,
                 contract: Any = None, lines: list[dict[str, Any]] | None = None, **fields: Any) -> Invoice:
    """An invoice written directly (the billing run and issuing have their own tests); `total` is tax included,
    the subtotal is total / 1.2 when no lines are given."""
    amount = Decimal(total)
    issue = issue_date or timezone.localdate() - timedelta(days=10)
    if number is None:
        number = "" if status == "draft" else f"F-T-{next(_numbers):05d}"
    invoice = Invoice.objects.create(
        client=client, kind=kind, status=status, number=number, issue_date=None if status == "draft" else issue,
        due_date=due_date or issue + timedelta(days=30), total=amount,
        subtotal=(amount / Decimal("1.2")).quantize(Decimal("0.01")),
        tax_total=amount - (amount / Decimal("1.2")).quantize(Decimal("0.01")), **fields)
    for position, line in enumerate(lines or []):
        InvoiceLine.objects.create(client=client, invoice=invoice, position=position,
                                   **{"contract": contract, "tax_rate": Decimal("20.000"), **line})
    return invoice


def logged_in(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def data(amount: str, *, days_ago: int = 0, reference: str = "", method: str = "transfer") -> dict[str, Any]:
    return {"amount": Decimal(amount), "received_on": timezone.localdate() - timedelta(days=days_ago),
            "method": method, "reference": reference, "notes": ""}


def state(invoice: Invoice) -> tuple[Any, ...]:
    invoice.refresh_from_db()
    return (invoice.status, invoice.amount_paid, Payment.objects.count(), AuditEntry.objects.count(),
            OutboxEvent.objects.count())


def test_a_partial_then_a_final_payment_make_the_invoice_partially_paid_then_paid() -> None:
    # given an issued invoice of 1 200.00 and a finance user
    finance = make_staff("finance")
    invoice = make_invoice(make_client())
    # when 450.25 is received
    payments.payment_record(actor=finance, invoice=invoice, data=data("450.25", days_ago=3, reference="VIR-1"))
    invoice.refresh_from_db()
    # then the invoice is partially paid with 749.75 still due
    assert (invoice.status, invoice.amount_paid, invoice.balance) == ("partially_paid", Decimal("450.25"),
                                                                      Decimal("749.75"))
    # when the rest arrives
    payment = payments.payment_record(actor=finance, invoice=invoice, data=data("749.75", reference="VIR-2"))
    invoice.refresh_from_db()
    # then it is paid, once, and each step was audited and emitted
    assert (invoice.status, invoice.amount_paid, invoice.balance) == ("paid", Decimal("1200.00"), Decimal("0.00"))
    assert payment.recorded_by == finance and not payment.imported
    assert list(OutboxEvent.objects.order_by("pk").values_list("name", flat=True)) == [
        "payment.recorded", "invoice.paid", "payment.recorded"]
    paid_event = OutboxEvent.objects.get(name="invoice.paid")
    assert paid_event.payload == {"invoice_id": invoice.pk, "client_id": invoice.client_id, "number": invoice.number,
                                  "total": "1200.00"}
    assert sorted(AuditEntry.objects.values_list("action", flat=True)) == [
        "invoice.paid", "payment.recorded", "payment.recorded"]
    audit = AuditEntry.objects.filter(action="payment.recorded").order_by("pk").last()
    assert audit is not None and audit.changes["invoice_status"] == ["partially_paid", "paid"]


def test_removing_payments_moves_the_status_back() -> None:
    admin = make_staff("admin")
    invoice = make_invoice(make_client(), "300.00")
    first = payments.payment_record(actor=admin, invoice=invoice, data=data("100.00", reference="A"))
    second = payments.payment_record(actor=admin, invoice=invoice, data=data("200.00", reference="B"))
    # when the second payment is removed
    back = payments.payment_delete(actor=admin, payment=second)
    # then the invoice is partially paid again with 100.00 paid
    assert (back.status, back.amount_paid) == ("partially_paid", Decimal("100.00"))
    # and removing the first makes it issued, with nothing paid
    payments.payment_delete(actor=admin, payment=first)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("issued", Decimal("0.00"))
    assert OutboxEvent.objects.filter(name="payment.deleted").count() == 2
    assert AuditEntry.objects.filter(action="payment.deleted").count() == 2


def test_an_overpayment_is_refused_with_the_balance_and_nothing_changes() -> None:
    finance = make_staff("finance")
    invoice = make_invoice(make_client(), "1200.00", number="F-2026-0007")
    payments.payment_record(actor=finance, invoice=invoice, data=data("200.00"))
    before = state(invoice)
    with pytest.raises(ValidationError) as caught:
        payments.payment_record(actor=finance, invoice=invoice, data=data("1000.01"))
    assert caught.value.errors == {"amount": [
        "This payment of 1000.01 is more than the balance due on F-2026-0007 (1000.00): overpayments are not "
        "recorded."]}
    assert state(invoice) == before


@pytest.mark.parametrize(("amount", "message"), [
    ("0", "The amount must be more than zero."),
    ("0.00", "The amount must be more than zero."),
    ("-10.00", "The amount must be more than zero."),
    ("10.005", "An amount has at most two decimal places."),
])
def test_zero_negative_or_fractional_cent_amounts_are_refused(amount: str, message: str) -> None:
    finance = make_staff("finance")
    invoice = make_invoice(make_client())
    before = state(invoice)
    with pytest.raises(ValidationError) as caught:
        payments.payment_record(actor=finance, invoice=invoice, data=data(amount))
    assert caught.value.errors == {"amount": [message]}
    assert state(invoice) == before


@pytest.mark.parametrize(("status", "kind", "message"), [
    ("draft", "invoice", "This invoice is a draft: issue it before recording a payment."),
    ("void", "invoice", "Invoice F-X is void: it cannot be paid."),
    ("paid", "invoice", "Invoice F-X is already paid."),
    ("issued", "credit_note", "F-X is a credit note: payments are recorded on invoices."),
])
def test_no_payment_on_a_draft_void_paid_invoice_or_a_credit_note(status: str, kind: str, message: str) -> None:
    finance = make_staff("finance")
    invoice = make_invoice(make_client(), status=status, kind=kind, number="" if status == "draft" else "F-X")
    before = state(invoice)
    with pytest.raises(Conflict) as caught:
        payments.payment_record(actor=finance, invoice=invoice, data=data("10.00"))
    assert str(caught.value.message) == message
    assert state(invoice) == before


def test_a_date_in_the_future_and_a_duplicate_reference_are_refused() -> None:
    finance = make_staff("finance")
    invoice = make_invoice(make_client())
    payments.payment_record(actor=finance, invoice=invoice, data=data("10.00", reference="VIR-77"))
    before = state(invoice)
    with pytest.raises(ValidationError) as future:
        payments.payment_record(actor=finance, invoice=invoice, data=data("10.00", days_ago=-1))
    with pytest.raises(ValidationError) as twice:
        payments.payment_record(actor=finance, invoice=invoice, data=data("10.00", reference="VIR-77"))
    assert future.value.errors == {"received_on": ["A payment cannot be received in the future."]}
    assert twice.value.errors == {"reference": ["A payment with this reference is already recorded for this "
                                                "invoice."]}
    assert state(invoice) == before


def test_the_same_reference_may_pay_two_invoices() -> None:
    finance = make_staff("finance")
    client = make_client()
    one, two = make_invoice(client, "100.00"), make_invoice(client, "50.00")
    payments.payment_record(actor=finance, invoice=one, data=data("100.00", reference="BATCH-1"))
    payments.payment_record(actor=finance, invoice=two, data=data("50.00", reference="BATCH-1"))
    assert sorted(Invoice.objects.values_list("status", flat=True)) == ["paid", "paid"]


def test_an_account_manager_reads_but_cannot_record_or_remove() -> None:
    manager, finance = make_staff("account_manager"), make_staff("finance")
    invoice = make_invoice(make_client())
    payment = payments.payment_record(actor=finance, invoice=invoice, data=data("10.00"))
    before = state(invoice)
    with pytest.raises(PermissionDenied):
        payments.payment_record(actor=manager, invoice=invoice, data=data("10.00"))
    with pytest.raises(PermissionDenied):
        payments.payment_delete(actor=manager, payment=payment)
    assert state(invoice) == before
    assert list(payments.payments_visible(manager)) == [payment]


def test_a_restricted_finance_user_cannot_reach_another_clients_invoice_or_payment() -> None:
    mine, other = make_client("Mine"), make_client("Other")
    finance = make_staff("finance", clients=[mine], restricted=True)
    foreign = make_invoice(other)
    foreign_payment = payments.payment_record(actor=make_staff("admin"), invoice=foreign, data=data("5.00"))
    with pytest.raises(NotFound):
        payments.access_invoice(finance, foreign.pk)
    with pytest.raises(NotFound):
        payments.access_payment(finance, foreign_payment.pk)
    assert list(payments.payments_visible(finance)) == []


def test_a_portal_admin_never_fetches_a_draft() -> None:
    client = make_client()
    draft = make_invoice(client, status="draft")
    issued = make_invoice(client)
    admin = make_portal_user(client, "portal_admin")
    assert payments.access_invoice(admin, issued.pk) == issued
    with pytest.raises(NotFound):
        payments.access_invoice(admin, draft.pk)


# --- Screens ------------------------------------------------------------------------------------------------


def test_the_form_records_a_payment_and_shows_the_new_status() -> None:
    finance = make_staff("finance")
    invoice = make_invoice(make_client(), "240.00")
    http = logged_in(finance)
    response = http.post(f"/billing/invoices/{invoice.pk}/payments/new/", {
        "received_on": timezone.localdate().isoformat(), "amount": "240.00", "method": "card", "reference": "CB-1"},
        follow=True)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("paid", Decimal("240.00"))
    assert f"Payment recorded: {invoice.number} is now paid." in response.content.decode()


def test_the_form_shows_a_negative_amount_and_an_overpayment_beside_the_field() -> None:
    finance = make_staff("finance")
    invoice = make_invoice(make_client(), "240.00", number="F-2026-0100")
    http = logged_in(finance)
    url = f"/billing/invoices/{invoice.pk}/payments/new/"
    today = timezone.localdate().isoformat()
    negative = http.post(url, {"received_on": today, "amount": "-5", "method": "transfer"})
    too_much = http.post(url, {"received_on": today, "amount": "240.01", "method": "transfer"})
    assert negative.status_code == 422 and "The amount must be more than zero." in negative.content.decode()
    assert too_much.status_code == 422
    assert ("This payment of 240.01 is more than the balance due on F-2026-0100 (240.00)"
            in too_much.content.decode())
    assert Payment.objects.count() == 0


def test_the_form_says_why_a_void_invoice_cannot_be_paid() -> None:
    invoice = make_invoice(make_client(), status="void", number="F-V")
    http = logged_in(make_staff("finance"))
    page = http.get(f"/billing/invoices/{invoice.pk}/payments/new/").content.decode()
    refused = http.post(f"/billing/invoices/{invoice.pk}/payments/new/", {
        "received_on": timezone.localdate().isoformat(), "amount": "5", "method": "transfer"})
    assert "Invoice F-V is void: it cannot be paid." in page
    assert refused.status_code == 422 and "Invoice F-V is void: it cannot be paid." in refused.content.decode()
    assert Payment.objects.count() == 0


def test_another_clients_invoice_is_a_404_on_the_form_and_the_api() -> None:
    mine, other = make_client("Mine"), make_client("Other")
    finance = make_staff("finance", clients=[mine], restricted=True)
    foreign = make_invoice(other)
    http = logged_in(finance)
    page = http.post(f"/billing/invoices/{foreign.pk}/payments/new/", {
        "received_on": timezone.localdate().isoformat(), "amount": "5", "method": "transfer"})
    api = http.post("/api/v1/payments", {"invoice_id": foreign.pk, "received_on": timezone.localdate().isoformat(),
                                         "amount": "5.00"}, content_type="application/json")
    assert (page.status_code, api.status_code) == (404, 404)
    assert api.json()["code"] == "not_found"
    assert Payment.objects.count() == 0


def test_the_payments_list_searches_filters_and_sorts() -> None:
    finance = make_staff("finance")
    client = make_client("Garage Perrin")
    one, two = make_invoice(client, "100.00"), make_invoice(client, "200.00")
    payments.payment_record(actor=finance, invoice=one, data=data("100.00", reference="VIR-ALPHA", days_ago=2))
    payments.payment_record(actor=finance, invoice=two, data=data("50.00", reference="CHQ-BETA", method="cheque"))
    http = logged_in(finance)
    found = http.get("/billing/payments/?q=alpha").content.decode()
    cheques = http.get("/billing/payments/?method=cheque").content.decode()
    by_amount = http.get("/billing/payments/?sort=amount").content.decode()
    assert "VIR-ALPHA" in found and "CHQ-BETA" not in found
    assert "CHQ-BETA" in cheques and "VIR-ALPHA" not in cheques
    assert by_amount.index("CHQ-BETA") < by_amount.index("VIR-ALPHA")


def test_the_api_records_lists_and_removes_a_payment() -> None:
    admin = make_staff("admin")
    invoice = make_invoice(make_client(), "99.99")
    http = logged_in(admin)
    created = http.post("/api/v1/payments", {"invoice_id": invoice.pk, "received_on": "2026-01-05",
                                             "amount": "99.99", "method": "direct_debit", "reference": "SEPA-9"},
                        content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["amount"], body["invoice_number"], body["method"]) == ("99.99", invoice.number, "direct_debit")
    listed = http.get("/api/v1/payments?q=SEPA").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert http.delete(f"/api/v1/payments/{body['id']}").status_code == 204
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("issued", Decimal("0.00"))


def test_the_api_refuses_bad_input_with_clear_messages() -> None:
    http = logged_in(make_staff("finance"))
    invoice = make_invoice(make_client(), "50.00", number="F-API")
    negative = http.post("/api/v1/payments", {"invoice_id": invoice.pk, "received_on": "2026-01-05",
                                              "amount": "-1.00"}, content_type="application/json")
    over = http.post("/api/v1/payments", {"invoice_id": invoice.pk, "received_on": "2026-01-05",
                                          "amount": "50.01"}, content_type="application/json")
    unknown = http.post("/api/v1/payments", {"invoice_id": invoice.pk, "received_on": "2026-01-05",
                                             "amount": "1.00", "colour": "red"}, content_type="application/json")
    assert negative.status_code == 422 and negative.json()["errors"] == {"amount": [
        "The amount must be more than zero."]}
    assert over.status_code == 422 and over.json()["errors"]["amount"] == [
        "This payment of 50.01 is more than the balance due on F-API (50.00): overpayments are not recorded."]
    assert unknown.status_code == 422
    credit = make_invoice(invoice.client, "50.00", kind="credit_note", number="AV-1")
    conflict = http.post("/api/v1/payments", {"invoice_id": credit.pk, "received_on": "2026-01-05",
                                              "amount": "1.00"}, content_type="application/json")
    assert conflict.status_code == 409
    assert conflict.json()["message"] == "AV-1 is a credit note: payments are recorded on invoices."
    assert Payment.objects.count() == 0


def test_the_payments_list_keeps_to_a_query_budget() -> None:
    finance = make_staff("finance")
    for n in range(30):
        invoice = make_invoice(make_client(f"Client {n}"), "10.00")
        payments.payment_record(actor=finance, invoice=invoice, data=data("10.00", reference=f"R-{n}"))
    http = logged_in(finance)
    http.get("/billing/payments/")
    with CaptureQueriesContext(connection) as queries:
        response = http.get("/billing/payments/")
    assert response.status_code == 200 and "R-29" in response.content.decode()
    assert len(queries) <= 12, [q["sql"] for q in queries.captured_queries]
