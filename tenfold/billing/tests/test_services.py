"""Invoice lifecycle: drafts and their lines, issue with gap-free numbers, edits refused after issue, void by
credit note, send through the outbox with the PDF attached."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from tenfold.accounts.testing import make_staff
from tenfold.billing import services
from tenfold.billing.models import Invoice, InvoiceLine, NumberSequence, Payment
from tenfold.billing.pdf import invoice_html, invoice_pdf
from tenfold.billing.tests.factories import make_client, make_tax
from tenfold.core import events
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():  # type: ignore[no-untyped-def]
    return make_staff(Role.FINANCE, mfa=False)


def draft_with_line(actor, client=None, price="100.00"):  # type: ignore[no-untyped-def]
    client = client or make_client(f"Client {Invoice.objects.count() + 1}")
    invoice = services.invoice_create(actor=actor, client=client)
    services.line_add(actor=actor, invoice=invoice, data={"description": "Consulting", "quantity": "2",
                                                          "unit_price": price})
    invoice.refresh_from_db()
    return invoice


def state(invoice: Invoice) -> tuple:  # type: ignore[type-arg]
    invoice.refresh_from_db()
    return (invoice.status, invoice.number, invoice.notes, invoice.total,
            list(InvoiceLine.objects.filter(invoice=invoice).order_by("pk").values_list(
                "description", "quantity", "unit_price", "amount")))


def test_a_manual_line_computes_its_amount_and_the_totals(finance):
    make_tax("20.000")
    invoice = draft_with_line(finance)
    line = InvoiceLine.objects.get(invoice=invoice)
    assert (line.quantity, line.unit_price, line.amount, line.tax_rate) == (
        Decimal("2.00"), Decimal("100.00"), Decimal("200.00"), Decimal("20.000"))
    services.line_update(actor=finance, line=line, data={"quantity": "1.5"})
    invoice.refresh_from_db()
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("150.00"), Decimal("30.00"), Decimal("180.00"))


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"quantity": "-1"}, "quantity", "cannot be negative"),
    ({"unit_price": "-0.01"}, "unit_price", "cannot be negative"),
    ({"unit_price": "abc"}, "unit_price", "Enter a number"),
    ({"unit_price": "1.005"}, "unit_price", "two decimal places"),
    ({"quantity": "1e9"}, "quantity", "too large"),
    ({"description": "  "}, "description", "Describe"),
    ({"tax_rate": "-5"}, "tax_rate", "cannot be negative"),
    ({"amount": "5"}, None, "Unknown fields"),
])
def test_bad_line_input_is_refused_and_changes_nothing(finance, data, field, message):
    invoice = draft_with_line(finance)
    line = InvoiceLine.objects.get(invoice=invoice)
    before = state(invoice)
    with pytest.raises(ValidationError, match=message) as caught:
        services.line_update(actor=finance, line=line, data=data)
    if field:
        assert field in caught.value.errors
    with pytest.raises(ValidationError):
        services.line_add(actor=finance, invoice=invoice, data={"description": "X", "quantity": "1",
                                                                "unit_price": "1", **data})
    assert state(invoice) == before


def test_issue_numbers_follow_without_gaps_per_year_and_kind(finance):
    # given three drafts and an empty one
    first, second, third = (draft_with_line(finance) for _n in range(3))
    empty = services.invoice_create(actor=finance, client=make_client("Empty"))
    # when they are issued, the empty one in the middle (refused) and one in 2027
    services.invoice_issue(actor=finance, invoice=first, issue_date=date(2026, 4, 2))
    with pytest.raises(ValidationError, match="at least one line"):
        services.invoice_issue(actor=finance, invoice=empty, issue_date=date(2026, 4, 2))
    services.invoice_issue(actor=finance, invoice=second, issue_date=date(2026, 4, 3))
    services.invoice_issue(actor=finance, invoice=third, issue_date=date(2027, 1, 4))
    # then the numbers run on without a gap, the refused issue took none, and 2027 starts again at 1
    assert [i.number for i in (first, second, third)] == ["F2026-000001", "F2026-000002", "F2027-000001"]
    assert (first.issue_date, first.due_date) == (date(2026, 4, 2), date(2026, 5, 2))
    assert dict(NumberSequence.objects.values_list("key", "last")) == {"F2026": 2, "F2027": 1}
    empty.refresh_from_db()
    assert (empty.status, empty.number) == ("draft", "")


def test_issue_snapshots_the_bill_to_block(finance):
    client = make_client(billing_email="compta@martin.test")
    invoice = draft_with_line(finance, client)
    services.invoice_issue(actor=finance, invoice=invoice)
    client.contacts.update(email="other@martin.test")
    invoice.refresh_from_db()
    assert invoice.bill_to_email == "compta@martin.test"
    assert invoice.bill_to_name.startswith("Boulangerie Martin")
    assert AuditEntry.objects.filter(action="invoice.issued", object_id=str(invoice.pk)).exists()
    assert OutboxEvent.objects.filter(name="invoice.issued", payload__number=invoice.number).exists()


def test_every_edit_of_an_issued_invoice_is_refused_and_changes_nothing(finance):
    invoice = draft_with_line(finance)
    services.invoice_issue(actor=finance, invoice=invoice)
    line = InvoiceLine.objects.get(invoice=invoice)
    before = state(invoice)
    attempts = [
        lambda: services.invoice_update(actor=finance, invoice=invoice, data={"notes": "changed"}),
        lambda: services.line_add(actor=finance, invoice=invoice, data={"description": "X", "quantity": "1",
                                                                        "unit_price": "1"}),
        lambda: services.line_update(actor=finance, line=line, data={"unit_price": "1.00"}),
        lambda: services.line_delete(actor=finance, line=line),
        lambda: services.invoice_delete(actor=finance, invoice=invoice),
        lambda: services.invoice_issue(actor=finance, invoice=invoice),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict, match="issued: it cannot be changed"):
            attempt()
    assert state(invoice) == before


def test_void_by_credit_note_negates_every_line(finance):
    make_tax("20.000")
    invoice = draft_with_line(finance)
    services.line_add(actor=finance, invoice=invoice, data={"description": "Book", "quantity": "1",
                                                            "unit_price": "30.00", "tax_rate": "5.5"})
    services.invoice_issue(actor=finance, invoice=invoice, issue_date=date(2026, 4, 2))
    # when it is voided
    credit = services.invoice_void(actor=finance, invoice=invoice, reason="Wrong client",
                                   issue_date=date(2026, 4, 3))
    invoice.refresh_from_db()
    # then a credit note numbered in its own series negates each line and the totals; the original is void
    assert (credit.kind, credit.status, credit.number, credit.credited_invoice_id) == (
        "credit_note", "issued", "AV2026-000001", invoice.pk)
    assert list(credit.lines.order_by("position").values_list("quantity", "unit_price", "amount")) == [
        (Decimal("2.00"), Decimal("-100.00"), Decimal("-200.00")), (Decimal("1.00"), Decimal("-30.00"),
                                                                   Decimal("-30.00"))]
    assert (credit.subtotal, credit.tax_total, credit.total) == (Decimal("-230.00"), Decimal("-41.65"),
                                                                 Decimal("-271.65"))
    assert invoice.total == Decimal("271.65") and invoice.status == "void" and invoice.voided_at is not None
    # and it cannot be voided twice
    with pytest.raises(Conflict, match="already void"):
        services.invoice_void(actor=finance, invoice=invoice)
    with pytest.raises(Conflict, match="credit note cannot be voided"):
        services.invoice_void(actor=finance, invoice=credit)


def test_an_invoice_with_a_payment_or_a_draft_is_not_voided(finance):
    invoice = draft_with_line(finance)
    with pytest.raises(Conflict, match="delete it instead"):
        services.invoice_void(actor=finance, invoice=invoice)
    services.invoice_issue(actor=finance, invoice=invoice)
    Payment.objects.create(client=invoice.client, invoice=invoice, received_on=date(2026, 4, 10),
                           amount=Decimal("50.00"))
    before = state(invoice)
    with pytest.raises(Conflict, match="has payments"):
        services.invoice_void(actor=finance, invoice=invoice)
    assert state(invoice) == before
    assert not Invoice.objects.filter(kind="credit_note").exists()


def test_roles_account_manager_reads_only(finance):
    manager = make_staff(Role.ACCOUNT_MANAGER, mfa=False)
    client = make_client()
    with pytest.raises(PermissionDenied):
        services.invoice_create(actor=manager, client=client)
    invoice = draft_with_line(finance, client)
    before = state(invoice)
    for attempt in (lambda: services.invoice_issue(actor=manager, invoice=invoice),
                    lambda: services.invoice_delete(actor=manager, invoice=invoice),
                    lambda: services.line_add(actor=manager, invoice=invoice, data={
                        "description": "X", "quantity": "1", "unit_price": "1"})):
        with pytest.raises(PermissionDenied):
            attempt()
    assert state(invoice) == before


def test_send_goes_through_the_outbox_with_the_pdf_attached(finance):
    client = make_client(billing_email="compta@martin.test")
    invoice = draft_with_line(finance, client)
    with pytest.raises(Conflict, match="Issue the invoice"):
        services.invoice_send(actor=finance, invoice=invoice)
    services.invoice_issue(actor=finance, invoice=invoice)
    event = services.invoice_send(actor=finance, invoice=invoice)
    # when the outbox delivers the event
    assert events.deliver_event(event)
    # then one mail with the PDF went to the billing contact and the invoice is marked sent
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["compta@martin.test"] and invoice.number in message.subject
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == (f"{invoice.number}.pdf", "application/pdf") and content.startswith(b"%PDF")
    invoice.refresh_from_db()
    assert invoice.sent_at is not None


def test_a_failed_send_is_retried(finance, monkeypatch):
    client = make_client(billing_email="compta@martin.test")
    invoice = draft_with_line(finance, client)
    services.invoice_issue(actor=finance, invoice=invoice)
    event = services.invoice_send(actor=finance, invoice=invoice)

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    assert not events.deliver_event(event)
    invoice.refresh_from_db()
    assert invoice.sent_at is None
    monkeypatch.undo()
    assert events.deliver_event(event)
    assert len(mail.outbox) == 1


def test_send_without_a_billing_contact_is_refused(finance):
    invoice = draft_with_line(finance)
    services.invoice_issue(actor=finance, invoice=invoice)
    with pytest.raises(ValidationError, match="billing contact"):
        services.invoice_send(actor=finance, invoice=invoice)
    assert not OutboxEvent.objects.filter(name="invoice.send_requested").exists()


def test_the_pdf_is_rendered_from_the_shared_template(finance):
    invoice = draft_with_line(finance)
    services.line_add(actor=finance, invoice=invoice, data={"description": "Workstation monitoring — April 2026",
                                                            "quantity": "3", "unit_price": "10.00"})
    line = invoice.lines.get(description__startswith="Workstation")
    InvoiceLine.objects.filter(pk=line.pk).update(detail={"units": [{"id": 1, "name": "PC-ACCUEIL-01"}]})
    services.invoice_issue(actor=finance, invoice=invoice)
    html = invoice_html(invoice)
    assert 'data-testid="invoice-document"' in html
    assert "Workstation monitoring — April 2026" in html and "PC-ACCUEIL-01" in html and invoice.number in html
    assert invoice_pdf(invoice).startswith(b"%PDF")


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_take_distinct_numbers_without_gaps():
    """Eight drafts issued from eight threads at once (PostgreSQL locks the series row): numbers 1..8, no gap,
    no duplicate."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency need PostgreSQL")
    finance = make_staff(Role.FINANCE, mfa=False)
    drafts = [draft_with_line(finance) for _n in range(8)]

    def issue(invoice_id: int) -> str:
        try:
            invoice = Invoice.objects.get(pk=invoice_id)
            return services.invoice_issue(actor=finance, invoice=invoice, issue_date=date(2026, 6, 1)).number
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = sorted(pool.map(issue, [d.pk for d in drafts]))
    assert numbers == [f"F2026-{n:06d}" for n in range(1, 9)]
