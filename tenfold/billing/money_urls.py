"""Payment, import/export, ageing and reconciliation pages, and the contract page's "to date" fragment
(included into billing's urls.py: names are "billing:<name>")."""

from __future__ import annotations

from django.urls import URLPattern, path

from tenfold.billing import fragment_views, payment_views, report_views

urlpatterns: list[URLPattern] = [
    path("payments/", payment_views.payment_list, name="payment_list"),
    path("payments/import/", payment_views.payment_import, name="payment_import"),
    path("payments/<int:payment_id>/delete/", payment_views.payment_delete, name="payment_delete"),
    path("invoices/<int:invoice_id>/payments/new/", payment_views.payment_create, name="payment_create"),
    path("reports/ageing/", report_views.ageing_report, name="ageing"),
    path("reports/reconciliation/", report_views.reconciliation_report, name="reconciliation"),
    path("exports/", report_views.exports, name="exports"),
    path("exports/invoices.csv", report_views.export_invoices, name="export_invoices"),
    path("exports/invoice-lines.csv", report_views.export_invoice_lines, name="export_invoice_lines"),
    path("contracts/<int:contract_id>/to-date/", fragment_views.contract_figures_panel,
         name="contract_figures_panel"),
]
