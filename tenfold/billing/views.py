"""Billing screens: billing runs, invoices and credit notes, draft edits, issue, send, void, PDF. Parse, check
access, call a service, render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, CharField, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenfold.billing import selectors, services
from tenfold.billing.engine import billing_run, month_label
from tenfold.billing.forms import InvoiceCreateForm, LineForm, NotesForm, RunForm, VoidForm
from tenfold.billing.models import OPEN_STATUSES, InvoiceKind, InvoiceStatus
from tenfold.billing.pdf import invoice_document, invoice_pdf, pdf_filename
from tenfold.billing.usage import month_start, next_month
from tenfold.clients.selectors import access_client, clients_visible
from tenfold.core.errors import PermissionDenied, TenfoldError
from tenfold.core.forms import add_service_errors
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, require


def _is_portal(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_portal", False))


def _staff_only(request: HttpRequest) -> None:
    # Called after the object is fetched: another client's invoice is a 404 for a portal user, their own a 403.
    if _is_portal(request):
        raise PermissionDenied()


def _invoice_url(invoice: Any) -> str:
    return reverse("billing:invoice_detail", args=[invoice.pk])


def _post_action(request: HttpRequest, action: Callable[[], Any], *, success: str, back: str) -> HttpResponse:
    try:
        action()
    except TenfoldError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, success)
    return redirect(back)


def _form_page(request: HttpRequest, form: Any, *, title: str, cancel_url: str, status: int = 200,
               **extra: Any) -> HttpResponse:
    return render(request, "billing/form.html", {"form": form, "title": title, "cancel_url": cancel_url, **extra},
                  status=status)


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
    return _form_page(request, form, title=title, cancel_url=cancel_url,
                      status=422 if request.method == "POST" else 200, **extra)


# --- Invoices --------------------------------------------------------------------------------------------------


def _status_choices(request: HttpRequest) -> list[tuple[str, Any]]:
    return [(str(value), label) for value, label in InvoiceStatus.choices]


INVOICE_LIST = ListSpec(
    columns=[
        Column("number", gettext_lazy("Number"), sort="number",
               accessor=lambda i: i.number or _("Draft %(pk)s") % {"pk": i.pk}, link=_invoice_url),
        Column("client", gettext_lazy("Client"), sort="client__name"),
        Column("kind", gettext_lazy("Kind"), sort="kind"),
        Column("issue_date", gettext_lazy("Issued"), sort="issue_date", accessor=lambda i: i.issue_date or "—"),
        Column("due_date", gettext_lazy("Due"), sort="due_date", accessor=lambda i: i.due_date or "—"),
        Column("total", gettext_lazy("Total"), sort="total"),
        Column("balance", gettext_lazy("Balance"), accessor=lambda i: i.balance),
        Column("status", gettext_lazy("Status"), sort="status", badge=True,
               accessor=lambda i: _("Overdue") if i.due_state == "overdue" else i.get_status_display(),
               badge_key=lambda i: "overdue" if i.due_state == "overdue" else i.status),
    ],
    search_fields=["number", "client__name"],
    filters=[ChoiceFilter("status", gettext_lazy("Status"), "status", _status_choices),
             ChoiceFilter("due", gettext_lazy("Due"), "due_state",
                          lambda r: [("overdue", _("Overdue"))])],
    default_sort="-issue_date")


def _with_due_state(queryset: Any) -> Any:
    overdue = Q(kind=InvoiceKind.INVOICE, status__in=OPEN_STATUSES, due_date__lt=timezone.localdate())
    return queryset.annotate(due_state=Case(When(overdue, then=Value("overdue")), default=Value(""),
                                            output_field=CharField()))


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    """Invoices and credit notes you may see: search by number or client, filter by status or overdue, sort."""
    queryset = _with_due_state(selectors.invoices_visible(request.user))
    portal = _is_portal(request)
    return render_list(request, queryset, INVOICE_LIST, template="billing/invoice_list.html", context={
        "portal": portal, "can_add": has_capability(request.user, "invoices", "add") and not portal,
        "can_run": has_capability(request.user, "invoices", "add") and not portal})


@login_required
@require_http_methods(["GET", "POST"])
def invoice_create(request: HttpRequest) -> HttpResponse:
    """A draft invoice by hand, for a client you may see."""
    _staff_only(request)
    require(request.user, "invoices", "add")
    clients = clients_visible(request.user).order_by("name")
    form = InvoiceCreateForm(request.POST or None, clients=clients, initial={"client": request.GET.get("client")})

    def write(data: dict[str, Any]) -> Any:
        client = access_client(request.user, form.cleaned_data["client"])
        return services.invoice_create(actor=request.user, client=client, data=data)

    return _run_form(request, form, write, success=_("Draft invoice created."), redirect_to=_invoice_url,
                     title=_("New invoice"), cancel_url=reverse("billing:invoice_list"))


@login_required
@require_GET
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """An invoice: the document (lines with the devices and time behind them, totals) and its actions."""
    invoice = selectors.access_invoice_to_read(request.user, invoice_id)
    user = request.user
    portal = _is_portal(request)
    can_change = has_capability(user, "invoices", "change") and not portal
    draft = invoice.status == InvoiceStatus.DRAFT
    return render(request, "billing/invoice_detail.html", {
        "invoice": invoice, "doc": invoice_document(invoice), "portal": portal,
        "can_edit": can_change and draft, "can_issue": can_change and draft,
        "can_delete": has_capability(user, "invoices", "delete") and draft and not portal,
        "can_send": can_change and not draft and invoice.status != InvoiceStatus.VOID,
        "can_void": can_change and invoice.kind == InvoiceKind.INVOICE and invoice.status == InvoiceStatus.ISSUED
        and not invoice.amount_paid,
        "overdue": invoice.is_overdue(timezone.localdate()),
        "line_form": LineForm() if can_change and draft else None,
        "notes_form": NotesForm(initial={"notes": invoice.notes}) if can_change and draft else None,
        "void_form": VoidForm(), "credit_notes": invoice.credit_notes.all(),
    })


@login_required
@require_GET
def invoice_pdf_download(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The invoice as a PDF (rendered from the page's template)."""
    invoice = selectors.access_invoice_to_read(request.user, invoice_id)
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(invoice)}"'
    return response


@login_required
@require_POST
def invoice_notes(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Change a draft's notes."""
    invoice = selectors.access_invoice(request.user, invoice_id)
    _staff_only(request)
    form = NotesForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Keep the notes under 5000 characters."))
        return redirect(_invoice_url(invoice))
    return _post_action(request, lambda: services.invoice_update(actor=request.user, invoice=invoice,
                                                                 data=form.service_data()),
                        success=_("Notes saved."), back=_invoice_url(invoice))


@login_required
@require_http_methods(["GET", "POST"])
def line_add(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Add a manual line to a draft."""
    invoice = selectors.access_invoice(request.user, invoice_id)
    _staff_only(request)
    require(request.user, "invoices", "change")
    return _run_form(request, LineForm(request.POST or None),
                     lambda data: services.line_add(actor=request.user, invoice=invoice, data=data),
                     success=_("Line added."), redirect_to=lambda line: _invoice_url(invoice),
                     title=_("New line on %(invoice)s") % {"invoice": invoice}, cancel_url=_invoice_url(invoice))


@login_required
@require_http_methods(["GET", "POST"])
def line_edit(request: HttpRequest, line_id: int) -> HttpResponse:
    """Change a line of a draft."""
    line = selectors.access_line(request.user, line_id)
    _staff_only(request)
    require(request.user, "invoices", "change")
    initial = {"description": line.description, "quantity": line.quantity, "unit_price": abs(line.unit_price),
               "tax_rate": line.tax_rate}
    return _run_form(request, LineForm(request.POST or None, initial=initial),
                     lambda data: services.line_update(actor=request.user, line=line, data=data),
                     success=_("Line saved."), redirect_to=lambda saved: _invoice_url(line.invoice),
                     title=line.description, cancel_url=_invoice_url(line.invoice),
                     delete_url=reverse("billing:line_delete", args=[line.pk]))


@login_required
@require_POST
def line_delete(request: HttpRequest, line_id: int) -> HttpResponse:
    """Remove a line from a draft (what it billed returns to the next run)."""
    line = selectors.access_line(request.user, line_id)
    _staff_only(request)
    back = _invoice_url(line.invoice)
    return _post_action(request, lambda: services.line_delete(actor=request.user, line=line),
                        success=_("Line removed."), back=back)


@login_required
@require_POST
def invoice_issue(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Issue a draft: it gets its number and can no longer change."""
    invoice = selectors.access_invoice(request.user, invoice_id)
    _staff_only(request)
    return _post_action(request, lambda: services.invoice_issue(actor=request.user, invoice=invoice),
                        success=_("Invoice issued."), back=_invoice_url(invoice))


@login_required
@require_POST
def invoice_send(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Email the invoice with its PDF to the client's billing contact."""
    invoice = selectors.access_invoice(request.user, invoice_id)
    _staff_only(request)
    return _post_action(request, lambda: services.invoice_send(actor=request.user, invoice=invoice),
                        success=_("The invoice will be emailed to the billing contact."), back=_invoice_url(invoice))


@login_required
@require_POST
def invoice_void(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Void an issued invoice by a credit note."""
    invoice = selectors.access_invoice(request.user, invoice_id)
    _staff_only(request)
    form = VoidForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    created: dict[str, Any] = {}

    def void() -> None:
        created["credit"] = services.invoice_void(actor=request.user, invoice=invoice, reason=reason)

    response = _post_action(request, void, success=_("Invoice voided by a credit note."), back=_invoice_url(invoice))
    return redirect(_invoice_url(created["credit"])) if created else response


@login_required
@require_POST
def invoice_delete(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Delete a draft."""
    invoice = selectors.access_invoice(request.user, invoice_id)
    _staff_only(request)
    try:
        services.invoice_delete(actor=request.user, invoice=invoice)
    except TenfoldError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
        return redirect(_invoice_url(invoice))
    messages.success(request, _("Draft deleted."))
    return redirect("billing:invoice_list")


# --- Billing runs ------------------------------------------------------------------------------------------------


RUN_LIST = ListSpec(
    columns=[
        Column("period_start", gettext_lazy("Month"), sort="period_start",
               accessor=lambda r: month_label(r.period_start),
               link=lambda r: reverse("billing:run_detail", args=[r.pk])),
        Column("run_date", gettext_lazy("Run date"), sort="run_date"),
        Column("status", gettext_lazy("Status"), sort="status", badge=True),
        Column("invoice_count", gettext_lazy("Invoices"), sort="invoice_count"),
        Column("total", gettext_lazy("Total"), sort="total"),
        Column("started_by", gettext_lazy("Started by"), accessor=lambda r: r.started_by or _("Schedule")),
    ],
    default_sort="-period_start")


def _next_period() -> date:
    today = timezone.localdate()
    return month_start(today) if today.day == 1 else next_month(today)


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    """Billing runs by month, with the button to run a month."""
    queryset = selectors.runs_visible(request.user)
    can_run = has_capability(request.user, "invoices", "add")
    return render_list(request, queryset, RUN_LIST, template="billing/run_list.html", context={
        "can_run": can_run, "run_form": RunForm(initial={"month": _next_period().strftime("%Y-%m")}),
        "next_label": month_label(_next_period())})


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    """Run billing for a month now (on demand; running a month again completes it and duplicates nothing)."""
    selectors.runs_visible(request.user)
    require(request.user, "invoices", "add")
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(str(e) for e in form.errors.get("month", [])) or _("Enter a month."))
        return redirect("billing:run_list")
    try:
        run = billing_run(actor=request.user, period_start=form.cleaned_data["month"])
    except TenfoldError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
        return redirect("billing:run_list")
    messages.success(request, _("Billing run for %(month)s done: %(count)s invoice(s).") % {
        "month": month_label(run.period_start), "count": run.invoice_count})
    return redirect("billing:run_detail", run.pk)


@login_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """A billing run: the invoices it created and their totals."""
    run = selectors.access_run(request.user, run_id)
    invoices = list(selectors.run_invoices(request.user, run))
    return render(request, "billing/run_detail.html", {"run": run, "invoices": invoices,
                                                       "month": month_label(run.period_start),
                                                       "can_run": has_capability(request.user, "invoices", "add")})
