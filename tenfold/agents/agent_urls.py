"""/agent/v1/: the endpoints agents call (outside the staff API and its OpenAPI document)."""

from django.urls import path

from tenfold.agents import agent_views

app_name = "agent"
urlpatterns = [
    path("enroll", agent_views.enroll, name="enroll"),
    path("checkin", agent_views.checkin, name="checkin"),
]
