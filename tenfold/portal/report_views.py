"""The portal's report pages: the company's own scorecard (the quarter in progress beside the last one), its
published business review decks (portal administrators and portal users: "scorecards, QBR decks: R own"; another
company's deck is a 404) and its inventory report (portal administrators only: "devices, inventory: R own")."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tenfold.core.roles import require
from tenfold.portal.views import _portal_client
from tenfold.reporting import inventory, selectors
from tenfold.reporting.kpi_inventory_views import inventory_response
from tenfold.reporting.scorecard import REASONS
from tenfold.reporting.views import deck_file


@login_required
@require_GET
def scorecard(request: HttpRequest) -> HttpResponse:
    """The company's scorecard."""
    client = _portal_client(request)
    require(request.user, "scorecards", "view")
    period = selectors.current_period()
    comparison = selectors.compare(client.pk, period)
    return render(request, "portal/scorecard.html", {
        "client": client, "period": period, "comparison": comparison, "rows": comparison.rows(), "reasons": REASONS,
        "decks": selectors.decks_visible(request.user).filter(client=client).order_by("-published_at")[:20]})


@login_required
@require_GET
def qbr_list(request: HttpRequest) -> HttpResponse:
    """The company's published review decks."""
    client = _portal_client(request)
    decks = selectors.decks_visible(request.user).filter(client=client).order_by("-published_at")
    return render(request, "portal/qbr_list.html", {"client": client, "decks": decks})


@login_required
@require_GET
def qbr_deck(request: HttpRequest, deck_id: int, fmt: str) -> HttpResponse:
    """Download one of the company's published decks."""
    deck = selectors.access_deck(request.user, deck_id)
    _portal_client(request)
    return deck_file(deck, fmt)


@login_required
@require_GET
def inventory_report(request: HttpRequest) -> HttpResponse:
    """The company's inventory report; ?format=csv or ?format=pdf downloads it."""
    client = _portal_client(request)
    return inventory_response(request, inventory.inventory_for_portal(request.user, client),
                              "reporting/portal_inventory.html")
