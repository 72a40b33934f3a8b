"""Demo scorecards and business reviews.

For every active demo client: the quarter in progress is computed from the demo records (the real formulas), and
the last eight closed quarters get final snapshots derived from it with a gentle, per-metric trend (the demo's
raw history is only a month deep, so the older quarters are generated, not recomputed; their snapshots say
formula version 1 like real ones). Written in one bulk insert.

"Boulangerie Martin SARL" also gets a review held six weeks ago (action items, one already a ticket, the
scorecard recommendations and a published deck) and the next one scheduled, with its quarterly cadence."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from tenfold.clients.models import Client, ClientStatus
from tenfold.reporting import services
from tenfold.reporting.models import PeriodKind, QbrCadence, ScorecardSnapshot
from tenfold.reporting.scorecard import FORMULA_VERSION, MetricValue, Period, Scorecard, compute

QUARTERS = 8
REVIEW_CLIENT = "Boulangerie Martin SARL"


def _past_metric(rng: random.Random, metric: MetricValue, quarters_back: int, drift: float) -> MetricValue:
    if not metric.measured:
        return MetricValue(metric.key, reason=metric.reason, weight=metric.weight)
    share = metric.numerator / metric.denominator
    # Older quarters were a little worse (the MSP's work shows), with some noise.
    past = min(1.0, max(0.0, share - drift * quarters_back + rng.uniform(-0.04, 0.04)))
    denominator = metric.denominator if metric.denominator < 10_000 else 1000
    return MetricValue(metric.key, round(past * denominator), denominator, metric.weight)


def seed_scorecards(rng: random.Random, now: Any = None) -> dict[str, int]:
    """Write eight quarters of snapshots for every active client, and the demo reviews; returns counts."""
    now = now or timezone.now()
    current = Period.containing(PeriodKind.QUARTER, now.date())
    rows = []
    for client in Client.objects.filter(status=ClientStatus.ACTIVE).order_by("pk"):
        card, _records = compute(client.pk, current, now=now)
        # Metrics kept without history (antivirus, backups) were measured live: use them as the base too.
        drift = rng.uniform(0.005, 0.03)
        period = current
        for back in range(1, QUARTERS + 1):
            period = period.previous()
            metrics = [_past_metric(rng, m, back, drift) for m in card.metrics]
            past = Scorecard(client.pk, period, period.end_dt, metrics, FORMULA_VERSION, final=True)
            rows.append(ScorecardSnapshot(client=client, period_kind=period.kind, period_start=period.start,
                                          period_end=period.end, as_of=period.end_dt, final=True,
                                          overall=past.overall, metrics=past.metrics_json(),
                                          formula_version=FORMULA_VERSION))
    ScorecardSnapshot.objects.bulk_create(rows)
    decks = _seed_reviews(now)
    return {"snapshots": len(rows), "decks": decks}


def _seed_reviews(now: Any) -> int:
    client = Client.objects.filter(name=REVIEW_CLIENT).select_related("account_manager").first()
    if client is None or client.account_manager is None:
        return 0
    decision_maker = client.contacts.filter(is_decision_maker=True).order_by("pk").first()
    if decision_maker is None:
        return 0
    manager = client.account_manager
    technician = type(manager).objects.filter(role="technician", restrict_to_clients=False).order_by("pk").first()
    held_at = (now - timedelta(weeks=6)).replace(hour=9, minute=30, second=0, microsecond=0)
    past = services.meeting_create(actor=manager, client=client, data={
        "scheduled_at": held_at, "duration_minutes": 90, "location": "Boulangerie Martin — laboratoire",
        "decision_maker_id": decision_maker.pk, "account_manager_id": manager.pk,
        "technician_id": technician.pk if technician else None,
        "agenda": "1. Tableau de bord client\n2. Incidents du trimestre\n3. Vos préoccupations\n4. Services proposés",
        "notes": "Bon trimestre ; la caisse du magasin de Villeurbanne a été remplacée.",
        "concerns": "Les sauvegardes des postes des magasins\nLa garantie du serveur de caisse arrive à échéance",
        "decisions": "Étudier la sauvegarde des postes ; devis de remplacement du serveur."})
    item = services.action_item_create(actor=manager, meeting=past, data={
        "title": "Vérifier la sauvegarde des postes des magasins", "description": "Demandé lors de la revue."})
    # The account manager may only read tickets: the service manager opens it.
    service = type(manager).objects.filter(role="service_manager").order_by("pk").first() or manager
    services.action_item_to_ticket(actor=service, item=item)
    services.action_item_create(actor=manager, meeting=past, data={"title": "Chiffrer le remplacement du serveur"})
    services.recommendations_refresh(actor=manager, meeting=past, now=held_at)
    services.deck_publish(actor=manager, meeting=past, now=held_at + timedelta(hours=2))
    services.meeting_set_status(actor=manager, meeting=past, status="held")
    services.meeting_create(actor=manager, client=client, data={
        "scheduled_at": held_at + timedelta(weeks=13), "duration_minutes": 60, "location": "Visioconférence",
        "decision_maker_id": decision_maker.pk, "account_manager_id": manager.pk,
        "agenda": "1. Tableau de bord client\n2. Suivi des décisions\n3. Vos préoccupations"})
    QbrCadence.objects.filter(client=client).update(next_due_on=(held_at + timedelta(weeks=13)).date())
    return 1
