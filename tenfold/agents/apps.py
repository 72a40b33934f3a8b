from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgentsConfig(AppConfig):
    name = "tenfold.agents"
    label = "agents"
    verbose_name = _("Agents")

    def ready(self) -> None:
        from tenfold.agents import overload, services
        from tenfold.core import events, selectors

        # Assets cannot import agents: a retired device's credentials are revoked through its event.
        events.register("device.state_changed", "agents.revoke_retired", services.on_device_retired)
        # /healthz (core) shows this process's check-in shedding counters.
        selectors.register_health_section("checkin", overload.health_figures)
