"""Automation screens: the script library, runs, signing keys."""

from django.urls import path

from tenfold.automation import views

app_name = "automation"

urlpatterns = [
    path("scripts/", views.script_list, name="script_list"),
    path("scripts/new/", views.script_create, name="script_create"),
    path("scripts/<int:script_id>/", views.script_detail, name="script_detail"),
    path("scripts/<int:script_id>/edit/", views.script_edit, name="script_edit"),
    path("scripts/<int:script_id>/run/", views.script_run, name="script_run"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("signing-keys/", views.key_list, name="key_list"),
    path("signing-keys/new/", views.key_register, name="key_register"),
    path("signing-keys/<int:key_id>/revoke/", views.key_revoke, name="key_revoke"),
]
