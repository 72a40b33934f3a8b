"""Isolation cases of the scorecard and business review pages and API (see tenfold/core/isolation.py)."""

from __future__ import annotations

from typing import Any

from tenfold.clients.models import Contact
from tenfold.core.isolation import Case, World, register
from tenfold.reporting.models import (
    QbrActionItem,
    QbrCadence,
    QbrDeck,
    QbrMeeting,
    QbrRecommendation,
    ScorecardSnapshot,
)
from tenfold.sales.models import Deal
from tenfold.servicedesk.models import Ticket

MEETINGS = (QbrMeeting, QbrActionItem, QbrRecommendation, QbrCadence)
AGENDA_MARKER = "Isolation agenda A-7731"


def decision_maker_a(world: World) -> Contact:
    if "qbr_dm_a" not in world.extra:
        world.extra["qbr_dm_a"] = Contact.objects.create(client=world.client_a, first_name="Denise", last_name="Maker",
                                                         email="denise.maker@client-a.example", is_decision_maker=True)
    return world.extra["qbr_dm_a"]


def meeting_a(world: World) -> QbrMeeting:
    if "qbr_meeting_a" not in world.extra:
        from django.utils import timezone

        world.extra["qbr_meeting_a"] = QbrMeeting.objects.create(
            client=world.client_a, scheduled_at=timezone.now(), decision_maker=decision_maker_a(world),
            account_manager=world.users["account_manager"], agenda=AGENDA_MARKER, uid="isolation-a@tenfold")
    return world.extra["qbr_meeting_a"]


def item_a(world: World) -> QbrActionItem:
    if "qbr_item_a" not in world.extra:
        world.extra["qbr_item_a"] = QbrActionItem.objects.create(client=world.client_a, meeting=meeting_a(world),
                                                                 title="Isolation action")
    return world.extra["qbr_item_a"]


def recommendation_a(world: World) -> QbrRecommendation:
    if "qbr_rec_a" not in world.extra:
        world.extra["qbr_rec_a"] = QbrRecommendation.objects.create(
            client=world.client_a, meeting=meeting_a(world), rule="warranty", title="Replacement project",
            kind="one_off", quantity=3, unit_price=90)
    return world.extra["qbr_rec_a"]


def deck_a(world: World) -> QbrDeck:
    if "qbr_deck_a" not in world.extra:
        from tenfold.reporting.services import deck_publish

        world.extra["qbr_deck_a"] = deck_publish(actor=world.users["owner"], meeting=meeting_a(world))
    return world.extra["qbr_deck_a"]


def client_params(world: World) -> dict[str, Any]:
    return {"client_id": world.client_a.pk}


def meeting_params(world: World) -> dict[str, Any]:
    return {"meeting_id": meeting_a(world).pk}


def item_params(world: World) -> dict[str, Any]:
    return {"item_id": item_a(world).pk}


def deck_params(world: World) -> dict[str, Any]:
    return {"deck_id": deck_a(world).pk, "fmt": "pdf"}


def api_deck_params(world: World) -> dict[str, Any]:
    return {"deck_id": deck_a(world).pk}


def meeting_form(world: World) -> dict[str, Any]:
    return {"scheduled_at": "2026-12-01T10:00", "duration_minutes": "60", "location": "Lyon",
            "decision_maker": str(decision_maker_a(world).pk),
            "account_manager": str(world.users["account_manager"].pk), "agenda": "New agenda"}


def meeting_api_body(world: World) -> dict[str, Any]:
    return {"client_id": world.client_a.pk, "scheduled_at": "2026-12-01T10:00:00+01:00",
            "decision_maker_id": decision_maker_a(world).pk, "account_manager_id": world.users["account_manager"].pk}


def leak_name(world: World) -> str:
    return str(world.client_a.name)


def leak_agenda(world: World) -> str:
    meeting_a(world)
    return AGENDA_MARKER


def leak_deck(world: World) -> str:
    deck_a(world)
    return str(world.client_a.name)


register(
    Case("ui:reporting:portfolio", "list", "scorecards", staff_only=True, leak=leak_name),
    Case("ui:reporting:settings", "object", "settings", "change", client_owned=False, staff_only=True),
    Case("ui:reporting:scorecard", "object", "scorecards", params=client_params, staff_only=True),
    Case("ui:reporting:client_scorecard_panel", "object", "scorecards", params=client_params, staff_only=True),
    Case("ui:reporting:metric_detail", "object", "scorecards",
         params=lambda w: {"client_id": w.client_a.pk, "key": "managed_devices"}, staff_only=True),
    Case("ui:reporting:cadence_edit", "object", "scorecards", "change", method="POST", params=client_params,
         body=lambda w: {"interval_months": "3", "next_due_on": "2026-12-01", "active": "on"}, models=MEETINGS,
         staff_only=True),
    Case("ui:reporting:meeting_list", "list", "scorecards", staff_only=True, leak=leak_agenda),
    Case("ui:reporting:meeting_create", "create", "scorecards", "add", method="POST", params=client_params,
         body=meeting_form, models=MEETINGS, staff_only=True),
    Case("ui:reporting:meeting_detail", "object", "scorecards", params=meeting_params, staff_only=True),
    Case("ui:reporting:meeting_edit", "object", "scorecards", "change", method="POST", params=meeting_params,
         body=meeting_form, models=MEETINGS, staff_only=True),
    Case("ui:reporting:meeting_status", "object", "scorecards", "change", method="POST", params=meeting_params,
         body=lambda w: {"status": "held"}, models=MEETINGS, staff_only=True),
    Case("ui:reporting:meeting_ics", "object", "scorecards", params=meeting_params, staff_only=True),
    Case("ui:reporting:action_item_create", "object", "scorecards", "change", method="POST", params=meeting_params,
         body=lambda w: {"title": "Follow up"}, models=MEETINGS, staff_only=True),
    Case("ui:reporting:action_item_ticket", "object", "scorecards", "change", method="POST", params=item_params,
         models=(*MEETINGS, Ticket), staff_only=True),
    Case("ui:reporting:action_item_deal", "object", "scorecards", "change", method="POST", params=item_params,
         models=(*MEETINGS, Deal), staff_only=True),
    Case("ui:reporting:recommendations_refresh", "object", "scorecards", "change", method="POST",
         params=meeting_params, models=MEETINGS, staff_only=True),
    Case("ui:reporting:recommendation_edit", "object", "scorecards", "change", method="POST",
         params=lambda w: {"recommendation_id": recommendation_a(w).pk},
         body=lambda w: {f"r{recommendation_a(w).pk}-title": "Edited", f"r{recommendation_a(w).pk}-quantity": "2",
                         f"r{recommendation_a(w).pk}-unit_price": "80"}, models=MEETINGS, staff_only=True),
    Case("ui:reporting:recommendations_quote", "object", "scorecards", "change", method="POST",
         params=lambda w: {"meeting_id": recommendation_a(w).meeting_id}, models=(*MEETINGS, Deal),
         staff_only=True),
    Case("ui:reporting:deck_publish", "object", "scorecards", "change", method="POST", params=meeting_params,
         models=(QbrDeck, ScorecardSnapshot), staff_only=True),
    Case("ui:reporting:deck_view", "object", "scorecards", params=api_deck_params, staff_only=True),
    Case("ui:reporting:deck_download", "object", "scorecards", params=deck_params, staff_only=True),
    Case("ui:portal:scorecard", "list", "scorecards", portal_only=True, leak=leak_name),
    Case("ui:portal:qbr_list", "list", "scorecards", portal_only=True, leak=leak_deck),
    Case("ui:portal:qbr_deck", "object", "scorecards", params=deck_params, portal_only=True),
    # API
    Case("api:GET /api/v1/scorecards/clients/{client_id}/current", "object", "scorecards", params=client_params),
    Case("api:GET /api/v1/scorecards/clients/{client_id}/periods/{period}", "object", "scorecards",
         params=lambda w: {"client_id": w.client_a.pk, "period": "2026-Q1"}),
    Case("api:GET /api/v1/scorecards/clients/{client_id}/snapshots", "object", "scorecards", params=client_params),
    Case("api:GET /api/v1/scorecards/portfolio", "list", "scorecards", leak=leak_name),
    Case("api:GET /api/v1/qbr-meetings", "list", "scorecards", leak=leak_agenda, staff_only=True),
    Case("api:POST /api/v1/qbr-meetings", "create", "scorecards", "add", method="POST", body=meeting_api_body,
         models=MEETINGS, staff_only=True),
    Case("api:GET /api/v1/qbr-meetings/{meeting_id}", "object", "scorecards", params=meeting_params, staff_only=True),
    Case("api:PATCH /api/v1/qbr-meetings/{meeting_id}", "object", "scorecards", "change", method="PATCH",
         params=meeting_params, body=lambda w: {"concerns": "Printer outages"}, models=MEETINGS, staff_only=True),
    Case("api:GET /api/v1/qbr-meetings/{meeting_id}/invite.ics", "object", "scorecards", params=meeting_params,
         staff_only=True),
    Case("api:GET /api/v1/qbr-meetings/{meeting_id}/action-items", "object", "scorecards", params=meeting_params,
         staff_only=True),
    Case("api:POST /api/v1/qbr-meetings/{meeting_id}/action-items", "object", "scorecards", "change",
         method="POST", params=meeting_params, body=lambda w: {"title": "Follow up"}, models=MEETINGS,
         staff_only=True),
    Case("api:POST /api/v1/qbr-meetings/{meeting_id}/decks", "object", "scorecards", "change", method="POST",
         params=meeting_params, models=(QbrDeck, ScorecardSnapshot), staff_only=True),
    Case("api:POST /api/v1/qbr-action-items/{item_id}/ticket", "object", "scorecards", "change", method="POST",
         params=item_params, models=(*MEETINGS, Ticket), staff_only=True),
    Case("api:POST /api/v1/qbr-action-items/{item_id}/deal", "object", "scorecards", "change", method="POST",
         params=item_params, body=lambda w: {"monthly_value": "40.00"}, models=(*MEETINGS, Deal), staff_only=True),
    Case("api:GET /api/v1/qbr-decks", "list", "scorecards", leak=None),
    Case("api:GET /api/v1/qbr-decks/{deck_id}/pptx", "object", "scorecards", params=api_deck_params),
    Case("api:GET /api/v1/qbr-decks/{deck_id}/pdf", "object", "scorecards", params=api_deck_params),
)
