"""The portal's ticket pages: a client's people open tickets, follow them (public entries only), reply, and
answer the survey of a closed ticket. A portal administrator sees every ticket of the company; a portal
user sees the tickets they opened or are the contact of. Another company's ticket is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.core.errors import NotFound, TenfoldError, ValidationError
from tenfold.core.forms import add_service_errors
from tenfold.core.roles import require
from tenfold.portal.views import _portal_client
from tenfold.servicedesk import selectors, services, surveys
from tenfold.servicedesk.email_forms import PortalReplyForm, PortalTicketForm, SurveyForm
from tenfold.servicedesk.models import OPEN_STATUSES, TicketSource, TicketStatus
from tenfold.servicedesk.portal_scope import portal_ticket, portal_tickets


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    """Open and past tickets."""
    client = _portal_client(request)
    tickets = portal_tickets(request.user).select_related("contact").order_by("-created_at")
    show = request.GET.get("show", "open")
    if show == "open":
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    return render(request, "portal/ticket_list.html", {
        "client": client, "tickets": tickets[:200], "show": show})


@login_required
@require_http_methods(["GET", "POST"])
def ticket_create(request: HttpRequest) -> HttpResponse:
    """Open a ticket for the company (always the user's own company: no client is taken from the request),
    with its attachments; a refused file refuses the whole ticket (its error beside the field)."""
    client = _portal_client(request)
    require(request.user, "tickets", "add")
    form = PortalTicketForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        files = data.pop("attachments")
        try:
            with transaction.atomic():
                ticket = services.ticket_create(actor=request.user, client=client, data=data,
                                                source=TicketSource.PORTAL)
                services.ticket_attach(actor=request.user, ticket=ticket, files=files)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
            return redirect("portal:ticket_detail", ticket.pk)
    return render(request, "portal/ticket_form.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


def _detail_context(request: HttpRequest, ticket: Any, reply_form: PortalReplyForm | None = None) -> dict[str, Any]:
    survey = surveys.portal_survey(request.user, ticket)
    return {
        "ticket": ticket, "entries": selectors.timeline(request.user, ticket),
        "attachments": ticket.attachments.filter(Q(entry__isnull=True) | Q(entry__visible_to_client=True)),
        "reply_form": reply_form or PortalReplyForm(), "survey": survey,
        "survey_open": survey is not None and not survey.is_answered and not surveys.is_expired(survey),
        "survey_form": SurveyForm(), "can_reply": ticket.status != TicketStatus.CLOSED}


@login_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """A ticket's status and its public history; the reply box; the survey once closed."""
    ticket = portal_ticket(request.user, ticket_id)
    return render(request, "portal/ticket_detail.html", _detail_context(request, ticket))


@login_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The client's public reply, with its attachments; an error (a refused file, no text) is shown beside its
    field and nothing is written."""
    ticket = portal_ticket(request.user, ticket_id)
    require(request.user, "tickets", "change")
    if ticket.status == TicketStatus.CLOSED:
        messages.error(request, _("This ticket is closed: open a new one."))
        return redirect("portal:ticket_detail", ticket.pk)
    form = PortalReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            with transaction.atomic():
                entry = services.ticket_reply(actor=request.user, ticket=ticket, body=form.cleaned_data["body"],
                                              public=True)
                services.ticket_attach(actor=request.user, ticket=ticket, entry=entry,
                                       files=form.cleaned_data["attachments"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except TenfoldError as exc:
            messages.error(request, str(exc.message))
            return redirect("portal:ticket_detail", ticket.pk)
        else:
            messages.success(request, _("Reply sent."))
            return redirect("portal:ticket_detail", ticket.pk)
    return render(request, "portal/ticket_detail.html", _detail_context(request, ticket, form), status=400)


@login_required
@require_POST
def ticket_survey(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Answer the survey of a closed ticket from the portal."""
    ticket = portal_ticket(request.user, ticket_id)
    require(request.user, "tickets", "change")
    survey = surveys.portal_survey(request.user, ticket)
    if survey is None:
        raise NotFound()
    form = SurveyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a score from 1 to 5 for each question."))
        return redirect("portal:ticket_detail", ticket.pk)
    try:
        surveys.survey_answer(survey=survey, data=form.cleaned_data, user=request.user)
    except ValidationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Thank you for your feedback."))
    return redirect("portal:ticket_detail", ticket.pk)
