from django.urls import path

from tenfold.sales import views

app_name = "sales"
urlpatterns = [
    path("", views.deal_list, name="deal_list"),
    path("pipeline/", views.deal_pipeline, name="deal_pipeline"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/close/", views.deal_close, name="deal_close"),
    path("deals/<int:deal_id>/quotes/new/", views.quote_create, name="quote_create"),
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/new/", views.lead_create, name="lead_create"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:lead_id>/convert/", views.lead_convert, name="lead_convert"),
    path("leads/<int:lead_id>/dismiss/", views.lead_dismiss, name="lead_dismiss"),
    path("quotes/", views.quote_list, name="quote_list"),
    path("quotes/<int:quote_id>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:quote_id>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<int:quote_id>/addons/", views.quote_addon_add, name="quote_addon_add"),
    path("quotes/<int:quote_id>/items/", views.quote_item_add, name="quote_item_add"),
    path("quotes/<int:quote_id>/send/", views.quote_send, name="quote_send"),
    path("quotes/<int:quote_id>/accept/", views.quote_accept, name="quote_accept"),
    path("quotes/<int:quote_id>/decline/", views.quote_decline, name="quote_decline"),
    path("quotes/<int:quote_id>/pdf/", views.quote_pdf_view, name="quote_pdf"),
    path("quote-addons/<int:addon_id>/remove/", views.quote_addon_remove, name="quote_addon_remove"),
    path("quote-items/<int:item_id>/remove/", views.quote_item_remove, name="quote_item_remove"),
]
