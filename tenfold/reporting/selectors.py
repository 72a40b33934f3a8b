"""Reads of scorecards, snapshots, reviews and decks, always scoped to what the actor may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery
from django.utils import timezone

from tenfold.clients.models import Client, ClientStatus
from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible
from tenfold.reporting.models import (
    PeriodKind,
    QbrActionItem,
    QbrCadence,
    QbrDeck,
    QbrMeeting,
    QbrRecommendation,
    ScorecardSettings,
    ScorecardSnapshot,
)
from tenfold.reporting.scorecard import (
    METRIC_KEYS,
    Period,
    Record,
    Scorecard,
    Thresholds,
    compute,
    trend,
)


def scorecard_settings() -> ScorecardSettings:
    """The MSP's scorecard settings (the defaults until an owner or admin saves them)."""
    return ScorecardSettings.objects.order_by("pk").first() or ScorecardSettings()


def weights_of(row: ScorecardSettings) -> dict[str, int]:
    """Every metric's weight (1 unless the settings say otherwise)."""
    stored = row.weights or {}
    return {key: int(stored.get(key, 1)) for key in METRIC_KEYS}


def thresholds_of(row: ScorecardSettings) -> Thresholds:
    return Thresholds(antivirus_max_age_days=row.antivirus_max_age_days, patch_grace_days=row.patch_grace_days,
                      backup_window_hours=row.backup_window_hours)


# --- Scorecards ------------------------------------------------------------------------------------------------


def require_scorecards(actor: Any, action: str = "view") -> None:
    require(actor, "scorecards", action)


def access_scorecard_client(actor: Any, client_id: Any) -> Client:
    """The client whose scorecard is asked for, or NotFound; 403 without the scorecards right."""
    client = get_visible(Client.objects.select_related("account_manager"), actor, client_id)
    require_scorecards(actor)
    return client


def snapshot_scorecard(snapshot: ScorecardSnapshot) -> Scorecard:
    """The scorecard a snapshot froze."""
    return Scorecard.from_json(snapshot.client_id, Period(snapshot.period_kind, snapshot.period_start),
                               snapshot.as_of, snapshot.metrics, snapshot.formula_version, snapshot.pk,
                               snapshot.final)


def final_snapshot(client_id: int, period: Period) -> ScorecardSnapshot | None:
    return ScorecardSnapshot.objects.filter(client_id=client_id, period_kind=period.kind, period_start=period.start,
                                            final=True).first()


def scorecard_for(client_id: int, period: Period, *, now: datetime | None = None) -> Scorecard:
    """A period's scorecard: its final snapshot when it has one, else computed (from history for a closed
    period, live for the period in progress)."""
    snapshot = final_snapshot(client_id, period)
    if snapshot is not None:
        return snapshot_scorecard(snapshot)
    row = scorecard_settings()
    card, _records = compute(client_id, period, weights=weights_of(row), thresholds=thresholds_of(row), now=now)
    return card


def metric_records(client_id: int, period: Period, key: str, *, now: datetime | None = None) -> list[Record]:
    """The records behind one metric of a period, as they are counted now (drill-down)."""
    row = scorecard_settings()
    _card, records = compute(client_id, period, weights=weights_of(row), thresholds=thresholds_of(row),
                             collect=True, now=now)
    return records.get(key, [])


def current_period(kind: str = PeriodKind.QUARTER, now: datetime | None = None) -> Period:
    return Period.containing(kind, (now or timezone.now()).date())


@dataclass(frozen=True)
class Comparison:
    """A period's scorecard beside the previous period's, metric by metric."""

    current: Scorecard
    previous: Scorecard

    def rows(self) -> list[dict[str, Any]]:
        previous = {m.key: m for m in self.previous.metrics}
        result = []
        for area, prev_area in zip(self.current.areas(), self.previous.areas(), strict=True):
            result.append({"area": area, "previous_score": prev_area["score"],
                           "trend": trend(area["score"], prev_area["score"]),
                           "metrics": [{"current": m, "previous": previous[m.key],
                                        "trend": trend(m.value, previous[m.key].value)} for m in area["metrics"]]})
        return result

    @property
    def trend(self) -> str:
        return trend(self.current.overall, self.previous.overall)


def compare(client_id: int, period: Period, *, now: datetime | None = None) -> Comparison:
    """The period's scorecard and the previous period's."""
    return Comparison(scorecard_for(client_id, period, now=now), scorecard_for(client_id, period.previous(), now=now))


def snapshots_visible(actor: Any) -> QuerySet[ScorecardSnapshot]:
    require_scorecards(actor)
    return ScorecardSnapshot.objects.visible_to(actor).select_related("client")


def access_snapshot(actor: Any, snapshot_id: Any) -> ScorecardSnapshot:
    snapshot = get_visible(ScorecardSnapshot.objects.select_related("client"), actor, snapshot_id)
    require_scorecards(actor)
    return snapshot


def portfolio(actor: Any, period: Period) -> QuerySet[Client]:
    """Active clients the actor may see, annotated with the final score of `period` (`score`), of the period before
    (`previous_score`), the change between them (`change`) and the next review due date (`next_qbr`)."""
    require_scorecards(actor)

    def score_of(p: Period) -> Subquery:
        return Subquery(ScorecardSnapshot.objects.filter(client_id=OuterRef("pk"), period_kind=p.kind,
                                                         period_start=p.start, final=True)
                        .values("overall")[:1], output_field=DecimalField(max_digits=5, decimal_places=1))

    from django.db.models import ExpressionWrapper, F

    return (Client.objects.visible_to(actor).filter(status=ClientStatus.ACTIVE).select_related("account_manager")
            .annotate(score=score_of(period), previous_score=score_of(period.previous()),
                      next_qbr=Subquery(QbrCadence.objects.filter(client_id=OuterRef("pk"), active=True)
                                        .values("next_due_on")[:1]))
            .annotate(change=ExpressionWrapper(F("score") - F("previous_score"),
                                               output_field=DecimalField(max_digits=6, decimal_places=1))))


def last_closed_quarter(now: datetime | None = None) -> Period:
    return current_period(PeriodKind.QUARTER, now).previous()


def change_trend(change: Decimal | None) -> str:
    if change is None:
        return ""
    return "up" if change > 0 else "down" if change < 0 else "flat"


# --- Reviews ---------------------------------------------------------------------------------------------------


def _staff(actor: Any) -> None:
    # Reviews, their notes, action items and recommendations are the MSP's working records: the portal sees the
    # published decks only.
    if getattr(actor, "is_portal", True):
        require(None, "scorecards", "view")


def meetings_visible(actor: Any) -> QuerySet[QbrMeeting]:
    require_scorecards(actor)
    _staff(actor)
    return QbrMeeting.objects.visible_to(actor).select_related("client", "decision_maker", "account_manager",
                                                               "technician")


def access_meeting(actor: Any, meeting_id: Any) -> QbrMeeting:
    meeting = get_visible(QbrMeeting.objects.select_related("client", "decision_maker", "account_manager",
                                                            "technician"), actor, meeting_id)
    require_scorecards(actor)
    _staff(actor)
    return meeting


def access_action_item(actor: Any, item_id: Any) -> QbrActionItem:
    item = get_visible(QbrActionItem.objects.select_related("meeting", "client"), actor, item_id)
    require_scorecards(actor)
    _staff(actor)
    return item


def access_recommendation(actor: Any, recommendation_id: Any) -> QbrRecommendation:
    row = get_visible(QbrRecommendation.objects.select_related("meeting", "client", "service"), actor,
                      recommendation_id)
    require_scorecards(actor)
    _staff(actor)
    return row


def decks_visible(actor: Any) -> QuerySet[QbrDeck]:
    require_scorecards(actor)
    return QbrDeck.objects.visible_to(actor).select_related("meeting", "client").defer("pptx", "pdf")


def access_deck(actor: Any, deck_id: Any) -> QbrDeck:
    deck = get_visible(QbrDeck.objects.select_related("meeting", "client"), actor, deck_id)
    require_scorecards(actor)
    return deck


def cadence_of(client: Client) -> QbrCadence | None:
    return QbrCadence.objects.filter(client=client).first()


def previous_meeting(meeting: QbrMeeting) -> QbrMeeting | None:
    """The client's last held review before this one."""
    return (QbrMeeting.objects.filter(client_id=meeting.client_id, status="held", scheduled_at__lt=meeting.scheduled_at)
            .exclude(pk=meeting.pk).order_by("-scheduled_at").first())
