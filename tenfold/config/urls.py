"""URL map: the UI, the API, health, accounts."""

from django.urls import include, path

from tenfold.config.api import api
from tenfold.core import views as core_views
from tenfold.knowledge import views as knowledge_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("accounts/", include("tenfold.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("clients/", include("tenfold.clients.urls")),
    path("devices/", include("tenfold.assets.urls")),
    path("agents/", include("tenfold.agents.urls")),
    # Agent release downloads are automation's (above agents): their own include, same /agent/v1/ prefix.
    path("agent/v1/releases/", include("tenfold.automation.release_agent_urls")),
    path("agent/v1/", include("tenfold.agents.agent_urls")),
    path("monitoring/", include("tenfold.monitoring.urls")),
    path("patching/", include("tenfold.patching.urls")),
    path("catalog/", include("tenfold.catalog.urls")),
    path("contracts/", include("tenfold.contracts.urls")),
    path("billing/", include("tenfold.billing.urls")),
    path("sales/", include("tenfold.sales.urls")),
    path("knowledge/", include("tenfold.knowledge.urls")),
    path("automation/", include("tenfold.automation.urls")),
    path("tickets/", include("tenfold.servicedesk.urls")),
    path("search/", knowledge_views.search, name="search"),
    path("settings/", include("tenfold.core.urls")),
    path("reporting/", include("tenfold.reporting.urls")),
    path("people/", include("tenfold.people.urls")),
    path("portal/", include("tenfold.portal.urls")),
    path("service-desk/email/", include("tenfold.servicedesk.email_urls")),
    path("survey/", include("tenfold.servicedesk.survey_urls")),
]

handler400 = "tenfold.core.views.error_400"
handler403 = "tenfold.core.views.error_403"
handler404 = "tenfold.core.views.error_404"
handler500 = "tenfold.core.views.error_500"
