from django.urls import path

from tenfold.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.offering_list, name="offering_list"),
    path("offerings/new/", views.offering_create, name="offering_create"),
    path("offerings/<int:offering_id>/", views.offering_detail, name="offering_detail"),
    path("offerings/<int:offering_id>/edit/", views.offering_edit, name="offering_edit"),
    path("offerings/<int:offering_id>/delete/", views.offering_delete, name="offering_delete"),
    path("offerings/<int:offering_id>/plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:plan_id>/economics/", views.plan_economics, name="plan_economics"),
    path("plans/<int:plan_id>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:plan_id>/delete/", views.plan_delete, name="plan_delete"),
    path("plans/<int:plan_id>/items/add/", views.plan_item_add, name="plan_item_add"),
    path("items/<int:item_id>/price/", views.plan_item_price, name="plan_item_price"),
    path("items/<int:item_id>/remove/", views.plan_item_remove, name="plan_item_remove"),
    path("services/", views.service_list, name="service_list"),
    path("services/new/", views.service_create, name="service_create"),
    path("services/<int:service_id>/", views.service_detail, name="service_detail"),
    path("services/<int:service_id>/edit/", views.service_edit, name="service_edit"),
    path("services/<int:service_id>/delete/", views.service_delete, name="service_delete"),
]
