"""URL map of the reporting app: scorecards, portfolio, business reviews and their decks."""

from django.urls import URLPattern, URLResolver, path

from tenfold.reporting import views

app_name = "reporting"
urlpatterns: list[URLPattern | URLResolver] = [
    path("scorecards/", views.portfolio, name="portfolio"),
    path("scorecards/settings/", views.scorecard_settings, name="settings"),
    path("scorecards/clients/<int:client_id>/", views.scorecard, name="scorecard"),
    path("scorecards/clients/<int:client_id>/panel/", views.client_scorecard_panel, name="client_scorecard_panel"),
    path("scorecards/clients/<int:client_id>/metrics/<slug:key>/", views.metric_detail, name="metric_detail"),
    path("scorecards/clients/<int:client_id>/cadence/", views.cadence_edit, name="cadence_edit"),
    path("reviews/", views.meeting_list, name="meeting_list"),
    path("reviews/clients/<int:client_id>/new/", views.meeting_create, name="meeting_create"),
    path("reviews/<int:meeting_id>/", views.meeting_detail, name="meeting_detail"),
    path("reviews/<int:meeting_id>/edit/", views.meeting_edit, name="meeting_edit"),
    path("reviews/<int:meeting_id>/status/", views.meeting_status, name="meeting_status"),
    path("reviews/<int:meeting_id>/invite.ics", views.meeting_ics, name="meeting_ics"),
    path("reviews/<int:meeting_id>/action-items/", views.action_item_create, name="action_item_create"),
    path("action-items/<int:item_id>/ticket/", views.action_item_ticket, name="action_item_ticket"),
    path("action-items/<int:item_id>/deal/", views.action_item_deal, name="action_item_deal"),
    path("reviews/<int:meeting_id>/recommendations/", views.recommendations_refresh, name="recommendations_refresh"),
    path("recommendations/<int:recommendation_id>/", views.recommendation_edit, name="recommendation_edit"),
    path("reviews/<int:meeting_id>/quote/", views.recommendations_quote, name="recommendations_quote"),
    path("reviews/<int:meeting_id>/decks/", views.deck_publish, name="deck_publish"),
    path("decks/<int:deck_id>/", views.deck_view, name="deck_view"),
    path("decks/<int:deck_id>/<str:fmt>/", views.deck_download, name="deck_download"),
]

from tenfold.reporting import kpi_urls  # noqa: E402

urlpatterns += kpi_urls.urlpatterns
