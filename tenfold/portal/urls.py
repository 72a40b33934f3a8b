from django.urls import path

from tenfold.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
]
