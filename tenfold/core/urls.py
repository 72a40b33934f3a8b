from django.urls import path

from tenfold.core import settings_views as views

app_name = "core"
urlpatterns = [
    path("", views.organization_settings, name="settings"),
    path("tax-rates/new/", views.tax_rate_edit, name="tax_rate_create"),
    path("tax-rates/<int:tax_rate_id>/", views.tax_rate_edit, name="tax_rate_edit"),
    path("schedules/", views.schedule_list, name="schedule_list"),
    path("schedules/<int:schedule_id>/", views.schedule_edit, name="schedule_edit"),
    path("audit/", views.audit_log, name="audit_log"),
]
