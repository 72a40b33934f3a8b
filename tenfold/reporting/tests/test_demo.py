"""The demo's scorecards and reviews: eight closed quarters per active client, each the engine's own computation
from the demo's two years of raw history; a held review of Boulangerie Martin SARL with its published deck, the
next one scheduled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tenfold.clients.models import Client, ClientStatus
from tenfold.conftest import DemoDatabase
from tenfold.demo import data
from tenfold.reporting.models import PeriodKind, QbrDeck, QbrMeeting, ScorecardSnapshot
from tenfold.reporting.scorecard import NO_HISTORY, NOTHING, Period, compute
from tenfold.reporting.selectors import scorecard_settings, thresholds_of, weights_of

pytestmark = pytest.mark.django_db


def test_demo_past_quarters_are_the_engines_recomputation_of_the_history(demo: DemoDatabase) -> None:
    # given the demo seeded
    # then each active client has a final snapshot of each of the last eight closed quarters
    active = list(Client.objects.filter(status=ClientStatus.ACTIVE).order_by("pk"))
    snapshots = list(ScorecardSnapshot.objects.filter(final=True).order_by("client_id", "period_start"))
    assert len(snapshots) == 8 * len(active)
    last_closed = Period.containing(PeriodKind.QUARTER, timezone.now().date()).previous()
    expected = [last_closed]
    while len(expected) < 8:
        expected.insert(0, expected[0].previous())
    assert sorted({s.period_start for s in snapshots}) == [p.start for p in expected]
    # and each equals, exactly, what the engine computes for that period from the database now
    row = scorecard_settings()
    for snapshot in snapshots:
        period = Period(snapshot.period_kind, snapshot.period_start)
        card, _records = compute(snapshot.client_id, period, weights=weights_of(row), thresholds=thresholds_of(row))
        assert (snapshot.metrics, snapshot.overall, snapshot.as_of) == (card.metrics_json(), card.overall,
                                                                         period.end_dt), (snapshot.client_id, period)
    # and antivirus and data protection are measured from the daily posture history: antivirus in most quarters
    # of most clients, data protection in most quarters (a client without a managed server yet has no protected
    # device: "nothing to measure"); "no history" only in a quarter before any device's posture was kept
    figures = {key: [next(m for m in s.metrics if m["key"] == key) for s in snapshots]
               for key in ("antivirus", "data_protection")}
    assert sum(m["denominator"] > 0 for m in figures["antivirus"]) >= 6 * len(active)
    assert sum(m["denominator"] > 0 for m in figures["data_protection"]) > 4 * len(active)
    for antivirus, protection in zip(figures["antivirus"], figures["data_protection"], strict=True):
        assert (antivirus["reason"] == NO_HISTORY) == (protection["reason"] == NO_HISTORY)
        assert protection["reason"] in ("", NOTHING, NO_HISTORY)
    for key, rows in figures.items():
        # with lapses: neither all good nor all bad
        assert 0 < sum(m["numerator"] for m in rows) < sum(m["denominator"] for m in rows), key
    # and the history is measured: most quarters of most clients have device, update and ticket figures
    measured = [s for s in snapshots if all(m["denominator"] > 0 for m in s.metrics
                                            if m["key"] in ("managed_devices", "os_updates", "ticket_summary"))]
    assert len(measured) >= 6 * len(active)
    assert len({s.overall for s in snapshots}) > len(active) * 4  # quarters differ: real trends, not a copy
    # and the history has its story: one client slipping, the others improving; and the bakery's review
    _check_trends()
    _check_review()


def _check_trends() -> None:
    by_client: dict[int, list[ScorecardSnapshot]] = {}
    for snapshot in ScorecardSnapshot.objects.filter(final=True).order_by("period_start"):
        by_client.setdefault(snapshot.client_id, []).append(snapshot)

    def runs(snapshots: list[ScorecardSnapshot], key: str = "service_availability") -> tuple[int, int]:
        good = total = 0
        for snapshot in snapshots:
            metric = next(m for m in snapshot.metrics if m["key"] == key)
            good, total = good + metric["numerator"], total + metric["denominator"]
        return good, total

    # the client that slips fails its checks more in the last two quarters than a year before
    worse = Client.objects.get(name=data.WORSENING_CLIENT)
    quarters = by_client[worse.pk]
    (late_good, late_runs), (early_good, early_runs) = runs(quarters[-2:]), runs(quarters[2:4])
    assert late_runs > 0 and early_runs > 0
    assert late_good / late_runs < early_good / early_runs
    # and its devices' antivirus lapses more (stale definitions, disabled) in the last two quarters too
    (late_good, late_devices), (early_good, early_devices) = (
        runs(quarters[-2:], "antivirus"), runs(quarters[2:4], "antivirus"))
    assert late_devices > 0 and early_devices > 0
    assert late_good / late_devices < early_good / early_devices
    # and across the other clients, devices are patched sooner at the end than at the start
    others = [v for k, v in by_client.items() if k != worse.pk]

    def patched(index: slice) -> float:
        good = total = 0
        for quarters in others:
            for snapshot in quarters[index]:
                metric = next(m for m in snapshot.metrics if m["key"] == "os_updates")
                good, total = good + metric["numerator"], total + metric["denominator"]
        return good / total

    assert patched(slice(-2, None)) > patched(slice(0, 3))


def _check_review() -> None:
    # the bakery's review was held with its deck, an action item became a ticket, the next one is planned
    bakery = Client.objects.get(name="Boulangerie Martin SARL")
    held = QbrMeeting.objects.get(client=bakery, status="held")
    assert QbrMeeting.objects.filter(client=bakery, status="planned", scheduled_at__gt=held.scheduled_at).count() == 1
    deck = QbrDeck.objects.get(meeting=held)
    assert bytes(deck.pptx)[:2] == b"PK" and bytes(deck.pdf)[:4] == b"%PDF"
    assert held.action_items.filter(ticket__isnull=False).count() == 1
    assert held.scheduled_at < timezone.now() - timedelta(weeks=5)

