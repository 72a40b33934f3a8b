"""Writes of scorecards and business reviews: validate, write, audit, emit — in one transaction.

Snapshots are written once: a final snapshot per client and closed period (a unique constraint; a second attempt
returns the first row), and a deck snapshot per published deck. Nothing updates a snapshot or a published deck."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client, ClientStatus, Contact
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.roles import STAFF_ROLES, Role, require
from tenfold.core.writes import apply_fields, clean_or_raise
from tenfold.reporting.models import (
    ActionKind,
    MeetingStatus,
    PeriodKind,
    QbrActionItem,
    QbrCadence,
    QbrDeck,
    QbrMeeting,
    QbrRecommendation,
    ScorecardSettings,
    ScorecardSnapshot,
)
from tenfold.reporting.scorecard import METRIC_KEYS, Period, Scorecard, compute
from tenfold.reporting.selectors import final_snapshot, scorecard_settings, thresholds_of, weights_of

MEETING_FIELDS = ("scheduled_at", "duration_minutes", "location", "decision_maker_id", "account_manager_id",
                  "technician_id", "agenda", "notes", "concerns", "decisions")
ACTION_FIELDS = ("title", "description", "kind")
MAX_WEIGHT = 10


def _staff(actor: Any) -> None:
    if getattr(actor, "is_portal", True):
        raise PermissionDenied()


# --- Settings --------------------------------------------------------------------------------------------------


@transaction.atomic
def settings_update(*, actor: Any, data: dict[str, Any]) -> ScorecardSettings:
    """Change the metric weights and thresholds (owners and administrators)."""
    require(actor, "settings", "change")
    row = ScorecardSettings.objects.select_for_update().order_by("pk").first() or ScorecardSettings(pk=1)
    before = audit.snapshot(row) if row.pk else {}
    data = dict(data)
    if "weights" in data:
        weights = data.pop("weights") or {}
        if not isinstance(weights, dict) or set(weights) - set(METRIC_KEYS):
            raise ValidationError(_("Unknown metric."), field="weights")
        errors = {}
        for key, value in weights.items():
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WEIGHT:
                errors[f"weights.{key}"] = [str(_("Enter a whole number between 0 and 10."))]
        if errors:
            raise ValidationError(_("Enter a whole number between 0 and 10."), errors=errors)
        row.weights = {**weights_of(row), **weights}
    if "project_hourly_rate" in data:
        try:
            rate = Decimal(str(data["project_hourly_rate"]))
        except (InvalidOperation, ValueError) as exc:
            raise ValidationError(_("Enter an amount."), field="project_hourly_rate") from exc
        if rate < 0 or not rate.is_finite():
            raise ValidationError(_("Amounts cannot be negative."), field="project_hourly_rate")
        data["project_hourly_rate"] = rate
    apply_fields(row, ("antivirus_max_age_days", "patch_grace_days", "backup_window_hours", "project_hourly_rate"),
                 data)
    clean_or_raise(row)
    row.save()
    changes = audit.diff(before, audit.snapshot(row))
    if changes:
        audit.record(actor, "scorecard_settings.updated", row, changes=changes)
    return row


# --- Snapshots -------------------------------------------------------------------------------------------------


def _snapshot_row(card: Scorecard, *, final: bool) -> ScorecardSnapshot:
    return ScorecardSnapshot(client_id=card.client_id, period_kind=card.period.kind, period_start=card.period.start,
                             period_end=card.period.end, as_of=card.as_of, final=final, overall=card.overall,
                             metrics=card.metrics_json(), formula_version=card.formula_version)


def snapshot_period(client_id: int, period: Period, *, now: datetime | None = None) -> ScorecardSnapshot:
    """The final snapshot of a closed period: the existing one, or computed now from history and stored."""
    if not period.is_closed(now):
        raise ValidationError(_("This period is not over yet."), field="period")
    existing = final_snapshot(client_id, period)
    if existing is not None:
        return existing
    row = scorecard_settings()
    card, _records = compute(client_id, period, weights=weights_of(row), thresholds=thresholds_of(row), now=now)
    snapshot = _snapshot_row(card, final=True)
    try:
        with transaction.atomic():
            snapshot.save()
    except IntegrityError:
        # Another worker wrote it first: theirs stands.
        found = final_snapshot(client_id, period)
        if found is None:
            raise
        return found
    return snapshot


def snapshot_closed_periods(now: datetime | None = None) -> dict[str, int]:
    """Snapshot the last closed quarter and month of every active client (idempotent: kept rows are reused)."""
    now = now or timezone.now()
    written = kept = 0
    periods = [Period.containing(kind, now.date()).previous() for kind in (PeriodKind.QUARTER, PeriodKind.MONTH)]
    for client_id in Client.objects.filter(status=ClientStatus.ACTIVE).values_list("pk", flat=True).order_by("pk"):
        for period in periods:
            if final_snapshot(client_id, period) is not None:
                kept += 1
                continue
            snapshot_period(client_id, period, now=now)
            written += 1
    return {"written": written, "kept": kept}


def snapshot_now(client_id: int, period: Period, *, now: datetime | None = None) -> ScorecardSnapshot:
    """A snapshot of the period as of now (closed: its final snapshot; in progress: a new deck snapshot)."""
    now = now or timezone.now()
    if period.is_closed(now):
        return snapshot_period(client_id, period, now=now)
    row = scorecard_settings()
    card, _records = compute(client_id, period, weights=weights_of(row), thresholds=thresholds_of(row), now=now)
    snapshot = _snapshot_row(card, final=False)
    snapshot.save()
    return snapshot


# --- Cadence ---------------------------------------------------------------------------------------------------


@transaction.atomic
def cadence_set(*, actor: Any, client: Client, interval_months: int, next_due_on: date,
                active: bool = True) -> QbrCadence:
    """Set how often a client's reviews are due and the next due date."""
    require(actor, "scorecards", "change")
    _staff(actor)
    row = QbrCadence.objects.filter(client=client).first() or QbrCadence(client=client)
    before = audit.snapshot(row) if row.pk else {}
    row.interval_months, row.next_due_on, row.active = interval_months, next_due_on, active
    clean_or_raise(row)
    row.save()
    audit.record(actor, "qbr_cadence.set", row, changes=audit.diff(before, audit.snapshot(row)))
    return row


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


# --- Meetings --------------------------------------------------------------------------------------------------


def _check_people(client: Client, data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    decision_maker = data.get("decision_maker_id")
    if decision_maker is None or not Contact.objects.filter(pk=decision_maker, client=client,
                                                            is_decision_maker=True).exists():
        # Never confirm that another client's contact exists.
        errors["decision_maker"] = [str(_("Choose one of this client's decision makers: a review needs one."))]
    users = get_user_model().objects.filter(is_active=True)
    manager = data.get("account_manager_id")
    if manager is None or not users.filter(pk=manager, role__in=[Role.OWNER, Role.ADMIN, Role.ACCOUNT_MANAGER,
                                                                   Role.SERVICE_MANAGER]).exists():
        errors["account_manager"] = [str(_("Choose the account manager (an active staff member)."))]
    technician = data.get("technician_id")
    if technician is not None:
        tech = users.filter(pk=technician, role__in=list(STAFF_ROLES)).first()
        scope = tech.client_scope() if tech is not None else None
        if tech is None or (scope is not None and client.pk not in scope):
            errors["technician"] = [str(_("Choose an active staff member who works for this client."))]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)


def _other_contacts(client: Client, ids: Any) -> list[int]:
    ids = [int(i) for i in (ids or [])]
    if len(set(ids)) != Contact.objects.filter(client=client, pk__in=ids).count():
        raise ValidationError(_("Choose contacts of this client."), field="other_contact_ids")
    return ids


@transaction.atomic
def meeting_create(*, actor: Any, client: Client, data: dict[str, Any]) -> QbrMeeting:
    """Schedule a business review with a client (a decision maker and the account manager attend)."""
    require(actor, "scorecards", "add")
    _staff(actor)
    data = dict(data)
    data.setdefault("account_manager_id", client.account_manager_id or actor.pk)
    others = _other_contacts(client, data.pop("other_contact_ids", None))
    _check_people(client, data)
    meeting = QbrMeeting(client=client, uid=f"{uuid.uuid4()}@tenfold")
    apply_fields(meeting, MEETING_FIELDS, data)
    clean_or_raise(meeting)
    meeting.save()
    meeting.other_contacts.set(others)
    cadence = QbrCadence.objects.filter(client=client).first()
    if cadence is None:
        QbrCadence.objects.create(client=client, next_due_on=timezone.localdate(meeting.scheduled_at))
    audit.record(actor, "qbr_meeting.created", meeting, changes=audit.snapshot(meeting, list(MEETING_FIELDS)))
    events.emit("qbr_meeting.created", client_id=client.pk, payload={"meeting_id": meeting.pk,
                                                                     "client_id": client.pk})
    return meeting


@transaction.atomic
def meeting_update(*, actor: Any, meeting: QbrMeeting, data: dict[str, Any]) -> QbrMeeting:
    """Change a review: its date, attendees, agenda, notes, concerns and decisions."""
    require(actor, "scorecards", "change")
    _staff(actor)
    meeting = QbrMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict(_("A cancelled review cannot be changed."))
    data = dict(data)
    others = data.pop("other_contact_ids", None)
    before = audit.snapshot(meeting)
    merged = {f: getattr(meeting, f) for f in MEETING_FIELDS} | data
    _check_people(meeting.client, merged)
    apply_fields(meeting, MEETING_FIELDS, data)
    if "scheduled_at" in data or "duration_minutes" in data or "location" in data:
        meeting.sequence += 1  # calendar clients replace the invite they hold
    clean_or_raise(meeting)
    meeting.save()
    if others is not None:
        meeting.other_contacts.set(_other_contacts(meeting.client, others))
    changes = audit.diff(before, audit.snapshot(meeting))
    if changes:
        audit.record(actor, "qbr_meeting.updated", meeting, changes=changes)
    return meeting


@transaction.atomic
def meeting_set_status(*, actor: Any, meeting: QbrMeeting, status: str) -> QbrMeeting:
    """Mark a review held (the client's next review becomes due one interval later) or cancelled."""
    require(actor, "scorecards", "change")
    _staff(actor)
    meeting = QbrMeeting.objects.select_for_update().get(pk=meeting.pk)
    if status not in (MeetingStatus.HELD, MeetingStatus.CANCELLED):
        raise ValidationError(_("Choose held or cancelled."), field="status")
    if meeting.status != MeetingStatus.PLANNED:
        raise Conflict(_("Only a planned review can be marked held or cancelled."))
    previous, meeting.status = meeting.status, status
    if status == MeetingStatus.CANCELLED:
        meeting.sequence += 1
    meeting.save(update_fields=["status", "sequence", "updated_at"])
    if status == MeetingStatus.HELD:
        cadence = QbrCadence.objects.select_for_update().filter(client_id=meeting.client_id).first()
        held_on = timezone.localdate(meeting.scheduled_at)
        if cadence is not None:
            cadence.next_due_on = add_months(held_on, cadence.interval_months)
            cadence.save(update_fields=["next_due_on", "updated_at"])
    audit.record(actor, f"qbr_meeting.{status}", meeting, changes={"status": [previous, status]})
    events.emit(f"qbr_meeting.{status}", client_id=meeting.client_id, payload={"meeting_id": meeting.pk,
                                                                              "client_id": meeting.client_id})
    return meeting


# --- Action items ----------------------------------------------------------------------------------------------


@transaction.atomic
def action_item_create(*, actor: Any, meeting: QbrMeeting, data: dict[str, Any]) -> QbrActionItem:
    """Record something agreed at a review."""
    require(actor, "scorecards", "change")
    _staff(actor)
    item = QbrActionItem(client_id=meeting.client_id, meeting=meeting)
    apply_fields(item, ACTION_FIELDS, {"kind": ActionKind.TASK, **data})
    if item.ticket_id or item.deal_id:
        raise ValidationError(_("Create the item first, then turn it into a ticket or a deal."))
    clean_or_raise(item)
    item.save()
    audit.record(actor, "qbr_action_item.created", item, changes=audit.snapshot(item, list(ACTION_FIELDS)))
    return item


@transaction.atomic
def action_item_set_done(*, actor: Any, item: QbrActionItem, done: bool) -> QbrActionItem:
    require(actor, "scorecards", "change")
    _staff(actor)
    item.done = bool(done)
    item.save(update_fields=["done", "updated_at"])
    audit.record(actor, "qbr_action_item.updated", item, changes={"done": item.done})
    return item


def _locked_item(item: QbrActionItem) -> QbrActionItem:
    item = QbrActionItem.objects.select_for_update().select_related("meeting", "client").get(pk=item.pk)
    if item.ticket_id or item.deal_id:
        raise Conflict(_("This action item already became a ticket or a deal."))
    return item


@transaction.atomic
def action_item_to_ticket(*, actor: Any, item: QbrActionItem) -> Any:
    """Open a service-desk ticket for an action item (once)."""
    from tenfold.servicedesk.services import ticket_create

    require(actor, "scorecards", "change")
    _staff(actor)
    item = _locked_item(item)
    description = item.description or ""
    note = str(_("Agreed at the business review of %(date)s.") % {"date": f"{item.meeting.scheduled_at:%Y-%m-%d}"})
    ticket = ticket_create(actor=actor, client=item.client, data={
        "title": item.title[:200], "description": f"{description}\n\n{note}".strip(), "type": "request",
        "contact_id": item.meeting.decision_maker_id})
    item.ticket, item.kind = ticket, ActionKind.TICKET
    item.save(update_fields=["ticket", "kind", "updated_at"])
    audit.record(actor, "qbr_action_item.ticket_opened", item, changes={"ticket": ticket.pk})
    return ticket


@transaction.atomic
def action_item_to_deal(*, actor: Any, item: QbrActionItem, monthly_value: Decimal | None = None,
                        one_off_value: Decimal | None = None) -> Any:
    """Open a sales deal for an action item (once), owned by the review's account manager."""
    from tenfold.sales.models import DealSource
    from tenfold.sales.services import deal_create

    require(actor, "scorecards", "change")
    _staff(actor)
    item = _locked_item(item)
    deal = deal_create(actor=actor, client=item.client, data={
        "title": item.title[:200], "owner_id": item.meeting.account_manager_id, "source": DealSource.QBR,
        "close_date": timezone.localdate() + timedelta(days=30), "notes": item.description,
        "monthly_value": monthly_value or Decimal(0), "one_off_value": one_off_value or Decimal(0)})
    item.deal, item.kind = deal, ActionKind.DEAL
    item.save(update_fields=["deal", "kind", "updated_at"])
    audit.record(actor, "qbr_action_item.deal_opened", item, changes={"deal": deal.pk})
    return deal


# --- Recommendations -------------------------------------------------------------------------------------------


@transaction.atomic
def recommendations_refresh(*, actor: Any, meeting: QbrMeeting, now: datetime | None = None) -> list[QbrRecommendation]:
    """Propose services for the client's scorecard gaps (rules in recommendations.py); rows already on the review
    keep their edits, new gaps are added."""
    from tenfold.reporting.recommendations import propose

    require(actor, "scorecards", "change")
    _staff(actor)
    existing = {(r.rule, r.service_id) for r in meeting.recommendations.all()}
    created = []
    for proposal in propose(meeting.client, rate=scorecard_settings().project_hourly_rate, now=now):
        if (proposal.rule, proposal.service_id) in existing:
            continue
        row = QbrRecommendation(client_id=meeting.client_id, meeting=meeting, rule=proposal.rule,
                                title=proposal.title[:200], reason=proposal.reason[:500], kind=proposal.kind,
                                service_id=proposal.service_id, offering_id=proposal.offering_id,
                                quantity=proposal.quantity, unit_price=proposal.unit_price)
        clean_or_raise(row)
        row.save()
        created.append(row)
    if created:
        audit.record(actor, "qbr_recommendations.proposed", meeting, changes={"added": [r.pk for r in created]})
    return created


@transaction.atomic
def recommendation_update(*, actor: Any, recommendation: QbrRecommendation, data: dict[str, Any]) -> QbrRecommendation:
    """Edit a proposal: its title, quantity, price, or whether it is proposed."""
    require(actor, "scorecards", "change")
    _staff(actor)
    if recommendation.quote_id:
        raise Conflict(_("This recommendation is already on a quote."))
    data = dict(data)
    for name in ("quantity", "unit_price"):
        if name in data:
            try:
                data[name] = Decimal(str(data[name]))
            except (InvalidOperation, ValueError) as exc:
                raise ValidationError(_("Enter a number."), field=name) from exc
            if not data[name].is_finite() or data[name] < 0:
                raise ValidationError(_("Amounts cannot be negative."), field=name)
    before = audit.snapshot(recommendation)
    apply_fields(recommendation, ("title", "quantity", "unit_price", "included"), data)
    clean_or_raise(recommendation)
    recommendation.save()
    changes = audit.diff(before, audit.snapshot(recommendation))
    if changes:
        audit.record(actor, "qbr_recommendation.updated", recommendation, changes=changes)
    return recommendation


@transaction.atomic
def recommendations_quote(*, actor: Any, meeting: QbrMeeting) -> Any:
    """Make a deal and a draft quote of the proposed recommendations in one step (sales services)."""
    from tenfold.reporting.recommendations import make_quote

    require(actor, "scorecards", "change")
    _staff(actor)
    rows = list(meeting.recommendations.select_for_update(of=("self",)).filter(included=True, quote__isnull=True)
                .select_related("service", "offering").order_by("pk"))
    if not rows:
        raise ValidationError(_("Propose at least one recommendation that is not on a quote yet."))
    quote = make_quote(actor=actor, meeting=meeting, rows=rows)
    QbrRecommendation.objects.filter(pk__in=[r.pk for r in rows]).update(quote=quote)
    audit.record(actor, "qbr_recommendations.quoted", meeting, changes={"quote": quote.pk,
                                                                       "recommendations": [r.pk for r in rows]})
    return quote


# --- Decks -----------------------------------------------------------------------------------------------------


@transaction.atomic
def deck_publish(*, actor: Any, meeting: QbrMeeting, now: datetime | None = None) -> QbrDeck:
    """Freeze the review's scorecards in snapshots, render the deck as PPTX and PDF, and store them (never
    changed afterwards; a later publication is a new version)."""
    from tenfold.reporting.deck import render_pdf, render_pptx
    from tenfold.reporting.qbr import deck_content

    require(actor, "scorecards", "change")
    _staff(actor)
    now = now or timezone.now()
    meeting = QbrMeeting.objects.select_for_update().select_related("client").get(pk=meeting.pk)
    period = Period.containing(PeriodKind.QUARTER, min(now, meeting.scheduled_at).date())
    current = snapshot_now(meeting.client_id, period, now=now)
    previous = snapshot_period(meeting.client_id, period.previous(), now=now)
    content = deck_content(meeting, current, previous, now=now)
    version = (meeting.decks.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    deck = QbrDeck(client_id=meeting.client_id, meeting=meeting, version=version, snapshot=current,
                   previous_snapshot=previous, content=content, pptx=render_pptx(content), pdf=render_pdf(content),
                   published_at=now, published_by=actor if getattr(actor, "pk", None) else None)
    try:
        with transaction.atomic():
            deck.save()
    except IntegrityError as exc:
        raise Conflict(_("Another deck was published at the same time; try again.")) from exc
    audit.record(actor, "qbr_deck.published", deck, changes={"version": version, "snapshot": current.pk,
                                                            "previous_snapshot": previous.pk})
    events.emit("qbr_deck.published", client_id=meeting.client_id, payload={"deck_id": deck.pk,
                                                                           "meeting_id": meeting.pk})
    return deck
