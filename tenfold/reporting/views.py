"""Scorecard and business review screens: parse, check access, call a service or selector, render."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenfold.core.errors import TenfoldError, ValidationError
from tenfold.core.lists import Column, ListSpec, render_list
from tenfold.core.roles import has_capability, require
from tenfold.reporting import selectors, services
from tenfold.reporting.forms import (
    ActionItemForm,
    CadenceForm,
    MeetingForm,
    RecommendationForm,
    SettingsForm,
    add_service_errors,
)
from tenfold.reporting.models import MeetingStatus, QbrMeeting
from tenfold.reporting.scorecard import METRIC_BY_KEY, REASONS, Period

PORTFOLIO = ListSpec(
    columns=[
        Column("name", gettext_lazy("Client"), sort="name",
               link=lambda c: reverse("reporting:scorecard", args=[c.pk])),
        Column("score", gettext_lazy("Score"), sort="score",
               accessor=lambda c: f"{Decimal(c.score):.1f} %" if c.score is not None else _("N/A")),
        Column("previous_score", gettext_lazy("Previous score"), sort="previous_score",
               accessor=lambda c: f"{Decimal(c.previous_score):.1f} %" if c.previous_score is not None
               else _("N/A")),
        Column("change", gettext_lazy("Trend"), sort="change", badge=True,
               badge_key=lambda c: f"trend-{selectors.change_trend(c.change) or 'none'}",
               accessor=lambda c: ({"up": "▲", "down": "▼", "flat": "="}.get(selectors.change_trend(c.change), "—")
                                   + (f" {Decimal(c.change):+.1f}" if c.change is not None else ""))),
        Column("next_qbr", gettext_lazy("Next review due"), sort="next_qbr", accessor=lambda c: c.next_qbr or "—"),
        Column("account_manager", gettext_lazy("Account manager"), sort="account_manager__last_name",
               accessor=lambda c: c.account_manager or "—"),
    ],
    search_fields=["name"],
    default_sort="score",
)

MEETINGS = ListSpec(
    columns=[
        Column("scheduled_at", gettext_lazy("Date"), sort="scheduled_at",
               accessor=lambda m: f"{m.scheduled_at:%Y-%m-%d %H:%M}",
               link=lambda m: reverse("reporting:meeting_detail", args=[m.pk])),
        Column("client", gettext_lazy("Client"), sort="client__name"),
        Column("status", gettext_lazy("Status"), sort="status", badge=True),
        Column("decision_maker", gettext_lazy("Decision maker"), sort="decision_maker__last_name"),
        Column("account_manager", gettext_lazy("Account manager"), sort="account_manager__last_name"),
    ],
    search_fields=["client__name", "agenda", "notes", "concerns"],
    default_sort="-scheduled_at",
)


def _staff_only(request: HttpRequest) -> None:
    # Called after the fetch: another client's record is a 404 for a portal user, their own a 403.
    if getattr(request.user, "is_portal", True):
        require(None, "scorecards", "view")


def _period(request: HttpRequest) -> Period:
    code = request.GET.get("period", "")
    if code:
        try:
            return Period.parse(code)
        except ValueError as exc:
            raise Http404 from exc
    return selectors.current_period()


def _back(meeting: QbrMeeting) -> HttpResponse:
    return redirect("reporting:meeting_detail", meeting_id=meeting.pk)


def _error(request: HttpRequest, exc: TenfoldError) -> None:
    if exc.status == 403:
        raise exc
    messages.error(request, str(exc.message))


# --- Scorecards ------------------------------------------------------------------------------------------------


@login_required
@require_GET
def portfolio(request: HttpRequest) -> HttpResponse:
    """Every client's score for the last closed quarter beside the quarter before, sortable by score and trend."""
    _staff_only(request)
    period = selectors.last_closed_quarter()
    return render_list(request, selectors.portfolio(request.user, period), PORTFOLIO,
                       template="reporting/portfolio.html",
                       context={"period": period, "can_settings": has_capability(request.user, "settings", "change")})


@login_required
@require_GET
def scorecard(request: HttpRequest, client_id: int) -> HttpResponse:
    """A client's scorecard: the period (the quarter in progress by default) beside the previous one."""
    client = selectors.access_scorecard_client(request.user, client_id)
    _staff_only(request)
    period = _period(request)
    comparison = selectors.compare(client.pk, period)
    snapshots = [{"row": s, "code": Period(s.period_kind, s.period_start).code}
                 for s in selectors.snapshots_visible(request.user).filter(client=client, final=True)[:12]]
    return render(request, "reporting/scorecard.html", {
        "client": client, "period": period, "comparison": comparison, "rows": comparison.rows(),
        "reasons": REASONS, "snapshots": snapshots, "cadence": selectors.cadence_of(client),
        "meetings": selectors.meetings_visible(request.user).filter(client=client)[:10],
        "periods": _period_choices(period), "can_change": has_capability(request.user, "scorecards", "change"),
        "cadence_form": CadenceForm(initial=_cadence_initial(client))})


@login_required
@require_GET
def client_scorecard_panel(request: HttpRequest, client_id: int) -> HttpResponse:
    """The scorecard panel of a client's page (an HTMX fragment: clients sits below reporting): the last closed
    quarter's score from its snapshot, the next review due and a link to the scorecard."""
    client = selectors.access_scorecard_client(request.user, client_id)
    _staff_only(request)
    period = selectors.last_closed_quarter()
    return render(request, "reporting/partials/client_scorecard_panel.html", {
        "client": client, "period": period, "snapshot": selectors.final_snapshot(client.pk, period),
        "cadence": selectors.cadence_of(client)})


def _period_choices(period: Period) -> list[Period]:
    current = selectors.current_period(period.kind)
    choices, cursor = [], current
    for _index in range(8):
        choices.append(cursor)
        cursor = cursor.previous()
    return choices


def _cadence_initial(client: Any) -> dict[str, Any]:
    cadence = selectors.cadence_of(client)
    if cadence is None:
        return {"interval_months": 3, "active": True}
    return {"interval_months": cadence.interval_months, "next_due_on": cadence.next_due_on, "active": cadence.active}


@login_required
@require_GET
def metric_detail(request: HttpRequest, client_id: int, key: str) -> HttpResponse:
    """The records behind one metric of a period (drill-down), as counted now."""
    client = selectors.access_scorecard_client(request.user, client_id)
    _staff_only(request)
    if key not in METRIC_BY_KEY:
        raise Http404
    period = _period(request)
    records = selectors.metric_records(client.pk, period, key)
    links = {"device": "assets:device_detail", "ticket": "servicedesk:ticket_detail", "check": "assets:device_detail"}
    rows = []
    for record in records[:500]:
        url = ""
        if record.kind in links:
            url = reverse(links[record.kind], args=[record.pk])
        rows.append({"record": record, "url": url})
    return render(request, "reporting/metric_detail.html", {
        "client": client, "period": period, "metric": METRIC_BY_KEY[key], "rows": rows, "total": len(records)})


@login_required
@require_http_methods(["GET", "POST"])
def scorecard_settings(request: HttpRequest) -> HttpResponse:
    """Metric weights and thresholds (owners and administrators)."""
    _staff_only(request)
    require(request.user, "settings", "change")
    row = selectors.scorecard_settings()
    form = SettingsForm(request.POST or None, row=row, weights=selectors.weights_of(row))
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_update(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Scorecard settings saved."))
            return redirect("reporting:settings")
    return render(request, "core/simple_form.html", {"form": form, "title": _("Scorecard settings"),
                                                     "cancel_url": reverse("reporting:portfolio")})


@login_required
@require_POST
def cadence_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    """Set a client's review cadence and next due date."""
    client = selectors.access_scorecard_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "scorecards", "change")
    form = CadenceForm(request.POST)
    if form.is_valid():
        try:
            services.cadence_set(actor=request.user, client=client, **form.cleaned_data)
        except TenfoldError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Review cadence saved."))
    else:
        messages.error(request, _("Check the cadence: every 1 to 12 months, and a due date."))
    return redirect("reporting:scorecard", client_id=client.pk)


# --- Meetings --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    """Every review, upcoming and past."""
    _staff_only(request)
    return render_list(request, selectors.meetings_visible(request.user), MEETINGS,
                       template="reporting/meeting_list.html")


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest, client_id: int) -> HttpResponse:
    """Schedule a review with a client."""
    client = selectors.access_scorecard_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "scorecards", "add")
    form = MeetingForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(actor=request.user, client=client, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Review scheduled."))
            return _back(meeting)
    return render(request, "reporting/meeting_form.html", {
        "form": form, "client": client, "title": _("New business review"),
        "cancel_url": reverse("reporting:scorecard", args=[client.pk])})


@login_required
@require_GET
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """A review: attendees, agenda, notes, action items, recommendations and published decks."""
    meeting = selectors.access_meeting(request.user, meeting_id)
    _staff_only(request)
    recommendations = list(meeting.recommendations.select_related("service", "quote").order_by("pk"))
    return render(request, "reporting/meeting_detail.html", {
        "meeting": meeting, "client": meeting.client, "others": meeting.other_contacts.all(),
        "items": meeting.action_items.select_related("ticket", "deal").order_by("pk"),
        "recommendations": [{"row": r, "form": RecommendationForm(initial={
            "title": r.title, "quantity": r.quantity, "unit_price": r.unit_price, "included": r.included},
            prefix=f"r{r.pk}")} for r in recommendations],
        "monthly": sum((r.amount for r in recommendations if r.included and r.kind == "recurring"), Decimal(0)),
        "one_off": sum((r.amount for r in recommendations if r.included and r.kind == "one_off"), Decimal(0)),
        "decks": meeting.decks.defer("pptx", "pdf").order_by("-version"),
        "item_form": ActionItemForm(), "can_change": has_capability(request.user, "scorecards", "change"),
        "can_sell": has_capability(request.user, "deals", "add"), "planned": meeting.status == MeetingStatus.PLANNED})


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Change a review (date, attendees, notes, concerns, decisions)."""
    meeting = selectors.access_meeting(request.user, meeting_id)
    _staff_only(request)
    require(request.user, "scorecards", "change")
    form = MeetingForm(request.POST or None, instance=meeting, client=meeting.client)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_update(actor=request.user, meeting=QbrMeeting.objects.get(pk=meeting.pk),
                                    data=form.service_data())
        except TenfoldError as exc:
            if isinstance(exc, ValidationError):
                add_service_errors(form, exc)
            else:
                _error(request, exc)
        else:
            messages.success(request, _("Review saved."))
            return _back(meeting)
    return render(request, "reporting/meeting_form.html", {
        "form": form, "client": meeting.client, "title": _("Edit the business review"),
        "cancel_url": reverse("reporting:meeting_detail", args=[meeting.pk])})


@login_required
@require_POST
def meeting_status(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Mark a review held or cancelled."""
    meeting = selectors.access_meeting(request.user, meeting_id)
    _staff_only(request)
    try:
        services.meeting_set_status(actor=request.user, meeting=meeting, status=request.POST.get("status", ""))
    except TenfoldError as exc:
        _error(request, exc)
    return _back(meeting)


@login_required
@require_GET
def meeting_ics(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The review's calendar invite."""
    from tenfold.reporting.qbr import ics

    meeting = selectors.access_meeting(request.user, meeting_id)
    _staff_only(request)
    response = HttpResponse(ics(meeting), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="qbr-{meeting.scheduled_at:%Y-%m-%d}.ics"'
    return response


@login_required
@require_POST
def action_item_create(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.access_meeting(request.user, meeting_id)
    _staff_only(request)
    form = ActionItemForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the action item a title."))
        require(request.user, "scorecards", "change")
        return _back(meeting)
    try:
        services.action_item_create(actor=request.user, meeting=meeting, data=form.service_data())
    except TenfoldError as exc:
        _error(request, exc)
    return _back(meeting)


@login_required
@require_POST
def action_item_ticket(request: HttpRequest, item_id: int) -> HttpResponse:
    """Turn an action item into a ticket."""
    item = selectors.access_action_item(request.user, item_id)
    _staff_only(request)
    try:
        ticket = services.action_item_to_ticket(actor=request.user, item=item)
    except TenfoldError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
    return _back(item.meeting)


@login_required
@require_POST
def action_item_deal(request: HttpRequest, item_id: int) -> HttpResponse:
    """Turn an action item into a deal."""
    item = selectors.access_action_item(request.user, item_id)
    _staff_only(request)
    try:
        deal = services.action_item_to_deal(actor=request.user, item=item)
    except TenfoldError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Deal “%(title)s” opened.") % {"title": deal.title})
    return _back(item.meeting)


@login_required
@require_POST
def recommendations_refresh(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Propose services for the client's scorecard gaps."""
    meeting = selectors.access_meeting(request.user, meeting_id)
    _staff_only(request)
    try:
        added = services.recommendations_refresh(actor=request.user, meeting=meeting)
    except TenfoldError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("%(count)s recommendations added.") % {"count": len(added)})
    return _back(meeting)


@login_required
@require_POST
def recommendation_edit(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    """Edit one recommendation."""
    row = selectors.access_recommendation(request.user, recommendation_id)
    _staff_only(request)
    form = RecommendationForm(request.POST, prefix=f"r{row.pk}")
    if not form.is_valid():
        require(request.user, "scorecards", "change")
        messages.error(request, _("Check the recommendation: a title, and a quantity and price of 0 or more."))
        return _back(row.meeting)
    try:
        services.recommendation_update(actor=request.user, recommendation=row, data=form.cleaned_data)
    except TenfoldError as exc:
        _error(request, exc)
    return _back(row.meeting)


@login_required
@require_POST
def recommendations_quote(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Make a deal and a draft quote of the proposed recommendations."""
    meeting = selectors.access_meeting(request.user, meeting_id)
    _staff_only(request)
    try:
        quote = services.recommendations_quote(actor=request.user, meeting=meeting)
    except TenfoldError as exc:
        _error(request, exc)
        return _back(meeting)
    messages.success(request, _("Quote %(number)s drafted.") % {"number": quote.number})
    return redirect("sales:quote_detail", quote_id=quote.pk)


@login_required
@require_POST
def deck_publish(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Publish the review's deck (PPTX and PDF) with the scorecards frozen."""
    meeting = selectors.access_meeting(request.user, meeting_id)
    _staff_only(request)
    try:
        deck = services.deck_publish(actor=request.user, meeting=meeting)
    except TenfoldError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Deck version %(version)s published.") % {"version": deck.version})
    return _back(meeting)


def deck_file(deck: Any, fmt: str) -> HttpResponse:
    """The stored PPTX or PDF of a published deck, as a download."""
    types = {"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
             "pdf": "application/pdf"}
    if fmt not in types:
        raise Http404
    response = HttpResponse(bytes(getattr(deck, fmt)), content_type=types[fmt])
    response["Content-Disposition"] = f'attachment; filename="{deck.file_name(fmt)}"'
    return response


@login_required
@require_GET
def deck_download(request: HttpRequest, deck_id: int, fmt: str) -> HttpResponse:
    """Download a published deck."""
    deck = selectors.access_deck(request.user, deck_id)
    _staff_only(request)
    return deck_file(deck, fmt)


@login_required
@require_GET
def deck_view(request: HttpRequest, deck_id: int) -> HttpResponse:
    """A published deck as a page (the same document as its PDF)."""
    from tenfold.reporting.deck import document_context

    deck = selectors.access_deck(request.user, deck_id)
    _staff_only(request)
    return render(request, "reporting/deck_page.html", {**document_context(deck.content), "deck_row": deck,
                                                        "client": deck.client})
