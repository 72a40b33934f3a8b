from django.urls import path

from tenfold.clients import views

app_name = "clients"
urlpatterns = [
    path("", views.client_list, name="client_list"),
    path("new/", views.client_create, name="client_create"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("<int:client_id>/", views.client_detail, name="client_detail"),
    path("<int:client_id>/edit/", views.client_edit, name="client_edit"),
    path("<int:client_id>/delete/", views.client_delete, name="client_delete"),
    path("<int:client_id>/sites/new/", views.site_create, name="site_create"),
    path("<int:client_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("sites/<int:site_id>/edit/", views.site_edit, name="site_edit"),
    path("sites/<int:site_id>/delete/", views.site_delete, name="site_delete"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"),
]
