"""Payment screens: the payments list, recording a payment on an invoice, removing one, the CSV import with
its preview. Parse, check access, call payments.py, render."""

from __future__ import annotations

import base64
import zlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.billing import payments
from tenfold.billing.models import Invoice, PaymentMethod
from tenfold.billing.money_forms import PaymentForm, PaymentImportForm
from tenfold.catalog.templatetags.catalog import money
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.forms import add_service_errors
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, require

PENDING_LIMIT = 1_000_000  # bytes of the compressed file carried by the confirmation form


def invoice_url(invoice: Invoice) -> str:
    """The staff page of an invoice (the invoice pages belong to billing's invoice screens), else its payments."""
    try:
        return reverse("billing:invoice_detail", args=[invoice.pk])
    except NoReverseMatch:
        return reverse("billing:payment_create", args=[invoice.pk])


def staff_only(request: HttpRequest) -> None:
    """The MSP's money screens are not the portal: called after the fetch, so another client's record is a 404."""
    if getattr(request.user, "is_portal", True):
        raise PermissionDenied()


PAYMENT_LIST = ListSpec(
    columns=[
        Column("received_on", gettext_lazy("Received on"), sort="received_on"),
        Column("invoice", gettext_lazy("Invoice"), sort="invoice__number", accessor=lambda p: p.invoice.number,
               link=lambda p: reverse("billing:payment_create", args=[p.invoice_id])),
        Column("client", gettext_lazy("Client"), sort="client__name", accessor=lambda p: p.client.name),
        Column("amount", gettext_lazy("Amount"), sort="amount", accessor=lambda p: money(p.amount,
                                                                                       p.invoice.currency)),
        Column("method", gettext_lazy("Method"), sort="method"),
        Column("reference", gettext_lazy("Reference"), sort="reference"),
        Column("imported", gettext_lazy("Source"),
               accessor=lambda p: _("Imported") if p.imported else _("Entered")),
        Column("recorded_by", gettext_lazy("Recorded by"), accessor=lambda p: p.recorded_by or "—"),
    ],
    search_fields=["reference", "invoice__number", "client__name", "notes"],
    filters=[ChoiceFilter("method", gettext_lazy("Method"), "method", lambda r: list(PaymentMethod.choices)),
             ChoiceFilter("source", gettext_lazy("Source"), "imported",
                          lambda r: [("True", _("Imported")), ("False", _("Entered"))])],
    default_sort="-received_on",
)


@login_required
def payment_list(request: HttpRequest) -> HttpResponse:
    """Every visible payment: searchable by reference, invoice and client, filterable, sortable, paginated."""
    staff_only(request)
    queryset = payments.payments_visible(request.user)
    return render_list(request, queryset, PAYMENT_LIST, template="billing/payments_list.html", context={
        "can_import": has_capability(request.user, "invoices", "add")})


@login_required
@require_http_methods(["GET", "POST"])
def payment_create(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """An invoice's payments and the form to record one more."""
    invoice = payments.access_invoice(request.user, invoice_id)
    staff_only(request)
    status = 200
    form = PaymentForm(request.POST or None, balance=invoice.balance or None)
    if request.method == "POST":
        require(request.user, "invoices", "add")
        if form.is_valid():
            try:
                payments.payment_record(actor=request.user, invoice=invoice, data=form.service_data())
            except Conflict as exc:
                form.add_error(None, str(exc.message))
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                invoice.refresh_from_db()
                messages.success(request, _("Payment recorded: %(number)s is now %(status)s.") % {
                    "number": invoice.number, "status": invoice.get_status_display().lower()})
                return redirect("billing:payment_create", invoice_id=invoice.pk)
        status = 422
    return render(request, "billing/payments_invoice.html", {
        "invoice": invoice, "form": form, "invoice_url": invoice_url(invoice),
        "payments": invoice.payments.select_related("recorded_by").order_by("received_on", "pk"),
        "why_not": payments.payable_problem(invoice),
        "can_add": has_capability(request.user, "invoices", "add"),
        "can_delete": has_capability(request.user, "invoices", "delete"),
    }, status=status)


@login_required
@require_POST
def payment_delete(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Remove a payment entered by mistake."""
    payment = payments.access_payment(request.user, payment_id)
    staff_only(request)
    invoice = payments.payment_delete(actor=request.user, payment=payment)
    messages.success(request, _("Payment removed: %(number)s is now %(status)s.") % {
        "number": invoice.number, "status": invoice.get_status_display().lower()})
    return redirect("billing:payment_create", invoice_id=invoice.pk)


def _pack(content: bytes) -> str:
    return base64.b64encode(zlib.compress(content, 6)).decode()


def _unpack(value: str) -> bytes | None:
    try:
        inflater = zlib.decompressobj()
        content = inflater.decompress(base64.b64decode(value, validate=True), payments.MAX_BYTES + 1)
    except (ValueError, zlib.error):
        return None
    return content


@login_required
@require_http_methods(["GET", "POST"])
def payment_import(request: HttpRequest) -> HttpResponse:
    """Import payments from a CSV file: upload, preview every row, then confirm (all rows or none)."""
    staff_only(request)
    require(request.user, "invoices", "add")
    form = PaymentImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "result": None, "pending": ""}
    status = 200
    if request.method == "POST" and "pending" in request.POST:
        content = _unpack(request.POST.get("pending", ""))
        if content is None:
            messages.error(request, _("The file to import was lost: upload it again."))
            return redirect("billing:payment_import")
        result = payments.payments_import_csv(actor=request.user, file=content)
        if result.applied:
            messages.success(request, _("Import done: %(recorded)s payments recorded, %(skipped)s already "
                                        "recorded.") % {"recorded": result.count("record"),
                                                        "skipped": result.count("skip")})
            return redirect("billing:payment_list")
        # The invoices changed since the preview: show the new result, nothing was written.
        context.update(result=result, form=PaymentImportForm())
        status = 422
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = payments.payments_import_preview(actor=request.user, file=upload)
        context["result"] = result
        if result.error:
            form.add_error("file", result.error)
            status = 422
        elif result.ok:
            upload.seek(0)
            packed = _pack(upload.read())
            if len(packed) > PENDING_LIMIT:
                form.add_error("file", _("This file is too large to import from this page: split it."))
                status = 422
            else:
                context["pending"] = packed
        else:
            status = 422
    elif request.method == "POST":
        status = 422
    if context["result"] is not None:
        context["counts"] = {a: context["result"].count(a) for a in ("record", "skip", "error")}
    return render(request, "billing/import_payments.html", context, status=status)

