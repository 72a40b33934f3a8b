from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "tenfold.portal"
    label = "portal"
    verbose_name = _("Client portal")

    def ready(self) -> None:
        from tenfold.core import navigation

        navigation.register(navigation.NavItem("portal-home", _("Our company"), "portal:home", "clients",
                                               order=10, portal=True))
        navigation.register(navigation.NavItem("portal-tickets", _("Tickets"), "portal:ticket_list", "tickets",
                                               order=20, portal=True))
        navigation.register(navigation.NavItem("portal-documentation", _("Documentation"), "portal:documentation",
                                               "runbooks", order=30, portal=True))
