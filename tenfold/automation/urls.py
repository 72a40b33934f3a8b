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

from tenfold.automation import workflow_views  # noqa: E402

urlpatterns += [
    path("workflows/", workflow_views.workflow_list, name="workflow_list"),
    path("workflows/new/", workflow_views.workflow_create, name="workflow_create"),
    path("workflows/<int:workflow_id>/", workflow_views.workflow_detail, name="workflow_detail"),
    path("workflows/<int:workflow_id>/edit/", workflow_views.workflow_edit, name="workflow_edit"),
    path("workflows/<int:workflow_id>/enabled/", workflow_views.workflow_toggle, name="workflow_toggle"),
    path("workflow-runs/", workflow_views.workflow_run_list, name="workflow_run_list"),
    path("workflow-runs/<int:run_id>/", workflow_views.workflow_run_detail, name="workflow_run_detail"),
    path("webhooks/", workflow_views.webhook_list, name="webhook_list"),
    path("webhooks/new/", workflow_views.webhook_create, name="webhook_create"),
    path("webhooks/<int:webhook_id>/", workflow_views.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:webhook_id>/ping/", workflow_views.webhook_ping, name="webhook_ping"),
]
