"""Billing pages and API: lists with search and the overdue filter, the invoice page with the devices behind a
line, draft forms with errors, the run button, refusals after issue; the API's bad input and PDF."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.billing import services
from tenfold.billing.models import BillingRun, Invoice, InvoiceLine
from tenfold.billing.tests.factories import at, cover, make_catalog, make_client, make_contract
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():  # type: ignore[no-untyped-def]
    return make_staff(Role.FINANCE)


@pytest.fixture
def web(client, finance):  # type: ignore[no-untyped-def]
    client.force_login(finance)
    return client


def issued(actor, name, issue_date, price="100.00"):  # type: ignore[no-untyped-def]
    invoice = services.invoice_create(actor=actor, client=make_client(name))
    services.line_add(actor=actor, invoice=invoice, data={"description": "Work", "quantity": "1",
                                                          "unit_price": price})
    return services.invoice_issue(actor=actor, invoice=invoice, issue_date=issue_date)


def test_invoice_list_searches_and_filters_overdue(web, finance):
    old = issued(finance, "Old Bakery", date(2020, 1, 2))
    recent = issued(finance, "New Florist", date(2099, 1, 2))
    page = web.get(reverse("billing:invoice_list"), {"due": "overdue"}).content.decode()
    assert old.number in page and recent.number not in page
    page = web.get(reverse("billing:invoice_list"), {"q": "Florist"}).content.decode()
    assert recent.number in page and old.number not in page
    page = web.get(reverse("billing:invoice_list"), {"status": "issued", "sort": "total"}).content.decode()
    assert old.number in page and recent.number in page


def test_run_button_bills_the_month_and_shows_the_devices_on_the_invoice(web):
    catalog = make_catalog()
    client = make_client("Garage Dupont")
    contract = make_contract(client, catalog["good"])
    cover(contract, "workstation", 2, at(2026, 2, 1), prefix="DUPONT-PC")
    response = web.post(reverse("billing:run_start"), {"month": "2026-04"})
    run = BillingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("billing:run_detail", args=[run.pk])
    page = web.get(response["Location"]).content.decode()
    assert "Garage Dupont" in page and "20.00" in page
    invoice = Invoice.objects.get()
    page = web.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert "DUPONT-PC-01" in page and "DUPONT-PC-02" in page and 'data-testid="issue"' in page


def test_a_bad_month_is_refused(web):
    response = web.post(reverse("billing:run_start"), {"month": "April"}, follow=True)
    assert "Enter a month as YYYY-MM." in response.content.decode()
    assert not BillingRun.objects.exists()


def test_line_form_refuses_negative_values_beside_the_field(web, finance):
    invoice = services.invoice_create(actor=finance, client=make_client())
    response = web.post(reverse("billing:line_add", args=[invoice.pk]),
                        {"description": "Refund", "quantity": "-1", "unit_price": "-5", "tax_rate": ""})
    assert response.status_code == 422
    assert "Ensure this value is greater than or equal to 0" in response.content.decode()
    assert not InvoiceLine.objects.exists()


def test_issued_invoice_edits_are_refused_with_a_message(web, finance):
    invoice = issued(finance, "Cafe", date(2026, 4, 1))
    line = invoice.lines.get()
    response = web.post(reverse("billing:line_edit", args=[line.pk]),
                        {"description": "Changed", "quantity": "9", "unit_price": "1", "tax_rate": ""})
    assert response.status_code == 422 and "cannot be changed" in response.content.decode()
    response = web.post(reverse("billing:invoice_delete", args=[invoice.pk]), follow=True)
    assert "Void it with a credit note instead." in response.content.decode()
    line.refresh_from_db()
    assert (line.description, line.amount) == ("Work", Decimal("100.00"))
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_void_page_leads_to_the_credit_note(web, finance):
    invoice = issued(finance, "Cafe", date(2026, 4, 1))
    response = web.post(reverse("billing:invoice_void", args=[invoice.pk]), {"reason": "Duplicate"})
    credit = Invoice.objects.get(kind="credit_note")
    assert response["Location"] == reverse("billing:invoice_detail", args=[credit.pk])
    page = web.get(response["Location"]).content.decode()
    assert credit.number in page and invoice.number in page


def test_pdf_download(web, finance):
    invoice = issued(finance, "Cafe", date(2026, 4, 1))
    response = web.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]


def test_invoice_list_query_budget(web, finance, django_assert_max_num_queries):
    for n in range(8):
        issued(finance, f"Client {n}", date(2026, 4, 1))
    with django_assert_max_num_queries(12):
        assert web.get(reverse("billing:invoice_list")).status_code == 200


# --- API --------------------------------------------------------------------------------------------------------


def api(http, method, path, token, body=None):  # type: ignore[no-untyped-def]
    return getattr(http, method)(f"/api/v1/{path}", data=json.dumps(body) if body is not None else None,
                                 content_type="application/json", **bearer(token))


def test_api_draft_lines_issue_and_refusals(client, finance):
    token = make_api_token(finance)
    customer = make_client("API Client")
    created = api(client, "post", "invoices", token, {"client_id": customer.pk})
    assert created.status_code == 201
    invoice_id = created.json()["id"]
    bad = api(client, "post", f"invoices/{invoice_id}/lines", token,
              {"description": "X", "quantity": "-2", "unit_price": "10"})
    assert bad.status_code == 422 and bad.json()["errors"] == {"quantity": ["A quantity cannot be negative."]}
    unknown = api(client, "post", f"invoices/{invoice_id}/lines", token,
                  {"description": "X", "quantity": "1", "unit_price": "10", "amount": "99"})
    assert unknown.status_code == 422
    line = api(client, "post", f"invoices/{invoice_id}/lines", token,
               {"description": "Audit", "quantity": "3", "unit_price": "12.50"})
    assert line.status_code == 201 and line.json()["amount"] == "37.50"
    issued_body = api(client, "post", f"invoices/{invoice_id}/issue", token).json()
    assert issued_body["status"] == "issued" and issued_body["number"].startswith("F")
    refused = api(client, "patch", f"invoice-lines/{line.json()['id']}", token, {"quantity": "1"})
    assert refused.status_code == 409 and "credit note" in refused.json()["message"]
    assert InvoiceLine.objects.get().amount == Decimal("37.50")
    listed = api(client, "get", "invoices?status=issued&ordering=-total", token).json()
    assert [i["number"] for i in listed["items"]] == [issued_body["number"]]
    assert api(client, "get", "invoices?status=nonsense", token).status_code == 422
    pdf = client.get(f"/api/v1/invoices/{invoice_id}/pdf", **bearer(token))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_api_run_is_idempotent(client, finance):
    token = make_api_token(finance)
    catalog = make_catalog()
    contract = make_contract(make_client("Runner"), catalog["good"])
    cover(contract, "server", 1, at(2026, 2, 1))
    first = api(client, "post", "billing-runs", token, {"period_start": "2026-04-01", "run_date": "2026-04-01"})
    second = api(client, "post", "billing-runs", token, {"period_start": "2026-04-01"})
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"] and second.json()["invoice_count"] == 1
    assert second.json()["total"] == "40.00"
    assert api(client, "post", "billing-runs", token, {"period_start": "2026-04-15"}).status_code == 422
