"""The inventory report in the client portal, the scorecard panel of the client page, the query budget of a
client's scorecard page (it must not grow with the devices) and the ticket indexes the KPIs use."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.assets.models import Device, Licence, SoftwareItem
from tenfold.clients.models import Client
from tenfold.reporting import kpis
from tenfold.reporting.models import ScorecardSnapshot
from tenfold.reporting.selectors import last_closed_quarter
from tenfold.reporting.tests.dataset import build
from tenfold.servicedesk.models import Ticket

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def test_portal_admin_reads_own_inventory_report_page_csv_and_pdf() -> None:
    # given two clients with devices, software and a licence
    alpha = Client.objects.create(name="Alpha Bakery", status="active")
    beta = Client.objects.create(name="Beta Garage", status="active")
    ws = Device.objects.create(client=alpha, name="A-WS1", kind="workstation", state="active", managed=True,
                               vendor="Dell", model="OptiPlex", serial_number="SN1", memory_bytes=8 * 1024 ** 3)
    Device.objects.create(client=alpha, name="A-OLD", kind="workstation", state="retired")
    Device.objects.create(client=beta, name="B-SECRET", kind="server", state="active")
    SoftwareItem.objects.create(client=alpha, device=ws, name="Firefox", version="128.0", publisher="Mozilla")
    Licence.objects.create(client=alpha, product="Firefox ESR", publisher="Mozilla", seats=2, match_pattern="firefox",
                           expires_on=date(2027, 1, 31))
    admin = make_portal_user(alpha, "portal_admin")
    http = logged_in(admin)
    # when the portal administrator opens the company's inventory report from the menu
    home = http.get(reverse("portal:home")).content.decode()
    assert reverse("portal:inventory_report") in home
    page = http.get(reverse("portal:inventory_report"))
    # then it shows their devices in service only
    assert page.status_code == 200
    text = page.content.decode()
    assert "Inventory report — Alpha Bakery" in text and "A-WS1" in text
    assert "A-OLD" not in text and "B-SECRET" not in text and "Beta Garage" not in text
    # and the CSV is exactly the report
    download = http.get(reverse("portal:inventory_report") + "?format=csv")
    assert download["Content-Disposition"].startswith(f'attachment; filename="inventory-{alpha.pk}-')
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows == [
        ["hardware"],
        ["name", "kind", "state", "managed", "site", "vendor", "model", "serial_number", "os_name", "os_version",
         "cpu_model", "cpu_cores", "memory_gb", "purchase_date", "warranty_end", "last_seen_at"],
        ["A-WS1", "workstation", "active", "yes", "", "Dell", "OptiPlex", "SN1", "", "", "", "", "8.0", "", "", ""],
        [], ["software"], ["name", "publisher", "versions", "devices"], ["Firefox", "Mozilla", "128.0", "1"],
        [], ["licences"], ["product", "publisher", "seats_owned", "seats_installed", "difference", "expires_on"],
        ["Firefox ESR", "Mozilla", "2", "1", "1", "2027-01-31"]]
    pdf = http.get(reverse("portal:inventory_report") + "?format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content[:4] == b"%PDF"


def test_portal_user_and_staff_may_not_open_the_portal_inventory() -> None:
    alpha = Client.objects.create(name="Alpha Bakery", status="active")
    user = logged_in(make_portal_user(alpha, "portal_user"))
    # a portal user has no right on devices (roles.md): no menu entry, 403 on the page and its downloads
    assert reverse("portal:inventory_report") not in user.get(reverse("portal:home")).content.decode()
    assert user.get(reverse("portal:inventory_report")).status_code == 403
    assert user.get(reverse("portal:inventory_report") + "?format=csv").status_code == 403
    # staff use the reporting pages, not the portal's
    assert logged_in(make_staff("owner")).get(reverse("portal:inventory_report")).status_code == 403
    # and a portal administrator still cannot open the staff inventory pages, even of their own client
    admin = logged_in(make_portal_user(alpha, "portal_admin"))
    assert admin.get(reverse("reporting:inventory_report", args=[alpha.pk])).status_code == 403


def test_client_page_links_to_its_scorecard_through_the_panel() -> None:
    # given a client whose last closed quarter has a snapshot
    alpha = Client.objects.create(name="Alpha Bakery", status="active")
    beta = Client.objects.create(name="Beta Garage", status="active")
    period = last_closed_quarter()
    ScorecardSnapshot.objects.create(client=alpha, period_kind="quarter", period_start=period.start,
                                     period_end=period.end, as_of=period.end_dt, final=True,
                                     overall=Decimal("87.5"), metrics=[], formula_version=1)
    http = logged_in(make_staff("technician"))
    # when a technician opens the client page, it loads the scorecard panel
    panel_url = reverse("reporting:client_scorecard_panel", args=[alpha.pk])
    assert panel_url in http.get(reverse("clients:client_detail", args=[alpha.pk])).content.decode()
    panel = http.get(panel_url).content.decode()
    # then the panel shows the last quarter's score and links to the scorecard
    assert f'href="{reverse("reporting:scorecard", args=[alpha.pk])}"' in panel
    assert f"Score {period.code}" in panel and "87.5 %" in panel
    # a client without a snapshot is N/A; a technician restricted to Beta gets a 404 for Alpha's panel
    assert "N/A" in http.get(reverse("reporting:client_scorecard_panel", args=[beta.pk])).content.decode()
    restricted = logged_in(make_staff("technician", clients=[beta], restricted=True))
    assert restricted.get(panel_url).status_code == 404


def test_scorecard_page_queries_do_not_grow_with_devices(django_assert_max_num_queries: Any) -> None:
    """A client's scorecard page runs a fixed number of queries whatever its device count."""
    # given the hand-built client (12 devices)
    ds = build()
    http = logged_in(make_staff("owner"))
    url = reverse("reporting:scorecard", args=[ds.client.pk])
    with django_assert_max_num_queries(BUDGET) as before:
        assert http.get(url).status_code == 200
    # when it gets 60 more devices of every kind, with software, in both sites
    kinds = ("workstation", "laptop", "server", "network", "mobile")
    now = timezone.now()
    for n in range(60):
        device = Device.objects.create(client=ds.client, name=f"EXTRA-{n}", kind=kinds[n % 5], managed=n % 3 != 0,
                                       state="active", site=ds.sites["Head office" if n % 2 else "Warehouse"],
                                       warranty_end=date(2027, 1, 1) if n % 2 else None, antivirus_state="running",
                                       antivirus_definitions_at=now - timedelta(days=n % 5),
                                       last_backup_at=now - timedelta(hours=n), backup_tool="restic")
        SoftwareItem.objects.create(client=ds.client, device=device, name="Firefox", version="128.0")
    # then the page runs the same queries, within the budget
    with django_assert_max_num_queries(BUDGET) as after:
        assert http.get(url).status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)


BUDGET = 45  # 42 today: the session, the user, the settings, then a fixed number per metric


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's")
def test_kpi_ticket_queries_use_the_created_and_resolved_indexes() -> None:
    """The KPI queries of tickets opened and resolved in a period can use sd_ticket_created/sd_ticket_resolved
    (the planner is told to avoid a sequential scan so that the plan shows whether an index serves them)."""
    client = Client.objects.create(name="Alpha Bakery", status="active")
    # two years of tickets, one every eight hours: a month is about 4 % of them
    base = datetime(2025, 1, 1, tzinfo=UTC)
    Ticket.objects.bulk_create([Ticket(client=client, title=f"t{n}", number=f"T{n}", created_at=base + timedelta(
        hours=8 * n), resolved_at=base + timedelta(hours=8 * n + 5) if n % 2 else None) for n in range(2200)])
    scope = kpis.kpi_scope(make_staff("owner"))
    period = kpis.make_period("month", date(2026, 1, 1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("ANALYZE servicedesk_ticket")
        opened = kpis.tickets_opened(scope, period).explain()
        resolved = kpis.tickets_resolved(scope, period).explain()
    assert "sd_ticket_created" in opened, opened
    assert "sd_ticket_resolved" in resolved, resolved
