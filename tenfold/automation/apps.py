from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "tenfold.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from tenfold.agents import hooks
        from tenfold.automation import trust
        from tenfold.core import navigation

        # Agents receive the MSP's signing keys at enrollment and their changes in check-in answers.
        hooks.register_signing_keys_provider(trust.signing_keys)
        navigation.register(navigation.NavItem("automation", _("Automation"), "automation:script_list", "scripts",
                                               order=32))
