from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatchingConfig(AppConfig):
    name = "tenfold.patching"
    label = "patching"
    verbose_name = _("Patching")

    def ready(self) -> None:
        from tenfold.agents.services import UPDATES_REPORTED
        from tenfold.core import events, navigation, scheduler
        from tenfold.patching import services

        navigation.register(navigation.NavItem("patching", _("Patching"), "patching:update_list", "policies",
                                               order=33))
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "patching.install", "tenfold.patching.tasks.install_due_updates", "*/5 * * * *"))
        # The agents' check-in hands each device's updates snapshot over through the outbox.
        events.register(UPDATES_REPORTED, "patching.apply_snapshot", services.on_updates_reported)
