"""KPI, forecast, inventory and subscription pages: content, role restrictions, CSV/PDF, query budgets; the
scheduled delivery by e-mail."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tenfold.assets.models import Device, Licence, SoftwareItem
from tenfold.clients.models import Contact
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.core.events import deliver_pending
from tenfold.core.models import AuditEntry
from tenfold.reporting import inventory
from tenfold.reporting.kpi_models import ReportSubscription
from tenfold.reporting.tests.kpi_factories import build_msp

pytestmark = pytest.mark.django_db
MARCH = "?period=month&start=2026-03-01"


def logged_in(user):  # type: ignore[no-untyped-def]
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def msp():  # type: ignore[no-untyped-def]
    return build_msp()


def test_dashboard_shows_every_figure_with_previous_period_within_a_query_budget(msp) -> None:  # type: ignore[no-untyped-def]
    http = logged_in(msp.users["owner"])
    with CaptureQueriesContext(connection) as queries:
        response = http.get(reverse("reporting:kpi_dashboard") + MARCH)
    assert response.status_code == 200
    assert len(queries) <= 70, len(queries)  # a fixed number per figure, whatever the data
    page = response.content.decode()
    assert 'data-testid="kpi-mrr"' in page and 'data-testid="kpi-surveys"' in page
    assert "900.00" in page.replace("\u202f", "").replace(",", "") or "900" in page
    assert page.count('data-testid="kpi-chart"') >= 10
    csv_rows = list(csv.reader(io.StringIO(http.get(reverse("reporting:kpi_dashboard") + MARCH + "&format=csv")
                                           .content.decode())))
    assert ["mrr", "Monthly recurring revenue (MRR)", "money", "900.00", "600.00", "300.00"] in csv_rows
    assert ["ticket_volume", "Ticket volume", "count", "5", "1", "4"] in csv_rows


def test_bad_period_is_a_clear_error(msp) -> None:  # type: ignore[no-untyped-def]
    http = logged_in(msp.users["owner"])
    response = http.get(reverse("reporting:kpi_dashboard") + "?period=custom&start=2026-03-10&end=2026-03-01")
    assert response.status_code == 422
    assert "The end date cannot be before the start date." in response.content.decode()
    api = http.get("/api/v1/kpis/?period=custom&start=2026-03-10&end=2026-03-01")
    assert api.status_code == 422


def test_detail_drills_down_to_records_and_exports_them(msp) -> None:  # type: ignore[no-untyped-def]
    http = logged_in(msp.users["owner"])
    with CaptureQueriesContext(connection) as queries:
        response = http.get(reverse("reporting:kpi_detail", args=["mrr"]) + MARCH)
    assert response.status_code == 200 and len(queries) <= 40, len(queries)
    page = response.content.decode()
    assert reverse("billing:invoice_detail", args=[msp.invoices["A-mar"].pk]) in page
    assert msp.invoices["B-mar-void"].number not in page  # a void invoice is not behind MRR
    records = list(csv.reader(io.StringIO(http.get(reverse("reporting:kpi_detail", args=["mrr"]) + MARCH
                                                   + "&format=records").content.decode())))
    # March lines (A 300 + 50, B 150, C 400) and February's (A 300, B 200, D 100): the month before is the base
    assert len(records) == 1 + 7
    breakdown = http.get(reverse("reporting:kpi_detail", args=["ticket_volume"]) + MARCH + "&format=csv")
    assert "0.16" in breakdown.content.decode()
    tickets = http.get(reverse("reporting:kpi_detail", args=["sla"]) + MARCH).content.decode()
    assert reverse("servicedesk:ticket_detail", args=[msp.tickets["t2"].pk]) in tickets
    assert http.get(reverse("reporting:kpi_detail", args=["nonsense"])).status_code == 404


def test_service_manager_sees_service_kpis_only(msp) -> None:  # type: ignore[no-untyped-def]
    http = logged_in(msp.users["service"])
    page = http.get(reverse("reporting:kpi_dashboard") + MARCH).content.decode()
    assert 'data-testid="kpi-ticket_volume"' in page and 'data-testid="kpi-mrr"' not in page
    assert http.get(reverse("reporting:kpi_detail", args=["mrr"]) + MARCH).status_code == 403
    assert http.get("/api/v1/kpis/mrr?period=month&start=2026-03-01").status_code == 403
    keys = [f["key"] for f in http.get("/api/v1/kpis/?period=month&start=2026-03-01").json()["figures"]]
    assert "mrr" not in keys and "sla" in keys
    forecast = http.get(reverse("reporting:forecasts")).content.decode()
    assert 'data-metric="revenue"' not in forecast and 'data-metric="tickets"' in forecast


def test_account_manager_sees_own_pipeline_only(msp) -> None:  # type: ignore[no-untyped-def]
    http = logged_in(msp.users["sales1"])
    figures = {f["key"]: f for f in http.get("/api/v1/kpis/?period=month&start=2026-03-01").json()["figures"]}
    assert Decimal(figures["mrr"]["value"]) == Decimal("500.00")  # A 350 + B 150
    assert Decimal(figures["average_deal_value"]["value"]) == Decimal("1150.00")
    assert "ticket_volume" not in figures
    page = http.get(reverse("reporting:kpi_detail", args=["salespeople"]) + MARCH).content.decode()
    assert "Anne Alpha" in page and "Bruno Beta" not in page
    mrr = http.get(reverse("reporting:kpi_detail", args=["mrr"]) + MARCH).content.decode()
    assert "Gamma Clinic" not in mrr and "Alpha Bakery" in mrr
    assert http.get(reverse("reporting:kpi_detail", args=["ticket_volume"])).status_code == 403


def test_technician_and_portal_users_are_refused(msp) -> None:  # type: ignore[no-untyped-def]
    http = logged_in(msp.users["tech1"])
    assert http.get(reverse("reporting:kpi_dashboard")).status_code == 403
    assert http.get(reverse("reporting:forecasts")).status_code == 403
    assert http.get("/api/v1/kpis/").status_code == 403


def test_api_detail_and_forecasts(msp) -> None:  # type: ignore[no-untyped-def]
    http = logged_in(msp.users["finance"])
    body = http.get("/api/v1/kpis/upsell?period=month&start=2026-03-01").json()
    assert (body["figure"]["value"], body["figure"]["previous"]) == ("50.00", "0.00")
    assert body["period"] == {"kind": "month", "start": "2026-03-01", "end": "2026-03-31", "label": "2026-03"}
    assert len(body["series"]) == 12 and body["records_total"] == 7
    forecast = http.get("/api/v1/forecasts/")
    assert forecast.status_code == 200
    assert {row["metric"] for row in forecast.json()["forecasts"]} == {"hours", "revenue", "tickets", "clients"}


def test_forecast_page_and_csv(msp) -> None:  # type: ignore[no-untyped-def]
    http = logged_in(msp.users["owner"])
    with CaptureQueriesContext(connection) as queries:
        response = http.get(reverse("reporting:forecasts"))
    assert response.status_code == 200 and len(queries) <= 25, len(queries)
    assert 'data-testid="forecast-total"' in response.content.decode()
    rows = list(csv.reader(io.StringIO(http.get(reverse("reporting:forecasts") + "?format=csv").content.decode())))
    assert rows[0][:3] == ["client", "metric", "forecast"]


def inventory_world(msp):  # type: ignore[no-untyped-def]
    client = msp.clients["A"]
    ws1 = Device.objects.get(name="A-WS1")
    ws2 = Device.objects.get(name="A-WS2")
    for device, version in ((ws1, "16.0.1"), (ws2, "16.0.4")):
        SoftwareItem.objects.create(client=client, device=device, name="Microsoft Office", version=version,
                                    publisher="Microsoft")
    SoftwareItem.objects.create(client=client, device=ws1, name="Firefox", version="128.0", publisher="Mozilla")
    Licence.objects.create(client=client, product="Office 2021", publisher="Microsoft", seats=1,
                           match_pattern="office")
    Licence.objects.create(client=client, product="Firefox ESR", seats=5, match_pattern="firefox")
    return client


def test_inventory_report_content_csv_and_pdf(msp) -> None:  # type: ignore[no-untyped-def]
    client = inventory_world(msp)
    report = inventory.build_inventory(client)
    # 12 devices of A in service (none retired); software grouped; Office installed on 2 devices for 1 seat
    assert len(report.devices) == 12
    assert [(s.name, s.versions, s.devices) for s in report.software] == [
        ("Firefox", "128.0", 1), ("Microsoft Office", "16.0.1 – 16.0.4", 2)]
    assert [(lic.product, lic.owned, lic.installed, lic.gap) for lic in report.licences] == [
        ("Firefox ESR", 5, 1, 4), ("Office 2021", 1, 2, -1)]
    assert [lic.product for lic in report.under_licensed] == ["Office 2021"]
    http = logged_in(msp.users["finance"])
    with CaptureQueriesContext(connection) as queries:
        page = http.get(reverse("reporting:inventory_report", args=[client.pk]))
    assert page.status_code == 200 and len(queries) <= 20, len(queries)
    assert 'data-testid="inventory-under"' in page.content.decode()
    text = http.get(reverse("reporting:inventory_report", args=[client.pk]) + "?format=csv").content.decode()
    assert "Office 2021,Microsoft,1,2,-1," in text and "A-SRV1,server,active" in text
    pdf = http.get(reverse("reporting:inventory_report", args=[client.pk]) + "?format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    from pypdf import PdfReader

    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Alpha Bakery" in pdf_text and "Office 2021" in pdf_text
    api = http.get(f"/api/v1/inventory-reports/{client.pk}").json()
    assert [(x["product"], x["difference"]) for x in api["licences"]] == [("Firefox ESR", 4), ("Office 2021", -1)]


def test_subscription_recipients_are_checked(msp) -> None:  # type: ignore[no-untyped-def]
    owner, client = msp.users["owner"], msp.clients["A"]
    Contact.objects.create(client=client, first_name="Claire", last_name="Client", email="claire@alpha.example")
    Contact.objects.create(client=msp.clients["B"], first_name="Other", last_name="Client", email="o@beta.example")
    tomorrow = timezone.localdate() + timedelta(days=1)
    bad = ["not-an-address", "o@beta.example", "stranger@elsewhere.example", ""]
    for recipients in bad:
        with pytest.raises(ValidationError):
            inventory.subscription_create(actor=owner, report="inventory", client_id=client.pk, recipients=recipients,
                                          cadence="monthly", first_send_on=tomorrow)
    # a client contact may not receive the report of all clients
    with pytest.raises(ValidationError):
        inventory.subscription_create(actor=owner, report="inventory", client_id=None,
                                      recipients="claire@alpha.example", cadence="monthly", first_send_on=tomorrow)
    with pytest.raises(PermissionDenied):
        inventory.subscription_create(actor=msp.users["tech1"], report="inventory", client_id=client.pk,
                                      recipients="claire@alpha.example", cadence="monthly", first_send_on=tomorrow)
    with pytest.raises(ValidationError):
        inventory.subscription_create(actor=owner, report="inventory", client_id=client.pk,
                                      recipients="claire@alpha.example", cadence="monthly",
                                      first_send_on=date(2020, 1, 1))
    assert ReportSubscription.objects.count() == 0
    sub = inventory.subscription_create(actor=owner, report="inventory", client_id=client.pk,
                                        recipients=f"Claire@alpha.example\n{msp.users['finance'].email}",
                                        cadence="monthly", first_send_on=tomorrow)
    assert sub.recipient_list() == ["claire@alpha.example", msp.users["finance"].email]
    assert AuditEntry.objects.filter(action="report_subscription.created").count() == 1


def test_due_subscription_is_sent_once_by_email_with_the_pdf(msp) -> None:  # type: ignore[no-untyped-def]
    inventory_world(msp)
    Contact.objects.create(client=msp.clients["A"], first_name="Claire", last_name="Client",
                           email="claire@alpha.example")
    today = timezone.localdate()
    sub = ReportSubscription.objects.create(client=msp.clients["A"], recipients="claire@alpha.example",
                                            cadence="monthly", next_send_on=today)
    ReportSubscription.objects.create(client=msp.clients["B"], recipients="x@beta.example", cadence="weekly",
                                      next_send_on=today + timedelta(days=3))
    mail.outbox.clear()
    assert inventory.send_due_reports.call() == {"claimed": 1}
    assert inventory.send_due_reports.call() == {"claimed": 0}  # claimed: a second run sends nothing
    deliver_pending()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["claire@alpha.example"] and "Alpha Bakery" in message.subject
    filename, content, mimetype = message.attachments[0]
    assert filename.startswith(f"inventory-{msp.clients['A'].pk}-")
    assert (mimetype, content[:4]) == ("application/pdf", b"%PDF")
    sub.refresh_from_db()
    assert sub.next_send_on == inventory.next_date(today, "monthly") and sub.last_sent_at is not None


def test_next_dates() -> None:
    assert inventory.next_date(date(2026, 1, 31), "monthly") == date(2026, 2, 28)
    assert inventory.next_date(date(2026, 1, 31), "quarterly") == date(2026, 4, 30)
    assert inventory.next_date(date(2026, 1, 31), "weekly") == date(2026, 2, 7)


def test_subscription_screens(msp) -> None:  # type: ignore[no-untyped-def]
    http = logged_in(msp.users["owner"])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = http.post(reverse("reporting:subscription_create"), {
        "report": "inventory", "client": "", "recipients": "stranger@elsewhere.example", "cadence": "monthly",
        "format": "pdf", "next_send_on": tomorrow, "enabled": "on"})
    assert response.status_code == 422 and ReportSubscription.objects.count() == 0
    response = http.post(reverse("reporting:subscription_create"), {
        "report": "inventory", "client": "", "recipients": msp.users["finance"].email, "cadence": "weekly",
        "format": "pdf", "next_send_on": tomorrow, "enabled": "on"})
    assert response.status_code == 302 and ReportSubscription.objects.get().client is None
    with CaptureQueriesContext(connection) as queries:
        assert http.get(reverse("reporting:subscription_list")).status_code == 200
    assert len(queries) <= 15
    sub = ReportSubscription.objects.get()
    assert http.post(reverse("reporting:subscription_delete", args=[sub.pk])).status_code == 302
    assert not ReportSubscription.objects.exists()
