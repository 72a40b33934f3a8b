from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tenfold.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from tenfold.core import navigation, scheduler

        scheduler.register_builtin_schedules()
        navigation.register(navigation.NavItem("home", _("Dashboard"), "home", "clients", order=0))
        navigation.register(navigation.NavItem("settings", _("Settings"), "core:settings", "settings", order=95))
