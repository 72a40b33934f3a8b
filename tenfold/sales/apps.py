from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "tenfold.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from tenfold.core import events, navigation, scheduler
        from tenfold.core.roles import has_privilege
        from tenfold.sales import services

        navigation.register(navigation.NavItem("sales", _("Sales"), "sales:deal_list", "deals", order=40))
        navigation.register(navigation.NavItem("leads", _("Leads"), "sales:lead_list", "deals", order=41))
        navigation.register(navigation.NavItem("quotes", _("Quotes"), "sales:quote_list", "deals", order=42))

        def portal_admin(user: Any) -> bool:
            return has_privilege(user, "quotes.accept")

        # The portal entry rests on the `quotes.accept` privilege (portal administrators), not on a capability.
        navigation.register(navigation.NavItem("portal-quotes", _("Quotes"), "portal:quote_list", "clients",
                                               order=25, portal=True, visible=portal_admin))
        events.register("ticket.opportunity_flagged", "sales.lead_from_ticket", services.lead_from_ticket)
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "sales.expire_quotes", "tenfold.sales.tasks.expire_quotes", "10 0 * * *"))
