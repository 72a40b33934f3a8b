from django.urls import path

from tenfold.monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/acknowledge/", views.alert_bulk_acknowledge, name="alert_bulk_acknowledge"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:alert_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:policy_id>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:policy_id>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:policy_id>/delete/", views.policy_delete, name="policy_delete"),
    path("policies/<int:policy_id>/checks/new/", views.check_create, name="check_create"),
    path("checks/<int:check_id>/edit/", views.check_edit, name="check_edit"),
    path("checks/<int:check_id>/delete/", views.check_delete, name="check_delete"),
    path("maintenance/", views.window_list, name="window_list"),
    path("maintenance/new/", views.window_create, name="window_create"),
    path("maintenance/<int:window_id>/delete/", views.window_delete, name="window_delete"),
    path("devices/<int:device_id>/policy/", views.device_policy, name="device_policy"),
    path("devices/<int:device_id>/metrics.json", views.device_metrics, name="device_metrics"),
    path("clients/<int:client_id>/baseline/", views.client_baseline, name="client_baseline"),
    path("clients/<int:client_id>/baseline/apply/", views.baseline_apply, name="baseline_apply"),
]
