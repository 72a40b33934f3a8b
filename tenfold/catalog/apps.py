from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "tenfold.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self) -> None:
        from tenfold.core import navigation

        navigation.register(navigation.NavItem("catalog", _("Catalog"), "catalog:offering_list", "catalog",
                                               order=40))
