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
    path("runs/new/", views.action_run, name="action_run"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<int:run_id>/retry/", views.run_retry, name="run_retry"),
    path("run-devices/<int:item_id>/", views.run_item_detail, name="run_item_detail"),
    path("run-devices/<int:item_id>/cancel/", views.run_item_cancel, name="run_item_cancel"),
    path("groups/", views.group_list, name="group_list"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<int:group_id>/", views.group_detail, name="group_detail"),
    path("groups/<int:group_id>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:group_id>/delete/", views.group_delete, name="group_delete"),
    path("scheduled/", views.scheduled_list, name="scheduled_list"),
    path("scheduled/<int:scheduled_id>/", views.scheduled_detail, name="scheduled_detail"),
    path("scheduled/<int:scheduled_id>/edit/", views.scheduled_edit, name="scheduled_edit"),
    path("scheduled/<int:scheduled_id>/enabled/", views.scheduled_toggle, name="scheduled_toggle"),
    path("scheduled/<int:scheduled_id>/delete/", views.scheduled_delete, name="scheduled_delete"),
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

from tenfold.automation import release_views  # noqa: E402

urlpatterns += [
    path("agent-releases/", release_views.release_list, name="release_list"),
    path("agent-releases/new/", release_views.release_upload, name="release_upload"),
    path("agent-releases/<int:release_id>/", release_views.release_detail, name="release_detail"),
    path("agent-releases/<int:release_id>/publish/", release_views.release_publish, name="release_publish"),
    path("agent-releases/<int:release_id>/withdraw/", release_views.release_withdraw, name="release_withdraw"),
    path("agent-releases/<int:release_id>/rollout/", release_views.release_rollout, name="release_rollout"),
]

from tenfold.automation import patch_script_views  # noqa: E402

urlpatterns += [path("patch-policies/<int:policy_id>/scripts/", patch_script_views.policy_scripts,
                     name="patch_policy_scripts")]
