"""The bench server's urlconf: two baseline views, then every route of the product."""

from __future__ import annotations

from django.urls import include, path

from bench import naive

urlpatterns = [
    path("__bench/trivial-django", naive.trivial_view),
    path("__bench/naive-checkin", naive.naive_checkin),
    path("", include("tenfold.config.urls")),
]
