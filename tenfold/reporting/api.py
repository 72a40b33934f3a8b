"""REST endpoints of scorecards (current, a period, snapshots), the portfolio, business reviews, action items
and decks."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status

from tenfold.clients.selectors import access_client
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.errors import NotFound, ValidationError
from tenfold.core.roles import require
from tenfold.reporting import selectors, services
from tenfold.reporting.schemas import (
    ActionItemIn,
    ActionItemOut,
    CreatedOut,
    DealValuesIn,
    DeckOut,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
    PortfolioOut,
    ScorecardOut,
    SnapshotOut,
)
from tenfold.reporting.scorecard import Period
from tenfold.reporting.selectors import Comparison

scorecards_router = Router(tags=["scorecards"])
meetings_router = Router(tags=["business reviews"])
items_router = Router(tags=["business reviews"])
decks_router = Router(tags=["business reviews"])


class ListParams(Schema):
    page: int = 1
    page_size: int | None = None


class PortfolioParams(Schema):
    q: str | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class MeetingFilters(Schema):
    client_id: int | None = None
    status: str | None = None
    page: int = 1
    page_size: int | None = None


def _scorecard_body(comparison: Comparison) -> dict[str, Any]:
    current, previous = comparison.current, comparison.previous
    before = {m.key: m for m in previous.metrics}
    return {"client_id": current.client_id, "period": current.period.code, "previous_period": previous.period.code,
            "as_of": current.as_of, "overall": current.overall, "previous_overall": previous.overall,
            "trend": comparison.trend, "snapshot_id": current.snapshot_id, "formula_version": current.formula_version,
            "metrics": [{"key": m.key, "area": m.definition.area, "label": str(m.definition.label), "value": m.value,
                         "numerator": m.numerator, "denominator": m.denominator, "weight": m.weight,
                         "reason": m.reason, "previous_value": before[m.key].value,
                         "trend": row_trend(m.value, before[m.key].value)} for m in current.metrics]}


def row_trend(current: Any, previous: Any) -> str:
    from tenfold.reporting.scorecard import trend

    return trend(current, previous)


@scorecards_router.get("/clients/{client_id}/current", response={200: ScorecardOut, **ERRORS},
                       summary="A client's scorecard for the quarter in progress")
def current_scorecard(request: HttpRequest, client_id: int) -> Any:
    """The quarter in progress (as of now) beside the last quarter (its snapshot when taken)."""
    client = selectors.access_scorecard_client(actor_of(request), client_id)
    return _scorecard_body(selectors.compare(client.pk, selectors.current_period()))


@scorecards_router.get("/clients/{client_id}/periods/{period}", response={200: ScorecardOut, **ERRORS},
                       summary="A client's scorecard for a quarter or month")
def period_scorecard(request: HttpRequest, client_id: int, period: str) -> Any:
    """`period` is a quarter (`2025-Q4`) or a month (`2025-11`); a closed period comes from its snapshot when one
    was taken, else it is recomputed from history."""
    client = selectors.access_scorecard_client(actor_of(request), client_id)
    try:
        parsed = Period.parse(period)
    except ValueError as exc:
        raise ValidationError("Enter a period as 2025-Q4 or 2025-11.", field="period") from exc
    if parsed.start > selectors.current_period(parsed.kind).start:
        raise ValidationError("This period has not started.", field="period")
    return _scorecard_body(selectors.compare(client.pk, parsed))


@scorecards_router.get("/clients/{client_id}/snapshots", response={200: Page[SnapshotOut], **ERRORS},
                       summary="A client's scorecard snapshots")
def list_snapshots(request: HttpRequest, client_id: int, params: Query[ListParams]) -> Any:
    actor = actor_of(request)
    client = selectors.access_scorecard_client(actor, client_id)
    return paginate(selectors.snapshots_visible(actor).filter(client=client).order_by("-period_start", "-as_of", "-pk"),
                    params.page, params.page_size)


@scorecards_router.get("/portfolio", response={200: PortfolioOut, **ERRORS},
                       summary="Every client's score for the last closed quarter and its trend")
def portfolio(request: HttpRequest, params: Query[PortfolioParams]) -> Any:
    """Sorted by `ordering`: `score`, `change` (trend), `name`, `next_qbr` (prefix `-` for descending)."""
    period = selectors.last_closed_quarter()
    queryset = selectors.portfolio(actor_of(request), period)
    if params.q:
        queryset = queryset.filter(name__icontains=params.q.strip()[:200])
    queryset = queryset.order_by(*ordering_param(params.ordering, {"score": "score", "change": "change",
                                                                   "name": "name", "next_qbr": "next_qbr"}, "score"))
    page = paginate(queryset, params.page, params.page_size)
    page["items"] = [{"client_id": c.pk, "client": c.name, "score": c.score, "previous_score": c.previous_score,
                      "change": c.change, "trend": selectors.change_trend(c.change), "next_qbr": c.next_qbr}
                     for c in page["items"]]
    return {"period": period.code, **page}


# --- Meetings --------------------------------------------------------------------------------------------------


@meetings_router.get("", response={200: Page[MeetingOut], **ERRORS}, summary="List business reviews")
def list_meetings(request: HttpRequest, filters: Query[MeetingFilters]) -> Any:
    queryset = selectors.meetings_visible(actor_of(request)).prefetch_related("other_contacts")
    if filters.client_id is not None:
        queryset = queryset.filter(client_id=filters.client_id)
    if filters.status:
        queryset = queryset.filter(status=filters.status[:20])
    return paginate(queryset.order_by("-scheduled_at", "-pk"), filters.page, filters.page_size)


@meetings_router.post("", response={201: MeetingOut, **ERRORS}, summary="Schedule a business review")
def create_meeting(request: HttpRequest, payload: MeetingIn) -> Any:
    actor = actor_of(request)
    require(actor, "scorecards", "add")
    if getattr(actor, "is_portal", True):
        require(None, "scorecards", "add")
    data = payload.model_dump()
    client = access_client(actor, data.pop("client_id"))
    if data.get("account_manager_id") is None:
        data.pop("account_manager_id")
    return Status(201, services.meeting_create(actor=actor, client=client, data=data))


@meetings_router.get("/{meeting_id}", response={200: MeetingOut, **ERRORS}, summary="Get a business review")
def get_meeting(request: HttpRequest, meeting_id: int) -> Any:
    return selectors.access_meeting(actor_of(request), meeting_id)


@meetings_router.patch("/{meeting_id}", response={200: MeetingOut, **ERRORS}, summary="Change a business review")
def update_meeting(request: HttpRequest, meeting_id: int, payload: MeetingPatch) -> Any:
    actor = actor_of(request)
    meeting = selectors.access_meeting(actor, meeting_id)
    data = payload.model_dump(exclude_unset=True)
    status = data.pop("status", None)
    if data:
        meeting = services.meeting_update(actor=actor, meeting=meeting, data=data)
    if status is not None:
        meeting = services.meeting_set_status(actor=actor, meeting=meeting, status=status)
    return meeting


@meetings_router.get("/{meeting_id}/invite.ics", response={200: None, **ERRORS}, summary="The calendar invite",
                     openapi_extra={"responses": {"200": {"description": "An iCalendar invite.",
                                                          "content": {"text/calendar": {}}}}})
def meeting_invite(request: HttpRequest, meeting_id: int) -> Any:
    from tenfold.reporting.qbr import ics

    meeting = selectors.access_meeting(actor_of(request), meeting_id)
    return HttpResponse(ics(meeting), content_type="text/calendar; charset=utf-8")


@meetings_router.get("/{meeting_id}/action-items", response={200: list[ActionItemOut], **ERRORS},
                     summary="A review's action items")
def list_action_items(request: HttpRequest, meeting_id: int) -> Any:
    meeting = selectors.access_meeting(actor_of(request), meeting_id)
    return list(meeting.action_items.order_by("pk")[:500])


@meetings_router.post("/{meeting_id}/action-items", response={201: ActionItemOut, **ERRORS},
                      summary="Add an action item")
def create_action_item(request: HttpRequest, meeting_id: int, payload: ActionItemIn) -> Any:
    actor = actor_of(request)
    meeting = selectors.access_meeting(actor, meeting_id)
    return Status(201, services.action_item_create(actor=actor, meeting=meeting, data=payload.model_dump()))


@meetings_router.post("/{meeting_id}/decks", response={201: DeckOut, **ERRORS},
                      summary="Publish the review's deck (PPTX and PDF)")
def publish_deck(request: HttpRequest, meeting_id: int) -> Any:
    """Freezes the scorecards in snapshots and stores both files; a later publication is a new version."""
    actor = actor_of(request)
    meeting = selectors.access_meeting(actor, meeting_id)
    return Status(201, services.deck_publish(actor=actor, meeting=meeting))


@items_router.post("/{item_id}/ticket", response={201: CreatedOut, **ERRORS}, summary="Make a ticket of an action item")
def action_item_ticket(request: HttpRequest, item_id: int) -> Any:
    actor = actor_of(request)
    ticket = services.action_item_to_ticket(actor=actor, item=selectors.access_action_item(actor, item_id))
    return Status(201, {"id": ticket.pk, "number": ticket.number})


@items_router.post("/{item_id}/deal", response={201: CreatedOut, **ERRORS}, summary="Make a deal of an action item")
def action_item_deal(request: HttpRequest, item_id: int, payload: DealValuesIn) -> Any:
    actor = actor_of(request)
    item = selectors.access_action_item(actor, item_id)
    deal = services.action_item_to_deal(actor=actor, item=item, monthly_value=payload.monthly_value,
                                        one_off_value=payload.one_off_value)
    return Status(201, {"id": deal.pk, "number": ""})


@decks_router.get("", response={200: list[DeckOut], **ERRORS}, summary="List published decks")
def list_decks(request: HttpRequest, meeting_id: int | None = None) -> Any:
    queryset = selectors.decks_visible(actor_of(request))
    if meeting_id is not None:
        queryset = queryset.filter(meeting_id=meeting_id)
    return list(queryset.order_by("-published_at", "-pk")[:200])


def _file(request: HttpRequest, deck_id: int, fmt: str) -> HttpResponse:
    from tenfold.reporting.views import deck_file

    deck = selectors.access_deck(actor_of(request), deck_id)
    if fmt not in ("pptx", "pdf"):
        raise NotFound()
    return deck_file(deck, fmt)


@decks_router.get("/{deck_id}/pptx", response={200: None, **ERRORS}, summary="Download a deck as PPTX",
                  openapi_extra={"responses": {"200": {"description": "The editable presentation.", "content": {
                      "application/vnd.openxmlformats-officedocument.presentationml.presentation": {}}}}})
def download_pptx(request: HttpRequest, deck_id: int) -> Any:
    return _file(request, deck_id, "pptx")


@decks_router.get("/{deck_id}/pdf", response={200: None, **ERRORS}, summary="Download a deck as PDF",
                  openapi_extra={"responses": {"200": {"description": "The deck as a PDF.",
                                                       "content": {"application/pdf": {}}}}})
def download_pdf(request: HttpRequest, deck_id: int) -> Any:
    return _file(request, deck_id, "pdf")
