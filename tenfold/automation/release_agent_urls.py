"""/agent/v1/releases/: the agents' download of published releases (included by the project's URL map before
the agents' own /agent/v1/, since agents sit below automation and cannot import it)."""

from django.urls import path

from tenfold.automation import release_views

app_name = "agent_release"
urlpatterns = [
    path("<int:release_id>/file", release_views.agent_release_file, name="file"),
]
