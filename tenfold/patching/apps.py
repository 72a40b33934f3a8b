from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatchingConfig(AppConfig):
    name = "tenfold.patching"
    label = "patching"
    verbose_name = _("Patching")
