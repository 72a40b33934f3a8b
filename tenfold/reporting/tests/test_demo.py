"""The demo's scorecards and reviews: eight quarters of snapshots per active client, a held review of
Boulangerie Martin SARL with its published deck, the next one scheduled; and the time it adds to the seed."""

from __future__ import annotations

import random
import time

import pytest

from tenfold.clients.models import Client, ClientStatus
from tenfold.demo.seed import seed_demo
from tenfold.reporting.models import QbrDeck, QbrMeeting, ScorecardSnapshot

pytestmark = pytest.mark.django_db


def test_demo_scorecards_and_review(monkeypatch: pytest.MonkeyPatch) -> None:
    import tenfold.demo.reporting as demo

    spent: list[float] = []
    original = demo.seed_scorecards

    def timed(rng: random.Random) -> dict[str, int]:
        started = time.perf_counter()
        result = original(rng)
        spent.append(time.perf_counter() - started)
        return result

    monkeypatch.setattr(demo, "seed_scorecards", timed)
    seed_demo()
    active = Client.objects.filter(status=ClientStatus.ACTIVE).count()
    assert ScorecardSnapshot.objects.filter(final=True).count() == 8 * active
    quarters = sorted(set(ScorecardSnapshot.objects.filter(final=True).values_list("period_start", flat=True)))
    assert len(quarters) == 8
    bakery = Client.objects.get(name="Boulangerie Martin SARL")
    held = QbrMeeting.objects.get(client=bakery, status="held")
    assert QbrMeeting.objects.filter(client=bakery, status="planned", scheduled_at__gt=held.scheduled_at).count() == 1
    deck = QbrDeck.objects.get(meeting=held)
    assert bytes(deck.pptx)[:2] == b"PK" and bytes(deck.pdf)[:4] == b"%PDF"
    assert held.action_items.filter(ticket__isnull=False).count() == 1
    assert spent and spent[0] < 5.0, f"seed_scorecards took {spent[0]:.2f} s"
