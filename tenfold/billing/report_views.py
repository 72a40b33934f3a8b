"""The ageing report, the accounting exports and the reconciliation page."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tenfold.billing import reports
from tenfold.billing.money_forms import AsOfForm, PeriodForm
from tenfold.billing.payment_views import staff_only
from tenfold.catalog.selectors import currency


def _csv_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def ageing_report(request: HttpRequest) -> HttpResponse:
    """Open balances by client in buckets of days past due, as of a date (?as_of=); ?format=csv downloads it."""
    staff_only(request)
    form = AsOfForm(request.GET or None)
    report = reports.ageing(request.user, form.as_of_date())
    if request.GET.get("format") == "csv":
        return _csv_response(reports.ageing_csv(report), f"ageing-{report.as_of.isoformat()}.csv")
    return render(request, "billing/ageing.html", {
        "form": form, "report": report, "currency": currency(),
        "buckets": [key for key, _low, _high in reports.BUCKETS]},
        status=422 if form.is_bound and not form.is_valid() else 200)


def _period(request: HttpRequest) -> tuple[PeriodForm, date | None, date | None]:
    form = PeriodForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data.get("start"), form.cleaned_data.get("end")
    return form, None, None


@login_required
@require_GET
def exports(request: HttpRequest) -> HttpResponse:
    """The accounting exports: a period and the download links."""
    staff_only(request)
    form, start, end = _period(request)
    count = reports.exported_invoices(request.user, start, end).count()
    return render(request, "billing/payments_exports.html", {
        "form": form, "count": count, "query": request.GET.urlencode(),
        "invoice_columns": reports.INVOICE_COLUMNS, "line_columns": reports.LINE_COLUMNS},
        status=422 if form.is_bound and not form.is_valid() else 200)


def _suffix(start: date | None, end: date | None) -> str:
    return "".join(f"-{d.isoformat()}" for d in (start, end) if d) or "-all"


@login_required
@require_GET
def export_invoices(request: HttpRequest) -> HttpResponse:
    """Invoices and credit notes as CSV, one row each."""
    staff_only(request)
    form, start, end = _period(request)
    if form.is_bound and not form.is_valid():
        return exports(request)
    return _csv_response(reports.invoices_csv(request.user, start, end), f"invoices{_suffix(start, end)}.csv")


@login_required
@require_GET
def export_invoice_lines(request: HttpRequest) -> HttpResponse:
    """The lines of those invoices and credit notes as CSV, one row each."""
    staff_only(request)
    form, start, end = _period(request)
    if form.is_bound and not form.is_valid():
        return exports(request)
    return _csv_response(reports.invoice_lines_csv(request.user, start, end),
                         f"invoice-lines{_suffix(start, end)}.csv")


@login_required
@require_GET
def reconciliation_report(request: HttpRequest) -> HttpResponse:
    """Devices seen by the RMM vs units billed, per managed contract in force."""
    staff_only(request)
    rows = reports.reconciliation(request.user)
    return render(request, "billing/reconciliation.html", {
        "rows": rows, "currency": currency(),
        "total": sum((row.difference for row in rows), reports.ZERO),
        "mismatched": sum(1 for row in rows if not row.matches)})
