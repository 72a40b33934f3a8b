"""Staff pages of the email channel (triage, client mail domains, mailbox status) and of survey results;
the public one-click survey page."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.clients.selectors import access_client, clients_visible
from tenfold.core import audit
from tenfold.core.errors import NotFound, PermissionDenied, ValidationError
from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible
from tenfold.servicedesk import email_inbound, mailconfig, surveys
from tenfold.servicedesk.email_forms import EmailDomainForm, SurveyForm
from tenfold.servicedesk.models_email import (
    ClientEmailDomain,
    InboundEmail,
    InboundStatus,
    MailboxState,
    TicketAttachment,
)


def _staff(request: HttpRequest, capability: str = "tickets", action: str = "view") -> Any:
    user: Any = request.user
    require(user, capability, action)
    if user.is_portal:
        raise PermissionDenied()
    return user


def mailbox_status() -> dict[str, Any]:
    """What the status page and the API show of the email channel (never the password)."""
    config = mailconfig.imap_config()
    state = MailboxState.objects.filter(name="support").first()
    host, port = mailconfig.smtp_receive_address()
    return {
        "support_address": mailconfig.support_address(), "imap_configured": config.configured,
        "imap_host": config.host, "imap_port": config.port, "imap_security": config.security,
        "imap_user": config.user, "imap_folder": config.folder,
        "smtp_receive_host": host, "smtp_receive_port": port, "unknown_senders": mailconfig.unknown_senders(),
        "max_attachment_bytes": mailconfig.max_attachment_bytes(),
        "last_poll_at": state.last_poll_at if state else None,
        "last_success_at": state.last_success_at if state else None,
        "last_error": state.last_error if state else "", "received_total": state.total_count if state else 0,
        "triage_waiting": InboundEmail.objects.filter(status=InboundStatus.TRIAGE).count(),
    }


@login_required
def triage(request: HttpRequest) -> HttpResponse:
    """Messages from unknown senders waiting to be filed under a client, with the mailbox status."""
    user = _staff(request)
    waiting = InboundEmail.objects.filter(status=InboundStatus.TRIAGE).defer("raw").order_by("-created_at")[:200]
    recent = InboundEmail.objects.exclude(status=InboundStatus.TRIAGE).defer("raw").select_related(
        "ticket").filter(ticket__isnull=True).order_by("-created_at")[:20]
    return render(request, "servicedesk/email_triage.html", {
        "waiting": waiting, "recent": recent, "status": mailbox_status(),
        "clients": clients_visible(user).order_by("name"), "show_settings": user.role in ("owner", "admin")})


@login_required
@require_POST
def triage_assign(request: HttpRequest, inbound_id: int) -> HttpResponse:
    """File a triaged message under a client: a ticket opens."""
    user: Any = request.user
    inbound = InboundEmail.objects.filter(pk=inbound_id).defer("raw").first()
    if inbound is None:
        raise NotFound()
    client = access_client(user, request.POST.get("client_id"))
    _staff(request, "tickets", "add")
    try:
        ticket = email_inbound.triage_assign(actor=user, inbound=inbound, client=client)
    except ValidationError as exc:
        messages.error(request, str(exc.message))
        return redirect("servicedesk_email:triage")
    messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
    return redirect("servicedesk_email:triage")


@login_required
@require_POST
def triage_dismiss(request: HttpRequest, inbound_id: int) -> HttpResponse:
    """Drop a triaged message."""
    user = _staff(request, "tickets", "delete")
    inbound = InboundEmail.objects.filter(pk=inbound_id).defer("raw").first()
    if inbound is None:
        raise NotFound()
    try:
        email_inbound.triage_dismiss(actor=user, inbound=inbound)
    except ValidationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Message dismissed."))
    return redirect("servicedesk_email:triage")


@login_required
@require_http_methods(["GET", "POST"])
def domain_list(request: HttpRequest) -> HttpResponse:
    """Clients' mail domains: a sender at one of them opens tickets for that client."""
    user = _staff(request, "clients", "view")
    visible_clients = clients_visible(user).order_by("name")
    form = EmailDomainForm(request.POST or None, clients=visible_clients)
    if request.method == "POST":
        require(user, "clients", "change")
        if form.is_valid():
            item = ClientEmailDomain.objects.create(client=form.cleaned_data["client"],
                                                    domain=form.cleaned_data["domain"])
            audit.record(user, "client_email_domain.created", item, changes={"domain": item.domain})
            messages.success(request, _("Domain added."))
            return redirect("servicedesk_email:domain_list")
    domains = ClientEmailDomain.objects.visible_to(user).select_related("client").order_by("client__name", "domain")
    return render(request, "servicedesk/email_domains.html", {"domains": domains, "form": form})


@login_required
@require_POST
def domain_delete(request: HttpRequest, domain_id: int) -> HttpResponse:
    """Remove a client's mail domain."""
    user: Any = request.user
    item = get_visible(ClientEmailDomain.objects.all(), user, domain_id)
    _staff(request, "clients", "change")
    audit.record(user, "client_email_domain.deleted", item, changes={"domain": item.domain})
    item.delete()
    messages.success(request, _("Domain removed."))
    return redirect("servicedesk_email:domain_list")


@login_required
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    """An attachment of a ticket the user sees (staff, or portal users of the ticket's client)."""
    user: Any = request.user
    item = get_visible(TicketAttachment.objects.select_related("ticket", "entry"), user, attachment_id)
    require(user, "tickets", "view")
    if user.is_portal:
        from tenfold.servicedesk.portal_scope import portal_ticket

        portal_ticket(user, item.ticket_id)  # a portal user only their own tickets' files
        if item.entry is not None and not item.entry.visible_to_client:
            raise NotFound()  # a file of an internal note stays with the staff
    response = FileResponse(item.file.open("rb"), as_attachment=True, filename=item.filename,
                            content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def survey_results(request: HttpRequest) -> HttpResponse:
    """Survey results per technician, client or month over a period; the latest comments."""
    user = _staff(request, "scorecards", "view")
    group = request.GET.get("group", "technician")
    group = group if group in surveys.GROUPS else "technician"
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    total, rows = surveys.survey_rollup(user, group=group, start=start, end=end)
    comments = (surveys.surveys_visible(user).filter(answered_at__isnull=False).exclude(comment="")
                .select_related("ticket", "client", "technician").order_by("-answered_at")[:20])
    return render(request, "servicedesk/survey_results.html", {
        "total": total, "rows": rows, "group": group, "start": start, "end": end, "comments": comments,
        "groups": [("technician", _("Technician")), ("client", _("Client")), ("month", _("Month"))]})


@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The one-click survey: the signed link is the only key (no login); answered once, until it expires."""
    survey = surveys.survey_for_token(token)
    form = SurveyForm(request.POST or None)
    state = "answered" if survey.is_answered else ("expired" if surveys.is_expired(survey) else "open")
    if request.method == "POST" and state == "open" and form.is_valid():
        try:
            surveys.survey_answer(survey=survey, data=form.cleaned_data,
                                  user=request.user if request.user.is_authenticated else None)
        except ValidationError as exc:
            form.add_error(None, str(exc.message))
        else:
            state = "thanks"
    return render(request, "servicedesk/survey_answer.html", {"survey": survey, "form": form, "state": state})
