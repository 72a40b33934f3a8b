"""Scorecard pages, the portfolio, the portal's scorecard and decks, settings and the API."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tenfold.accounts.testing import bearer, make_api_token, make_portal_user, make_staff
from tenfold.clients.models import Client
from tenfold.reporting import services
from tenfold.reporting.models import ScorecardSettings, ScorecardSnapshot
from tenfold.reporting.scorecard import METRIC_KEYS, Period
from tenfold.reporting.tests.dataset import NOW, build
from tenfold.reporting.tests.test_qbr import meeting_for

pytestmark = pytest.mark.django_db


def browser(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def snapshot(client: Client, start: date, overall: str | None) -> ScorecardSnapshot:
    period = Period("quarter", start)
    return ScorecardSnapshot.objects.create(client=client, period_kind="quarter", period_start=start,
                                            period_end=period.end, as_of=period.end_dt, final=True,
                                            overall=Decimal(overall) if overall else None, metrics=[],
                                            formula_version=1)


def test_portfolio_sorted_by_score_and_trend(django_assert_max_num_queries: Any) -> None:
    from tenfold.reporting.selectors import last_closed_quarter

    # given three clients with last quarter's and the quarter before's snapshots
    last = last_closed_quarter()
    rising, falling, unknown = (Client.objects.create(name=n, status="active") for n in ("Rising", "Falling", "New"))
    snapshot(rising, last.start, "90.0"), snapshot(rising, last.previous().start, "70.0")
    snapshot(falling, last.start, "60.0"), snapshot(falling, last.previous().start, "80.0")
    http = browser(make_staff("account_manager"))
    # when the portfolio is sorted by score, then by trend (descending)
    with django_assert_max_num_queries(12):
        by_score = http.get(reverse("reporting:portfolio") + "?sort=score").content.decode()
    by_trend = http.get(reverse("reporting:portfolio") + "?sort=-change").content.decode()
    # then Falling (60) comes before Rising (90); by trend Rising (+20) first; a client without snapshots is N/A
    assert by_score.index("Falling") < by_score.index("Rising")
    assert by_trend.index("Rising") < by_trend.index("Falling")
    assert "+20.0" in by_trend and "-20.0" in by_trend and "N/A" in by_score and unknown.name in by_score
    # and a search narrows it
    assert "Falling" not in http.get(reverse("reporting:portfolio") + "?q=Rising").content.decode()


def test_scorecard_page_shows_na_with_reason_and_drill_down() -> None:
    # given the hand-built client and last quarter's snapshot
    ds = build()
    http = browser(make_staff("technician"))
    # when its 2025-Q4 page is shown
    page = http.get(reverse("reporting:scorecard", args=[ds.client.pk]) + "?period=2025-Q4").content.decode()
    # then the figures are there and the N/A ones say why
    assert "80.0 %" in page and "4 / 5" in page  # managed devices 4 / 5
    assert "No device in service then has its daily posture kept" in page
    # and the drill-down lists the records behind a metric
    detail = http.get(reverse("reporting:metric_detail", args=[ds.client.pk, "managed_devices"]) + "?period=2025-Q4")
    assert detail.status_code == 200 and "10.0.0.51" in detail.content.decode()
    # and a bad period or metric is a 404
    assert http.get(reverse("reporting:scorecard", args=[ds.client.pk]) + "?period=2025-Q9").status_code == 404
    assert http.get(reverse("reporting:metric_detail", args=[ds.client.pk, "nope"])).status_code == 404


def test_settings_weights_validated_and_saved() -> None:
    # given an administrator
    http = browser(make_staff("admin"))
    form = {f"weight_{k}": "1" for k in METRIC_KEYS} | {
        "antivirus_max_age_days": "3", "patch_grace_days": "14", "backup_window_hours": "26",
        "project_hourly_rate": "90.00"}
    # when a weight of 11 and a negative rate are posted, then the form says so and nothing is saved
    bad = http.post(reverse("reporting:settings"), {**form, "weight_servers": "11", "project_hourly_rate": "-5"})
    assert bad.status_code == 200 and not ScorecardSettings.objects.exists()
    # when valid weights are posted, then they are stored
    assert http.post(reverse("reporting:settings"), {**form, "weight_servers": "4"}).status_code == 302
    assert ScorecardSettings.objects.get().weights["servers"] == 4
    # and a technician may not open the page
    assert browser(make_staff("technician")).get(reverse("reporting:settings")).status_code == 403


def test_portal_sees_its_own_scorecard_and_decks_only() -> None:
    # given two clients, one with a published deck
    ds, other = build(), build("Other Client SAS")
    manager = make_staff("account_manager")
    deck = services.deck_publish(actor=manager, meeting=meeting_for(ds, manager), now=NOW)
    own, stranger = make_portal_user(ds.client, "portal_user"), make_portal_user(other.client, "portal_admin")
    # when the client's portal user opens the scorecard and the decks
    http = browser(own)
    page = http.get(reverse("portal:scorecard")).content.decode()
    decks = http.get(reverse("portal:qbr_list")).content.decode()
    pdf = http.get(reverse("portal:qbr_deck", args=[deck.pk, "pdf"]))
    # then they see their company's
    assert "Other Client SAS" not in page and "Other Client SAS" not in decks
    assert "Managed devices" in page and reverse("portal:qbr_deck", args=[deck.pk, "pdf"]) in decks
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF" and pdf.content == bytes(deck.pdf)
    # and another company's portal user gets a 404 for that deck and does not see it listed
    other_http = browser(stranger)
    assert other_http.get(reverse("portal:qbr_deck", args=[deck.pk, "pdf"])).status_code == 404
    listed = other_http.get(reverse("portal:qbr_list")).content.decode()
    assert reverse("portal:qbr_deck", args=[deck.pk, "pdf"]) not in listed
    # and the review itself (notes, concerns) stays staff-only
    assert http.get(reverse("reporting:meeting_detail", args=[deck.meeting_id])).status_code == 403


def test_api_scorecard_period_snapshots_and_bad_input() -> None:
    # given the hand-built client with its 2025-Q4 snapshot
    ds = build()
    services.snapshot_period(ds.client.pk, Period.parse("2025-Q4"), now=NOW)
    headers = bearer(make_api_token(make_staff("owner")))
    http = HttpClient()
    # when 2025-Q4 is asked for
    body = http.get(f"/api/v1/scorecards/clients/{ds.client.pk}/periods/2025-Q4", **headers).json()
    # then it comes from the snapshot with every metric
    assert body["overall"] == "66.3" and body["snapshot_id"] is not None and body["previous_period"] == "2025-Q3"
    managed = next(m for m in body["metrics"] if m["key"] == "managed_devices")
    assert (managed["numerator"], managed["denominator"], managed["value"]) == (4, 5, "80.0")
    antivirus = next(m for m in body["metrics"] if m["key"] == "antivirus")
    assert antivirus["value"] is None and antivirus["reason"] == "no_history"
    snapshots = http.get(f"/api/v1/scorecards/clients/{ds.client.pk}/snapshots", **headers).json()
    assert snapshots["count"] == 1 and snapshots["items"][0]["overall"] == "66.3"
    # and a malformed or future period is refused
    assert http.get(f"/api/v1/scorecards/clients/{ds.client.pk}/periods/2025-Q9", **headers).status_code == 422
    assert http.get(f"/api/v1/scorecards/clients/{ds.client.pk}/periods/2099-Q1", **headers).status_code == 422


def test_api_meeting_decks_and_forged_ids() -> None:
    from pptx import Presentation

    # given the hand-built client and another client's decision maker
    ds, other = build(), build("Forged SAS")
    owner = make_staff("owner")
    headers = bearer(make_api_token(owner))
    http = HttpClient()
    payload = {"client_id": ds.client.pk, "scheduled_at": "2026-03-01T09:00:00+01:00",
               "decision_maker_id": other.decision_maker.pk, "account_manager_id": owner.pk}
    # when a review is scheduled with another client's decision maker, then it is refused and nothing is written
    forged = http.post("/api/v1/qbr-meetings", json.dumps(payload), content_type="application/json", **headers)
    assert forged.status_code == 422 and "decision_maker" in forged.json()["errors"]
    # when scheduled properly, its deck published and downloaded
    payload["decision_maker_id"] = ds.decision_maker.pk
    meeting = http.post("/api/v1/qbr-meetings", json.dumps(payload), content_type="application/json", **headers)
    assert meeting.status_code == 201, meeting.content
    deck = http.post(f"/api/v1/qbr-meetings/{meeting.json()['id']}/decks", content_type="application/json",
                     **headers)
    assert deck.status_code == 201
    pptx = http.get(f"/api/v1/qbr-decks/{deck.json()['id']}/pptx", **headers)
    # then the file is a presentation with the standard slides
    titles = [s.shapes.title.text for s in Presentation(io.BytesIO(pptx.content)).slides]
    assert titles[0] == "Business review: Hand Built SARL" and len(titles) == 7
