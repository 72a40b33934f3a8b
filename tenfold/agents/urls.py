from django.urls import path

from tenfold.agents import views

app_name = "agents"
urlpatterns = [
    path("enrollment/", views.enrollment_index, name="enrollment_index"),
    path("enrollment/<int:client_id>/", views.enrollment, name="enrollment"),
    path("enrollment/<int:client_id>/tokens/", views.token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("devices/<int:device_id>/", views.device_agent_panel, name="device_agent_panel"),
    path("devices/<int:device_id>/rotate/", views.credential_rotate, name="credential_rotate"),
    path("devices/<int:device_id>/revoke/", views.credential_revoke, name="credential_revoke"),
]
