"""The sale and its first invoice, end to end (issue: "deal → quote with three tiers → accepted in the portal →
contract → baseline policy applied to the client's devices → billing run → invoice PDF whose per-device line
matches the live device count").

Staff work through the services (as the UI and API do); the client's portal admin accepts on the portal page
over HTTP; the invoice is read back from the PDF file itself (pypdf), not from the HTML it was made from."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pypdf
import pytest
import time_machine
from django.test import Client as HttpClient

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.assets.models import Device
from tenfold.billing import engine, services
from tenfold.billing.models import Invoice, LineKind
from tenfold.billing.pdf import invoice_pdf
from tenfold.contracts.models import Contract
from tenfold.core import events
from tenfold.core.models import TaxRate
from tenfold.monitoring.models import ClientBaseline, Policy
from tenfold.monitoring.policies import effective_policy
from tenfold.sales import services as sales
from tenfold.sales.models import Deal
from tenfold.sales.selectors import quote_pricing
from tenfold.sales.tests.factories import make_catalog, make_client

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_a_quote_accepted_in_the_portal_becomes_a_contract_a_baseline_and_an_invoice_of_the_live_count() -> None:
    TaxRate.objects.update_or_create(name="TVA 20 %", defaults={"rate": Decimal("20.000"), "is_default": True})
    parts = make_catalog()
    client = make_client(workstations=12, servers=2)  # 4 of the 12 are laptops; one retired PC besides
    manager = make_staff("account_manager")
    finance = make_staff("finance")
    admin = make_portal_user(client, "portal_admin", email="direction@boulangerie.example")

    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=PARIS), tick=False):
        # given a deal and a quote showing the three tiers, sent to the client
        deal = sales.deal_create(actor=manager, client=client, data={
            "title": "Managed workplace", "owner_id": manager.pk, "close_date": date(2026, 11, 30),
            "monthly_value": Decimal("650.00"), "one_off_value": Decimal("1800.00")})
        quote = sales.quote_create(actor=manager, deal=deal, data={"offering_id": parts["offering"].pk,
                                                                   "start_date": date(2026, 11, 20)})
        sales.quote_item_add(actor=manager, quote=quote, data={
            "description": "Onboarding project", "quantity": Decimal("1"), "unit_price": Decimal("1800.00")})
        sales.quote_send(actor=manager, quote=quote)
        tiers = {t.plan.tier: t.monthly_total for t in quote_pricing(quote).tiers}
        assert tiers == {"good": Decimal("420.00"), "better": Decimal("540.00"), "best": Decimal("650.00")}

        # when the client's portal admin accepts the Better tier on the portal
        http = HttpClient()
        http.force_login(admin)
        page = http.get(f"/portal/quotes/{quote.pk}/")
        assert page.status_code == 200 and "540.00" in page.content.decode()
        answer = http.post(f"/portal/quotes/{quote.pk}/accept/", {"tier": "better"})
        assert answer.status_code == 302
        # the worker delivers the domain events (quote.accepted → billing's one-off charges)
        events.deliver_pending()

    # then the deal is won with a signed managed contract on the Better plan
    contract = Contract.objects.get(client=client)
    assert (contract.status, contract.type, contract.plan_id) == ("active", "managed", parts["better"].pk)
    assert Deal.objects.get(pk=deal.pk).stage == "won"
    # and the Better baseline reaches every active device: Good's and Better's baseline policies, not Best's
    assert ClientBaseline.objects.get(client=client).tier == "better"
    baseline_tiers = {p.baseline_tier for p in Policy.objects.filter(baseline_tier__isnull=False)}
    assert baseline_tiers == {"good", "better", "best"}
    for device in Device.objects.filter(client=client, state="active"):
        applied = {p.baseline_tier for p in effective_policy(device).policies if p.baseline_tier}
        assert applied == {"good", "better"}, device.name

    # when the December billing run happens on 1 December
    with time_machine.travel(datetime(2026, 12, 1, 6, 0, tzinfo=PARIS), tick=False):
        run = engine.billing_run(actor=finance, period_start=date(2026, 12, 1))
        invoice = Invoice.objects.get(billing_run=run, client=client)
        services.invoice_issue(actor=finance, invoice=invoice)
    invoice.refresh_from_db()

    # then the per-device lines carry the live counts, with the devices behind them
    live_workstations = Device.objects.filter(client=client, state="active", kind__in=["workstation", "laptop"])
    live_servers = Device.objects.filter(client=client, state="active", kind="server")
    assert (live_workstations.count(), live_servers.count()) == (12, 2)
    recurring = {line.service.code: line for line in invoice.lines.filter(kind=LineKind.RECURRING)}
    assert {code: line.quantity for code, line in recurring.items()} == {
        "ws-mon": Decimal("12.00"), "srv-mon": Decimal("2.00"), "ws-av": Decimal("12.00"),
        "ws-patch": Decimal("12.00")}
    assert recurring["ws-mon"].amount == Decimal("300.00")
    listed = str(recurring["ws-mon"].detail)
    assert all(name in listed for name in live_workstations.values_list("name", flat=True))
    # and the onboarding item of the quote is invoiced once; totals: 540.00 + 1800.00, 20 % tax
    assert invoice.lines.filter(kind=LineKind.ONE_OFF).get().amount == Decimal("1800.00")
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("2340.00"), Decimal("468.00"), Decimal("2808.00"))
    assert invoice.number == "F2026-000001"

    # and the PDF the client receives says the same
    text = _pdf_text(invoice_pdf(invoice))
    assert "F2026-000001" in text
    block = text[text.index("Workstation monitoring"):text.index("Antivirus")]
    assert "12.00 25.00 20 % 300.00" in block, block
    unwrapped = block.replace("-\n", "-").replace("\n", " ")
    assert all(name in unwrapped for name in live_workstations.values_list("name", flat=True)), unwrapped
    assert "Total 2808.00 EUR" in text, text[-300:]
