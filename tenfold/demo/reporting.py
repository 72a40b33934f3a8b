"""Demo scorecards and business reviews.

For every active demo client, the last eight closed quarters get their final snapshot from the scorecard engine
itself: `reporting.services.snapshot_period`, the function the daily period-end task uses, recomputes each quarter
from the two years of raw history `scorehistory.seed_score_history` wrote (device lifecycles, discovery, daily
check rollups, alerts, update listings and installs, tickets' SLA outcomes). Nothing is generated here: a snapshot
equals what the engine computes for that period from the database. Antivirus and data protection are kept as
current state only, so those two metrics are "no history" (N/A) in closed quarters, as in a real deployment.

"Boulangerie Martin SARL" also gets a review held six weeks ago (action items, one already a ticket, the
scorecard recommendations and a published deck) and the next one scheduled, with its quarterly cadence."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from tenfold.clients.models import Client, ClientStatus
from tenfold.reporting import services
from tenfold.reporting.models import PeriodKind, QbrCadence
from tenfold.reporting.scorecard import Period

QUARTERS = 8
REVIEW_CLIENT = "Boulangerie Martin SARL"


def past_quarters(now: Any) -> list[Period]:
    """The closed quarters the demo snapshots, oldest first."""
    period = Period.containing(PeriodKind.QUARTER, now.date())
    periods = []
    for _back in range(QUARTERS):
        period = period.previous()
        periods.append(period)
    return periods[::-1]


def seed_scorecards(rng: random.Random, now: Any = None) -> dict[str, int]:
    """Snapshot the last eight closed quarters of every active client through the engine, and write the demo
    reviews; returns counts."""
    now = now or timezone.now()
    written = 0
    for client_id in Client.objects.filter(status=ClientStatus.ACTIVE).order_by("pk").values_list("pk", flat=True):
        for period in past_quarters(now):
            services.snapshot_period(client_id, period, now=now)
            written += 1
    decks = _seed_reviews(now)
    return {"snapshots": written, "decks": decks}


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
