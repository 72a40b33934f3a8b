from django.urls import path

from tenfold.portal import doc_views, invoice_views, quote_views, report_views, ticket_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("tickets/", ticket_views.ticket_list, name="ticket_list"),
    path("tickets/new/", ticket_views.ticket_create, name="ticket_create"),
    path("tickets/<int:ticket_id>/", ticket_views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:ticket_id>/reply/", ticket_views.ticket_reply, name="ticket_reply"),
    path("tickets/<int:ticket_id>/survey/", ticket_views.ticket_survey, name="ticket_survey"),
    path("documentation/", doc_views.documentation, name="documentation"),
    path("documentation/overview/<int:doc_id>/", doc_views.shared_overview, name="shared_overview"),
    path("documentation/runbooks/<int:runbook_id>/", doc_views.shared_runbook, name="shared_runbook"),
    path("invoices/", invoice_views.invoice_list, name="invoice_list"),
    path("invoices/<int:invoice_id>/", invoice_views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:invoice_id>/pdf/", invoice_views.invoice_pdf, name="invoice_pdf"),
    path("quotes/", quote_views.quote_list, name="quote_list"),
    path("quotes/<int:quote_id>/", quote_views.quote_detail, name="quote_detail"),
    path("quotes/<int:quote_id>/accept/", quote_views.quote_accept, name="quote_accept"),
    path("quotes/<int:quote_id>/pdf/", quote_views.quote_pdf, name="quote_pdf"),
    path("scorecard/", report_views.scorecard, name="scorecard"),
    path("reviews/", report_views.qbr_list, name="qbr_list"),
    path("reviews/decks/<int:deck_id>/<str:fmt>/", report_views.qbr_deck, name="qbr_deck"),
    path("inventory/", report_views.inventory_report, name="inventory_report"),
]
