from django.urls import path

from tenfold.patching import views

app_name = "patching"
urlpatterns = [
    path("", views.update_list, name="update_list"),
    path("updates/<int:update_id>/", views.update_detail, name="update_detail"),
    path("updates/<int:update_id>/decide/", views.update_decide, name="update_decide"),
    path("decisions/<int:decision_id>/delete/", views.decision_delete, name="decision_delete"),
    path("bulk/", views.bulk_decide, name="bulk_decide"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:policy_id>/", views.policy_edit, name="policy_edit"),
    path("policies/<int:policy_id>/delete/", views.policy_delete, name="policy_delete"),
    path("devices/<int:device_id>/panel/", views.device_panel, name="device_panel"),
    path("report/", views.report, name="report"),
    path("report/csv/", views.report_csv_view, name="report_csv"),
    path("report/pdf/", views.report_pdf_view, name="report_pdf"),
]
