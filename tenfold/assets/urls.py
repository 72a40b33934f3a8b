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
    path("<int:device_id>/tags/", views.device_tags, name="device_tags"),
    path("tags/", views.tag_list, name="tag_list"),
    path("tags/new/", views.tag_create, name="tag_create"),
    path("tags/<int:tag_id>/edit/", views.tag_edit, name="tag_edit"),
    path("tags/<int:tag_id>/delete/", views.tag_delete, name="tag_delete"),
    path("clients/<int:client_id>/panel/", views.client_devices_panel, name="client_devices_panel"),
    path("clients/<int:client_id>/import/", views.device_import, name="device_import"),
    path("clients/<int:client_id>/licences/", views.licence_list, name="licence_list"),
    path("clients/<int:client_id>/licences/new/", views.licence_create, name="licence_create"),
    path("licences/<int:licence_id>/edit/", views.licence_edit, name="licence_edit"),
    path("licences/<int:licence_id>/delete/", views.licence_delete, name="licence_delete"),
    path("discovered/", views.discovered_list, name="discovered_list"),
    path("discovered/<int:discovered_id>/", views.discovered_detail, name="discovered_detail"),
    path("discovered/<int:discovered_id>/ignore/", views.discovered_ignore, name="discovered_ignore"),
    path("discovered/<int:discovered_id>/create-device/", views.discovered_create_device,
         name="discovered_create_device"),
]
