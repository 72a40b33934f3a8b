"""Browser test of a business review: from the scorecards menu to the client's review, publish the deck, download
its PPTX and PDF, and open both: the slides and figures are the scorecard shown on the page."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.reporting import services
from tenfold.reporting.tests.dataset import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_open_a_review_and_download_its_deck(page: Page, live_server: Any) -> None:
    from pptx import Presentation
    from pypdf import PdfReader

    # given a client like the demo's (devices, checks, alerts, tickets, updates), its account manager and a review
    ds = build("Boulangerie Test SARL")
    manager = make_staff("account_manager", first_name="Camille")
    ds.client.account_manager = manager
    ds.client.save()
    services.meeting_create(actor=manager, client=ds.client, data={
        "scheduled_at": timezone.now() + timedelta(days=1), "decision_maker_id": ds.decision_maker.pk,
        "account_manager_id": manager.pk, "concerns": "Backups of the shop laptops"})
    browser_log_in(page, live_server.url, manager)

    # when they open the client's scorecard from the menu, note its figures, then open the review
    page.click("[data-nav=scorecards]")
    page.click("text=Boulangerie Test SARL")
    expect(page.locator("h1")).to_contain_text("Scorecard: Boulangerie Test SARL")
    managed = page.locator("[data-testid=metric-managed_devices] td.num").first.inner_text()
    overall = page.locator("[data-testid=overall]").inner_text()
    managed_value = float(re.search(r"([\d.]+) %", managed).group(1))  # type: ignore[union-attr]
    overall_value = re.search(r"([\d.]+) %", overall).group(1)  # type: ignore[union-attr]
    page.click("[data-testid=meeting-link]")
    expect(page.locator("h1")).to_contain_text("Business review: Boulangerie Test SARL")
    # and publish the deck, then download both files
    page.click("[data-testid=publish-deck]")
    expect(page.locator("[data-testid=decks]")).to_contain_text("Version 1")
    with page.expect_download() as pptx_download:
        page.click("[data-testid=deck-pptx]")
    with page.expect_download() as pdf_download:
        page.click("[data-testid=deck-pdf]")
    pptx = open(pptx_download.value.path(), "rb").read()  # noqa: SIM115
    pdf = open(pdf_download.value.path(), "rb").read()  # noqa: SIM115

    # then the presentation has the standard slides and its native chart holds the page's figure
    slides = Presentation(io.BytesIO(pptx)).slides
    titles = [s.shapes.title.text for s in slides]
    assert titles[0] == "Business review: Boulangerie Test SARL" and "Client concerns" in titles
    chart = next(s.chart for s in slides[3].shapes if s.has_chart)
    categories = list(chart.plots[0].categories)
    current = list(chart.plots[0].series)[1]
    assert current.values[categories.index("Managed devices")] == managed_value
    # and the PDF shows the same overall score and the client's concern
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert f"{overall_value} %" in text and "Backups of the shop laptops" in text
