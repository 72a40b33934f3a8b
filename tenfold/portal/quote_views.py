"""The portal's quote pages: a portal administrator reads the quotes their MSP sent to the company, downloads
them as PDF and accepts one in the tier they choose (privilege `quotes.accept`). Another company's quote, or one
still in draft, is a 404 and nothing changes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenfold.core.errors import TenfoldError
from tenfold.portal.views import _portal_client
from tenfold.sales import selectors, services
from tenfold.sales.models import QuoteStatus
from tenfold.sales.views import document_context, pdf_response


@login_required
def quote_list(request: HttpRequest) -> HttpResponse:
    """The quotes sent to the company, awaiting an answer first."""
    client = _portal_client(request)
    quotes = list(selectors.portal_quotes(request.user).order_by("-sent_at", "-pk")[:200])
    quotes.sort(key=lambda q: q.status != QuoteStatus.SENT)
    return render(request, "portal/quote_list.html", {"client": client, "quotes": quotes})


@login_required
def quote_detail(request: HttpRequest, quote_id: int) -> HttpResponse:
    """A quote as sent: the three tiers side by side, the add-ons and one-off items; accept it in one tier."""
    quote = selectors.portal_quote(request.user, quote_id)
    return render(request, "portal/quote_detail.html", {
        **document_context(quote), "can_accept": selectors.quote_is_open(quote)})


@login_required
@require_POST
def quote_accept(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Accept the quote in the chosen tier: the MSP's contract is made from it."""
    quote = selectors.portal_quote(request.user, quote_id)
    try:
        quote = services.quote_accept(actor=request.user, quote=quote, tier=request.POST.get("tier", ""))
    except TenfoldError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Thank you: quote %(number)s is accepted, contract %(contract)s is in force.")
                         % {"number": quote.number, "contract": quote.contract.number if quote.contract else ""})
    return redirect("portal:quote_detail", quote_id=quote.pk)


@login_required
def quote_pdf(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Download the quote as PDF."""
    quote = selectors.portal_quote(request.user, quote_id)
    return pdf_response(request, quote)
