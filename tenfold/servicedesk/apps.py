from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicedeskConfig(AppConfig):
    name = "tenfold.servicedesk"
    label = "servicedesk"
    verbose_name = _("Service desk")

    def ready(self) -> None:
        from tenfold.core import navigation, scheduler
        from tenfold.knowledge.search import register_search_provider
        from tenfold.servicedesk.selectors import search_tickets

        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "servicedesk.sla_tick", "tenfold.servicedesk.tasks.sla_tick", "* * * * *"))
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "servicedesk.recurring", "tenfold.servicedesk.tasks.open_recurring_tickets", "* * * * *"))
        register_search_provider("tickets", search_tickets)
        navigation.register(navigation.NavItem("tickets", _("Tickets"), "servicedesk:ticket_list", "tickets", order=30,
                                               visible=lambda user: not getattr(user, "is_portal", False)))
        navigation.register(navigation.NavItem("time-approval", _("Time approval"), "servicedesk:approval_queue",
                                               "time_approval", order=31,
                                               visible=lambda user: not getattr(user, "is_portal", False)))
        import tenfold.servicedesk.email_setup  # noqa: F401  (email channel and surveys: handlers, schedule)
