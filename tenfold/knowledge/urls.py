from django.urls import path

from tenfold.knowledge import views

app_name = "knowledge"
urlpatterns = [
    path("runbooks/", views.runbook_list, name="runbook_list"),
    path("runbooks/new/", views.runbook_create, name="runbook_create"),
    path("runbooks/categories/", views.category_list, name="category_list"),
    path("runbooks/categories/new/", views.category_create, name="category_create"),
    path("runbooks/categories/<int:category_id>/edit/", views.category_edit, name="category_edit"),
    path("runbooks/categories/<int:category_id>/delete/", views.category_delete, name="category_delete"),
    path("runbooks/<int:runbook_id>/", views.runbook_detail, name="runbook_detail"),
    path("runbooks/<int:runbook_id>/edit/", views.runbook_edit, name="runbook_edit"),
    path("runbooks/<int:runbook_id>/archive/", views.runbook_archive, name="runbook_archive"),
    path("runbooks/<int:runbook_id>/diff/", views.runbook_diff, name="runbook_diff"),
    path("runbooks/<int:runbook_id>/checks/", views.runbook_link_check, name="runbook_link_check"),
    path("check-links/<int:link_id>/delete/", views.check_link_delete, name="check_link_delete"),
    path("alerts/<int:alert_id>/runbook/", views.alert_runbook_panel, name="alert_runbook_panel"),
    path("clients/<int:client_id>/", views.client_doc, name="client_doc"),
    path("clients/<int:client_id>/panel/", views.client_docs_panel, name="client_docs_panel"),
    path("clients/<int:client_id>/overview/", views.client_doc_edit, name="client_doc_edit"),
    path("clients/<int:client_id>/review/", views.client_doc_review, name="client_doc_review"),
    path("clients/<int:client_id>/network/new/", views.network_item_create, name="network_item_create"),
    path("network/<int:item_id>/edit/", views.network_item_edit, name="network_item_edit"),
    path("network/<int:item_id>/delete/", views.network_item_delete, name="network_item_delete"),
    path("clients/<int:client_id>/applications/new/", views.key_application_create, name="key_application_create"),
    path("applications/<int:application_id>/edit/", views.key_application_edit, name="key_application_edit"),
    path("applications/<int:application_id>/delete/", views.key_application_delete, name="key_application_delete"),
    path("vault/", views.credential_list, name="credential_list"),
    path("vault/new/", views.credential_create, name="credential_create"),
    path("vault/<int:credential_id>/", views.credential_detail, name="credential_detail"),
    path("vault/<int:credential_id>/edit/", views.credential_edit, name="credential_edit"),
    path("vault/<int:credential_id>/delete/", views.credential_delete, name="credential_delete"),
    path("vault/<int:credential_id>/reveal/", views.credential_reveal, name="credential_reveal"),
]
