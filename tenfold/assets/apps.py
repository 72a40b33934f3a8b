from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    name = "tenfold.assets"
    label = "assets"
    verbose_name = _("Devices")

    def ready(self) -> None:
        from tenfold.core import navigation

        navigation.register(navigation.NavItem("devices", _("Devices"), "assets:device_list", "devices", order=20))
