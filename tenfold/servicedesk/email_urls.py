from django.urls import path

from tenfold.servicedesk import email_views

app_name = "servicedesk_email"
urlpatterns = [
    path("triage/", email_views.triage, name="triage"),
    path("triage/<int:inbound_id>/assign/", email_views.triage_assign, name="triage_assign"),
    path("triage/<int:inbound_id>/dismiss/", email_views.triage_dismiss, name="triage_dismiss"),
    path("domains/", email_views.domain_list, name="domain_list"),
    path("domains/<int:domain_id>/delete/", email_views.domain_delete, name="domain_delete"),
    path("attachments/<int:attachment_id>/", email_views.attachment_download, name="attachment_download"),
    path("surveys/", email_views.survey_results, name="survey_results"),
]
