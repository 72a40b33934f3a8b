from django.urls import path

from tenfold.people import views

app_name = "people"
urlpatterns = [
    path("", views.employee_list, name="employee_list"),
    path("employees/new/", views.employee_create, name="employee_create"),
    path("employees/<int:employee_id>/", views.employee_detail, name="employee_detail"),
    path("employees/<int:employee_id>/edit/", views.employee_edit, name="employee_edit"),
    path("employees/<int:employee_id>/scorecard/", views.employee_scorecard, name="employee_scorecard"),
    path("employees/<int:employee_id>/trainings/new/", views.training_create, name="training_create"),
    path("trainings/<int:training_id>/delete/", views.training_delete, name="training_delete"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:plan_id>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:plan_id>/preview/", views.plan_preview, name="plan_preview"),
    path("plans/<int:plan_id>/rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:rule_id>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("reviews/", views.cycle_list, name="cycle_list"),
    path("reviews/<int:cycle_id>/", views.cycle_detail, name="cycle_detail"),
    path("reviews/<int:cycle_id>/close/", views.cycle_close, name="cycle_close"),
    path("statements/", views.statement_list, name="statement_list"),
    path("statements/<int:statement_id>/", views.statement_detail, name="statement_detail"),
    path("statements/<int:statement_id>/recompute/", views.statement_recompute, name="statement_recompute"),
    path("statements/<int:statement_id>/review/", views.statement_review, name="statement_review"),
    path("statements/<int:statement_id>/lock/", views.statement_lock, name="statement_lock"),
    path("satisfied-clients/", views.satisfied_clients, name="satisfied_clients"),
    path("deals/<int:deal_id>/splits/", views.deal_splits, name="deal_splits"),
    path("settings/", views.people_settings_view, name="settings"),
]
