"""Accounts pages, mounted at /accounts/ before allauth's own paths (which they do not clash with)."""

from django.urls import path

from tenfold.accounts import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/password/", views.user_password, name="user_password"),
    path("users/<int:pk>/tokens/<int:token_pk>/revoke/", views.user_token_revoke, name="user_token_revoke"),
]
