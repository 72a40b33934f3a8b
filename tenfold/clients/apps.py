from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "tenfold.clients"
    label = "clients"
    verbose_name = _("Clients")

    def ready(self) -> None:
        from django.urls import reverse

        from tenfold.core import navigation
        from tenfold.core.roles import has_capability

        navigation.register(navigation.NavItem("clients", _("Clients"), "clients:client_list", "clients", order=10))

        def active_clients(user: Any) -> dict[str, Any] | None:
            if not has_capability(user, "clients", "view") or user.is_portal:
                return None
            from tenfold.clients.selectors import client_counts

            counts = client_counts(user)
            return {"label": _("Active clients"), "value": counts["active"], "url": reverse("clients:client_list")
                    + "?status=active"}

        navigation.register_home_card(active_clients)
