"""URL patterns of the KPI, forecast and inventory pages (added to the reporting namespace)."""

from django.urls import URLPattern, URLResolver, path

from tenfold.reporting import kpi_inventory_views, kpi_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("kpis/", kpi_views.kpi_dashboard, name="kpi_dashboard"),
    path("kpis/<slug:key>/", kpi_views.kpi_detail, name="kpi_detail"),
    path("forecasts/", kpi_views.forecast_page, name="forecasts"),
    path("inventory/", kpi_inventory_views.inventory_index, name="inventory_index"),
    path("inventory/<int:client_id>/", kpi_inventory_views.inventory_report, name="inventory_report"),
    path("report-subscriptions/", kpi_inventory_views.subscription_list, name="subscription_list"),
    path("report-subscriptions/new/", kpi_inventory_views.subscription_create, name="subscription_create"),
    path("report-subscriptions/<int:subscription_id>/", kpi_inventory_views.subscription_edit,
         name="subscription_edit"),
    path("report-subscriptions/<int:subscription_id>/delete/", kpi_inventory_views.subscription_delete,
         name="subscription_delete"),
]
