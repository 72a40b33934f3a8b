from django.urls import path

from tenfold.assets import views

app_name = "assets"
urlpatterns = [
    path("", views.device_list, name="device_list"),
    path("new/<int:client_id>/", views.device_create, name="device_create"),
    path("<int:device_id>/", views.device_detail, name="device_detail"),
    path("<int:device_id>/edit/", views.device_edit, name="device_edit"),
    path("<int:device_id>/state/", views.device_state, name="device_state"),
    path("<int:device_id>/software/", views.device_software, name="device_software"),
    path("clients/<int:client_id>/panel/", views.client_devices_panel, name="client_devices_panel"),
]
