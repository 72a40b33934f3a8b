from django.urls import path

from tenfold.servicedesk import email_views

app_name = "survey"
urlpatterns = [
    path("<str:token>/", email_views.survey_answer, name="answer"),
]
