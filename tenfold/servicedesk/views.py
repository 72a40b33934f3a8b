"""Service desk screens: tickets (list with bulk actions, detail with timeline, checklist and time), queues,
templates, recurring tickets, time approval, and the alert page's "Open ticket" fragment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenfold.clients.models import Client
from tenfold.clients.selectors import access_client
from tenfold.contracts.models import Priority
from tenfold.contracts.selectors import access_project
from tenfold.core.errors import NotFound, PermissionDenied, TenfoldError, ValidationError
from tenfold.core.forms import add_service_errors
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, require
from tenfold.servicedesk import selectors, services, sla
from tenfold.servicedesk.forms import (
    QueueForm,
    RecurringForm,
    ReplyForm,
    StatusForm,
    TemplateForm,
    TicketForm,
    TimeEntryForm,
    staff_users,
)
from tenfold.servicedesk.models import Queue, TicketStatus, TicketType
from tenfold.servicedesk.models_surveys import SurveyResponse

SLA_LABELS = {"ok": gettext_lazy("On track"), "warning": gettext_lazy("Warning"),
              "breached": gettext_lazy("Breached"), "paused": gettext_lazy("Paused"),
              "met": gettext_lazy("Met"), "missed": gettext_lazy("Missed"), "none": gettext_lazy("No SLA")}


def _sla_badge(ticket: Any) -> str:
    return str(SLA_LABELS[sla.state(ticket)])


TICKET_LIST = ListSpec(
    columns=[
        Column("number", gettext_lazy("Number"), sort="pk",
               link=lambda t: reverse("servicedesk:ticket_detail", args=[t.pk])),
        Column("title", gettext_lazy("Title"), sort="title",
               link=lambda t: reverse("servicedesk:ticket_detail", args=[t.pk])),
        Column("client", gettext_lazy("Client"), sort="client__name"),
        Column("priority", gettext_lazy("Priority"), sort="priority", badge=True,
               accessor=lambda t: t.priority.upper()),
        Column("status", gettext_lazy("Status"), sort="status", badge=True, accessor=lambda t: t.get_status_display(),
               badge_key=lambda t: t.status),
        Column("queue", gettext_lazy("Queue"), sort="queue__name", accessor=lambda t: t.queue or "—"),
        Column("assignee", gettext_lazy("Assignee"), sort="assignee__last_name", accessor=lambda t: t.assignee or "—"),
        Column("sla", gettext_lazy("SLA"), badge=True, accessor=_sla_badge, badge_key=lambda t: sla.state(t)),
        Column("resolution_due_at", gettext_lazy("Due"), sort="resolution_due_at",
               accessor=lambda t: timezone.localtime(t.resolution_due_at).strftime("%Y-%m-%d %H:%M")
               if t.resolution_due_at else "—"),
        Column("updated_at", gettext_lazy("Updated"), sort="updated_at",
               accessor=lambda t: timezone.localtime(t.updated_at).strftime("%Y-%m-%d %H:%M")),
    ],
    search_fields=["number", "title", "description", "tags", "client__name", "contact__last_name"],
    filters=[
        ChoiceFilter("status", gettext_lazy("Status"), "status", lambda r: list(TicketStatus.choices)),
        ChoiceFilter("priority", gettext_lazy("Priority"), "priority", lambda r: list(Priority.choices)),
        ChoiceFilter("type", gettext_lazy("Type"), "type", lambda r: list(TicketType.choices)),
        ChoiceFilter("queue", gettext_lazy("Queue"), "queue_id",
                     lambda r: [(str(q.pk), q.name) for q in Queue.objects.all()]),
        ChoiceFilter("assignee", gettext_lazy("Assignee"), "assignee_id",
                     lambda r: [(str(u.pk), str(u)) for u in staff_users()]),
        ChoiceFilter("client", gettext_lazy("Client"), "client_id",
                     lambda r: [(str(c.pk), c.name) for c in Client.objects.visible_to(r.user).order_by("name")]),
    ],
    default_sort="-updated_at",
)

TIME_COLUMNS = [
    Column("started_at", gettext_lazy("Date"), sort="started_at",
           accessor=lambda e: timezone.localtime(e.started_at).strftime("%Y-%m-%d %H:%M")),
    Column("user", gettext_lazy("Technician"), sort="user__last_name"),
    Column("client", gettext_lazy("Client"), sort="client__name"),
    Column("on", gettext_lazy("On"), accessor=lambda e: e.ticket.number if e.ticket else e.project,
           link=lambda e: reverse("servicedesk:ticket_detail", args=[e.ticket_id]) if e.ticket_id else ""),
    Column("actual_minutes", gettext_lazy("Minutes"), sort="actual_minutes"),
    Column("billable_minutes", gettext_lazy("Billable minutes"), sort="billable_minutes"),
    Column("coverage", gettext_lazy("Coverage"), accessor=lambda e: e.get_coverage_display()),
    Column("approval_status", gettext_lazy("Approval"), sort="approval_status", badge=True,
           accessor=lambda e: e.get_approval_status_display(), badge_key=lambda e: e.approval_status),
]
TIME_LIST = ListSpec(columns=TIME_COLUMNS, search_fields=["notes", "ticket__number", "ticket__title", "client__name"],
                     filters=[ChoiceFilter("approval", gettext_lazy("Approval"), "approval_status",
                                           lambda r: [("pending", _("Awaiting approval")),
                                                      ("approved", _("Approved")), ("rejected", _("Rejected")),
                                                      ("not_required", _("Not required"))])],
                     default_sort="-started_at")


def _staff_only(request: HttpRequest) -> None:
    # Called after the object is fetched: another client's record is a 404 for a portal user, their own a 403.
    if getattr(request.user, "is_portal", True):
        raise PermissionDenied()


def _fail(request: HttpRequest, exc: TenfoldError) -> None:
    if exc.status in (403, 404):
        raise exc
    messages.error(request, str(exc.message))


def _post_action(request: HttpRequest, action: Callable[[], Any], *, success: str, back: str) -> HttpResponse:
    try:
        action()
    except TenfoldError as exc:
        _fail(request, exc)
    else:
        messages.success(request, success)
    return redirect(back)


def _form_page(request: HttpRequest, form: Any, *, title: str, cancel_url: str, status: int = 200,
               **extra: Any) -> HttpResponse:
    return render(request, "servicedesk/form.html", {"form": form, "title": title, "cancel_url": cancel_url,
                                                     **extra}, status=status)


def _run_form(request: HttpRequest, form: Any, write: Callable[[dict[str, Any]], Any], *, success: str,
              redirect_to: Callable[[Any], str], title: str, cancel_url: str, **extra: Any) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            result = write(form.service_data())
        except TenfoldError as exc:
            if exc.status in (403, 404):
                raise
            add_service_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect(redirect_to(result))
    status = 422 if request.method == "POST" else 200
    return _form_page(request, form, title=title, cancel_url=cancel_url, status=status, **extra)


def _ticket_url(ticket_id: int) -> str:
    return reverse("servicedesk:ticket_detail", args=[ticket_id])


# --- Tickets --------------------------------------------------------------------------------------------


@login_required
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    """Every visible ticket: search, filters (status, priority, type, queue, assignee, client, SLA), bulk actions."""
    _staff_only(request)
    queryset = selectors.tickets_visible(request.user)
    sla_value = request.GET.get("sla", "")
    if sla_value in sla.SLA_STATES:
        queryset = queryset.filter(sla.state_filter(sla_value))
    if request.GET.get("mine") == "1":
        queryset = queryset.filter(assignee_id=request.user.pk)
    return render_list(request, queryset, TICKET_LIST, template="servicedesk/ticket_list.html", context={
        "sla_choices": [(k, SLA_LABELS[k]) for k in sla.SLA_STATES], "sla_value": sla_value,
        "can_change": has_capability(request.user, "tickets", "change"),
        "statuses": TicketStatus.choices, "priorities": Priority.choices, "staff": staff_users(),
        "selectable": True}, partial="servicedesk/partials/ticket_results.html")


@login_required
@require_POST
def ticket_bulk(request: HttpRequest) -> HttpResponse:
    """Assign, move or re-prioritise the selected tickets at once."""
    _staff_only(request)
    require(request.user, "tickets", "change")
    values = request.POST.getlist("ticket")
    ids = {int(v) for v in values if v.isdigit() and len(v) < 19}
    tickets = services.tickets_matching(sorted(ids), request.user) if len(ids) == len(set(values)) else []
    if values and len(tickets) != len(set(values)):
        # One id is not a ticket the user may see (forged, deleted, another client's): refuse the whole action.
        messages.error(request, _("Some of the selected tickets cannot be changed by you: nothing was changed."))
        return redirect("servicedesk:ticket_list")
    data: dict[str, Any] = {}
    if request.POST.get("assignee"):
        value = request.POST["assignee"]
        data["assignee_id"] = None if value == "none" else int(value) if value.isdigit() else -1
    if request.POST.get("status"):
        data["status"] = request.POST["status"]
    if request.POST.get("priority"):
        data["priority"] = request.POST["priority"]
    if not tickets:
        messages.error(request, _("Select at least one ticket."))
        return redirect("servicedesk:ticket_list")
    try:
        count = services.ticket_bulk_update(actor=request.user, tickets=tickets, data=data)
    except TenfoldError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("%(count)s ticket(s) updated.") % {"count": count})
    return redirect("servicedesk:ticket_list")


@login_required
@require_http_methods(["GET", "POST"])
def ticket_create(request: HttpRequest) -> HttpResponse:
    """Open a ticket (optionally for ?client= and from ?template=)."""
    _staff_only(request)
    require(request.user, "tickets", "add")
    client = None
    client_id = request.POST.get("client") or request.GET.get("client")
    if client_id:
        try:
            client = access_client(request.user, client_id)
        except NotFound:
            client = None
    initial: dict[str, Any] = {}
    if request.GET.get("template"):
        template = selectors.templates_visible(request.user).filter(pk=request.GET["template"]
                                                                    if request.GET["template"].isdigit() else 0).first()
        if template is not None:
            initial = {"template": template.pk, "title": template.title, "description": template.description,
                       "priority": template.priority, "type": template.type, "queue": template.queue_id}
    form = TicketForm(request.POST or None, actor=request.user, client=client, initial=initial)

    def write(data: dict[str, Any]) -> Any:
        return services.ticket_create(actor=request.user, client=form.cleaned_data["client"], data=data)

    return _run_form(request, form, write, success=_("Ticket opened."), redirect_to=lambda t: _ticket_url(t.pk),
                     title=_("New ticket"), cancel_url=reverse("servicedesk:ticket_list"))


def _ticket_context(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    user = request.user
    runbook = services.runbook_for_alert(ticket.alert) if ticket.alert_id else None
    return {
        "ticket": ticket, "entries": selectors.timeline(user, ticket), "checklist": selectors.checklist(ticket),
        "open_required": selectors.open_required_steps(ticket), "sla_state": sla.state(ticket),
        "sla_label": SLA_LABELS[sla.state(ticket)],
        "time_entries": ticket.time_entries.select_related("user").order_by("-started_at"),
        "time_totals": selectors.ticket_time_totals(ticket), "timer": selectors.running_timer(user),
        "watchers": ticket.watchers.all(), "devices": ticket.devices.all(),
        "watching": ticket.watchers.filter(pk=user.pk).exists(),
        "reply_form": ReplyForm(initial={"public": True}), "status_form": StatusForm(initial={"status": ticket.status}),
        "time_form": TimeEntryForm(initial={"billable": True}), "staff": staff_users(),
        "can_change": has_capability(user, "tickets", "change"), "runbook": runbook,
        "merged_tickets": ticket.merged_tickets.all(),
        "attachments": ticket.attachments.select_related("entry").order_by("created_at", "pk"),
        "survey": (SurveyResponse.objects.filter(ticket=ticket).first()
                   if has_capability(user, "scorecards", "view") else None),
    }


@login_required
@require_GET
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """A ticket: details, SLA, timeline, checklist, time, actions."""
    ticket = selectors.access_ticket(request.user, ticket_id)
    _staff_only(request)
    return render(request, "servicedesk/ticket_detail.html", _ticket_context(request, ticket))


@login_required
@require_http_methods(["GET", "POST"])
def ticket_edit(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Change a ticket's details."""
    ticket = selectors.access_ticket(request.user, ticket_id)
    _staff_only(request)
    require(request.user, "tickets", "change")
    initial = {"title": ticket.title, "description": ticket.description, "contact": ticket.contact_id,
               "devices": list(ticket.devices.values_list("pk", flat=True)), "priority": ticket.priority,
               "type": ticket.type, "queue": ticket.queue_id, "assignee": ticket.assignee_id,
               "tags": ticket.tags.replace(",", ", "), "due_at": ticket.due_at, "contract": ticket.contract_id}
    form = TicketForm(request.POST or None, actor=request.user, client=ticket.client, editing=True, initial=initial)
    return _run_form(request, form, lambda data: services.ticket_update(actor=request.user, ticket=ticket, data=data),
                     success=_("Ticket saved."), redirect_to=lambda t: _ticket_url(t.pk),
                     title=_("Edit %(number)s") % {"number": ticket.number}, cancel_url=_ticket_url(ticket.pk),
                     ticket=ticket)


@login_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Add a public reply or an internal note, with attachments; an error (a refused file, no text) is shown
    beside its field and nothing is written."""
    ticket = selectors.access_ticket(request.user, ticket_id)
    _staff_only(request)
    require(request.user, "tickets", "change")
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        public = form.cleaned_data["public"]
        try:
            with transaction.atomic():
                entry = services.ticket_reply(actor=request.user, ticket=ticket, body=form.cleaned_data["body"],
                                              public=public)
                services.ticket_attach(actor=request.user, ticket=ticket, entry=entry,
                                       files=form.cleaned_data["attachments"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except TenfoldError as exc:
            _fail(request, exc)
            return redirect(_ticket_url(ticket.pk))
        else:
            messages.success(request, _("Reply sent.") if public else _("Note added."))
            return redirect(_ticket_url(ticket.pk))
    return render(request, "servicedesk/ticket_detail.html", {**_ticket_context(request, ticket), "reply_form": form},
                  status=400)


@login_required
@require_POST
def ticket_status(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Move the ticket to another status."""
    ticket = selectors.access_ticket(request.user, ticket_id)
    _staff_only(request)
    require(request.user, "tickets", "change")
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid status."))
        return redirect(_ticket_url(ticket.pk))
    return _post_action(request, lambda: services.ticket_set_status(
        actor=request.user, ticket=ticket, status=form.cleaned_data["status"],
        resolution=form.cleaned_data["resolution"]), success=_("Status changed."), back=_ticket_url(ticket.pk))


@login_required
@require_POST
def ticket_assign(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Give the ticket to someone (or to nobody)."""
    ticket = selectors.access_ticket(request.user, ticket_id)
    _staff_only(request)
    require(request.user, "tickets", "change")
    value = request.POST.get("assignee", "")
    assignee = get_user_model().objects.filter(pk=int(value)).first() if value.isdigit() else None

    def act() -> Any:
        if value.isdigit() and assignee is None:
            raise services.ValidationError(_("Choose an active staff member who works on this client's tickets."))
        return services.ticket_assign(actor=request.user, ticket=ticket, assignee=assignee)

    return _post_action(request, act, success=_("Assignee changed."), back=_ticket_url(ticket.pk))


@login_required
@require_POST
def ticket_watch(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Watch or stop watching the ticket yourself."""
    ticket = selectors.access_ticket(request.user, ticket_id)
    _staff_only(request)
    watching = request.POST.get("watching") == "1"
    return _post_action(request, lambda: services.ticket_set_watching(actor=request.user, ticket=ticket,
                                                                      user=request.user, watching=watching),
                        success=_("You watch this ticket.") if watching else _("You no longer watch this ticket."),
                        back=_ticket_url(ticket.pk))


@login_required
@require_POST
def ticket_merge(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Merge this ticket (a duplicate) into another by number."""
    ticket = selectors.access_ticket(request.user, ticket_id)
    _staff_only(request)
    require(request.user, "tickets", "change")
    number = request.POST.get("target", "").strip()

    def act() -> Any:
        try:
            target = selectors.ticket_by_number(request.user, number)
        except NotFound:
            raise services.ValidationError(_("No ticket %(number)s of this client.") % {"number": number},
                                           field="target") from None
        return services.ticket_merge(actor=request.user, source=ticket, target=target)

    return _post_action(request, act, success=_("Ticket merged."), back=_ticket_url(ticket.pk))


@login_required
@require_POST
def ticket_opportunity(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Flag a sales opportunity with a note."""
    ticket = selectors.access_ticket(request.user, ticket_id)
    _staff_only(request)
    require(request.user, "tickets", "change")
    return _post_action(request, lambda: services.ticket_flag_opportunity(
        actor=request.user, ticket=ticket, note=request.POST.get("note", "")),
        success=_("Opportunity flagged for sales."), back=_ticket_url(ticket.pk))


@login_required
@require_POST
def checklist_toggle(request: HttpRequest, item_id: int) -> HttpResponse:
    """Tick or untick a checklist step."""
    item = selectors.access_checklist_item(request.user, item_id)
    _staff_only(request)
    require(request.user, "tickets", "change")
    done = request.POST.get("done") == "1"
    return _post_action(request, lambda: services.checklist_item_set_done(actor=request.user, item=item, done=done),
                        success=_("Step ticked.") if done else _("Step unticked."), back=_ticket_url(item.ticket_id))


# --- Time ---------------------------------------------------------------------------------------------


@login_required
@require_POST
def ticket_time_create(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Log time on a ticket by hand."""
    ticket = selectors.access_ticket(request.user, ticket_id)
    _staff_only(request)
    require(request.user, "tickets", "add")
    form = TimeEntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter between 1 and 1440 minutes."))
        return redirect(_ticket_url(ticket.pk))
    return _post_action(request, lambda: services.time_entry_create(actor=request.user, ticket=ticket,
                                                                    data=form.service_data()),
                        success=_("Time logged."), back=_ticket_url(ticket.pk))


@login_required
@require_POST
def project_time_create(request: HttpRequest, project_id: int) -> HttpResponse:
    """Log time on a project by hand."""
    project = access_project(request.user, project_id)
    _staff_only(request)
    require(request.user, "tickets", "add")
    back = reverse("contracts:project_detail", args=[project.pk])
    form = TimeEntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter between 1 and 1440 minutes."))
        return redirect(back)
    return _post_action(request, lambda: services.time_entry_create(actor=request.user, project=project,
                                                                    data=form.service_data()),
                        success=_("Time logged."), back=back)


@login_required
@require_POST
def ticket_timer_start(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Start your timer on this ticket."""
    ticket = selectors.access_ticket(request.user, ticket_id)
    _staff_only(request)
    require(request.user, "tickets", "add")
    return _post_action(request, lambda: services.timer_start(actor=request.user, ticket=ticket),
                        success=_("Timer started."), back=_ticket_url(ticket.pk))


@login_required
@require_POST
def timer_stop(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Stop your running timer; the time becomes an entry."""
    entry = selectors.access_time_entry(request.user, entry_id)
    require(request.user, "tickets", "change")
    if entry.user_id != request.user.pk:
        raise NotFound()
    back = _ticket_url(entry.ticket_id) if entry.ticket_id else reverse("servicedesk:time_list")
    return _post_action(request, lambda: services.timer_stop(actor=request.user, entry=entry,
                                                             notes=request.POST.get("notes", "")),
                        success=_("Timer stopped."), back=back)


@login_required
@require_POST
def time_entry_delete(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Delete a time entry that was not approved."""
    entry = selectors.access_time_entry(request.user, entry_id)
    require(request.user, "tickets", "change")
    back = _ticket_url(entry.ticket_id) if entry.ticket_id else reverse("servicedesk:time_list")
    return _post_action(request, lambda: services.time_entry_delete(actor=request.user, entry=entry),
                        success=_("Time entry deleted."), back=back)


@login_required
@require_GET
def time_list(request: HttpRequest) -> HttpResponse:
    """Time entries of visible clients (?mine=1 for your own)."""
    queryset = selectors.time_entries_visible(request.user)
    if request.GET.get("mine") == "1":
        queryset = queryset.filter(user_id=request.user.pk or 0)
    return render_list(request, queryset, TIME_LIST, template="servicedesk/time_list.html",
                       context={"timer": selectors.running_timer(request.user)})


@login_required
@require_GET
def approval_queue(request: HttpRequest) -> HttpResponse:
    """Billable time awaiting approval."""
    entries = selectors.approval_queue(request.user)
    return render(request, "servicedesk/approval_queue.html", {"entries": entries[:200], "total": entries.count()})


@login_required
@require_POST
def time_entry_approve(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.access_time_entry(request.user, entry_id)
    require(request.user, "time_approval", "change")
    return _post_action(request, lambda: services.time_entry_approve(actor=request.user, entry=entry),
                        success=_("Time approved."), back=reverse("servicedesk:approval_queue"))


@login_required
@require_POST
def time_entry_reject(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.access_time_entry(request.user, entry_id)
    require(request.user, "time_approval", "change")
    return _post_action(request, lambda: services.time_entry_reject(actor=request.user, entry=entry,
                                                                    reason=request.POST.get("reason", "")),
                        success=_("Time rejected."), back=reverse("servicedesk:approval_queue"))


# --- Queues, templates, recurring -----------------------------------------------------------------------


@login_required
@require_GET
def queue_list(request: HttpRequest) -> HttpResponse:
    """The queues, with their open ticket counts."""
    queues = selectors.queues_visible(request.user).order_by("name")
    counts = dict(selectors.tickets_visible(request.user).filter(status__in=["new", "in_progress", "waiting_client",
                                                                             "waiting_third_party"])
                  .order_by().values("queue_id").annotate(n=Count("pk")).values_list("queue_id", "n"))
    return render(request, "servicedesk/queue_list.html", {
        "queues": [(q, counts.get(q.pk, 0)) for q in queues],
        "can_manage": has_capability(request.user, "tickets", "delete")})


@login_required
@require_http_methods(["GET", "POST"])
def queue_create(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    require(request.user, "tickets", "delete")
    form = QueueForm(request.POST or None)
    return _run_form(request, form, lambda data: services.queue_create(actor=request.user, data=data),
                     success=_("Queue saved."), redirect_to=lambda q: reverse("servicedesk:queue_list"),
                     title=_("New queue"), cancel_url=reverse("servicedesk:queue_list"))


@login_required
@require_http_methods(["GET", "POST"])
def queue_edit(request: HttpRequest, queue_id: int) -> HttpResponse:
    queue = selectors.access_queue(request.user, queue_id)
    require(request.user, "tickets", "delete")
    form = QueueForm(request.POST or None, instance=queue)
    return _run_form(request, form, lambda data: services.queue_update(actor=request.user, queue=queue, data=data),
                     success=_("Queue saved."), redirect_to=lambda q: reverse("servicedesk:queue_list"),
                     title=_("Edit queue %(name)s") % {"name": queue.name},
                     cancel_url=reverse("servicedesk:queue_list"),
                     delete_url=reverse("servicedesk:queue_delete", args=[queue.pk]))


@login_required
@require_POST
def queue_delete(request: HttpRequest, queue_id: int) -> HttpResponse:
    queue = selectors.access_queue(request.user, queue_id)
    require(request.user, "tickets", "delete")
    return _post_action(request, lambda: services.queue_delete(actor=request.user, queue=queue),
                        success=_("Queue deleted."), back=reverse("servicedesk:queue_list"))


@login_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    """Ticket templates and the recurring tickets built on them."""
    templates = selectors.templates_visible(request.user).order_by("name")
    clients = Client.objects.visible_to(request.user).order_by("name")
    chosen = request.GET.get("client", "")
    chosen_client = clients.filter(pk=int(chosen)).first() if chosen.isdigit() else None
    return render(request, "servicedesk/template_list.html", {
        "clients": clients, "chosen_client": chosen_client,
        "templates": templates, "recurring": selectors.recurring_visible(request.user).order_by("next_run_at")[:200],
        "can_manage": has_capability(request.user, "tickets", "delete"),
        "can_add": has_capability(request.user, "tickets", "add")})


@login_required
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    require(request.user, "tickets", "delete")
    form = TemplateForm(request.POST or None)
    return _run_form(request, form, lambda data: services.template_create(actor=request.user, data=data),
                     success=_("Template saved."), redirect_to=lambda t: reverse("servicedesk:template_list"),
                     title=_("New ticket template"), cancel_url=reverse("servicedesk:template_list"))


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = selectors.access_template(request.user, template_id)
    require(request.user, "tickets", "delete")
    form = TemplateForm(request.POST or None, instance=template)
    return _run_form(request, form, lambda data: services.template_update(actor=request.user, template=template,
                                                                          data=data),
                     success=_("Template saved."), redirect_to=lambda t: reverse("servicedesk:template_list"),
                     title=_("Edit template %(name)s") % {"name": template.name},
                     cancel_url=reverse("servicedesk:template_list"),
                     delete_url=reverse("servicedesk:template_delete", args=[template.pk]))


@login_required
@require_POST
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    template = selectors.access_template(request.user, template_id)
    require(request.user, "tickets", "delete")
    return _post_action(request, lambda: services.template_delete(actor=request.user, template=template),
                        success=_("Template deleted."), back=reverse("servicedesk:template_list"))


@login_required
@require_http_methods(["GET", "POST"])
def recurring_create(request: HttpRequest, client_id: int) -> HttpResponse:
    """Open a template for a client on a schedule."""
    client = access_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "tickets", "add")
    form = RecurringForm(request.POST or None, client=client)
    return _run_form(request, form, lambda data: services.recurring_create(actor=request.user, client=client,
                                                                           data=data),
                     success=_("Recurring ticket saved."), redirect_to=lambda r: reverse("servicedesk:template_list"),
                     title=_("New recurring ticket for %(name)s") % {"name": client.name},
                     cancel_url=reverse("servicedesk:template_list"))


@login_required
@require_http_methods(["GET", "POST"])
def recurring_edit(request: HttpRequest, recurring_id: int) -> HttpResponse:
    row = selectors.access_recurring(request.user, recurring_id)
    require(request.user, "tickets", "change")
    form = RecurringForm(request.POST or None, instance=row, client=row.client)
    return _run_form(request, form, lambda data: services.recurring_update(actor=request.user, row=row, data=data),
                     success=_("Recurring ticket saved."), redirect_to=lambda r: reverse("servicedesk:template_list"),
                     title=_("Edit recurring ticket"), cancel_url=reverse("servicedesk:template_list"),
                     delete_url=reverse("servicedesk:recurring_delete", args=[row.pk]))


@login_required
@require_POST
def recurring_delete(request: HttpRequest, recurring_id: int) -> HttpResponse:
    row = selectors.access_recurring(request.user, recurring_id)
    require(request.user, "tickets", "delete")
    return _post_action(request, lambda: services.recurring_delete(actor=request.user, row=row),
                        success=_("Recurring ticket deleted."), back=reverse("servicedesk:template_list"))


# --- The alert page's fragment --------------------------------------------------------------------------


def _access_alert(request: HttpRequest, alert_id: int) -> Any:
    from tenfold.core.tenancy import get_visible
    from tenfold.monitoring.models import Alert

    alert = get_visible(Alert.objects.select_related("client", "device"), request.user, alert_id)
    require(request.user, "devices", "view")
    _staff_only(request)
    return alert


@login_required
@require_GET
def alert_ticket_panel(request: HttpRequest, alert_id: int) -> HttpResponse:
    """The alert's open ticket, or an "Open ticket" button (HTMX fragment on the alert page)."""
    alert = _access_alert(request, alert_id)
    ticket = selectors.tickets_visible(request.user).filter(alert=alert).order_by("-created_at").first() \
        if has_capability(request.user, "tickets", "view") else None
    return render(request, "servicedesk/partials/alert_ticket.html", {
        "alert": alert, "ticket": ticket, "can_open": has_capability(request.user, "tickets", "add")})


@login_required
@require_POST
def alert_open_ticket(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Open (or find) the alert's ticket and go to it."""
    alert = _access_alert(request, alert_id)
    require(request.user, "tickets", "add")
    ticket = services.ticket_open_for_alert(alert, actor=request.user)
    return redirect(_ticket_url(ticket.pk))
