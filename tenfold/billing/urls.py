"""Billing pages: billing runs, invoices and credit notes."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from tenfold.billing import money_urls, views

app_name = "billing"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.invoice_list, name="invoice_list"),
    path("invoices/new/", views.invoice_create, name="invoice_create"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:invoice_id>/pdf/", views.invoice_pdf_download, name="invoice_pdf"),
    path("invoices/<int:invoice_id>/notes/", views.invoice_notes, name="invoice_notes"),
    path("invoices/<int:invoice_id>/lines/new/", views.line_add, name="line_add"),
    path("invoices/<int:invoice_id>/issue/", views.invoice_issue, name="invoice_issue"),
    path("invoices/<int:invoice_id>/send/", views.invoice_send, name="invoice_send"),
    path("invoices/<int:invoice_id>/void/", views.invoice_void, name="invoice_void"),
    path("invoices/<int:invoice_id>/delete/", views.invoice_delete, name="invoice_delete"),
    path("lines/<int:line_id>/", views.line_edit, name="line_edit"),
    path("lines/<int:line_id>/delete/", views.line_delete, name="line_delete"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
]

urlpatterns += money_urls.urlpatterns
