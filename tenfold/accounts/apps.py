"""The accounts app: staff and portal users, MFA enforcement, API tokens."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Registers the Users navigation entry and the MFA audit hooks."""

    name = "tenfold.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenfold.accounts import signals
        from tenfold.core.navigation import NavItem, register

        register(NavItem(key="users", label=_("Users"), url_name="accounts:user_list", capability="users",
                         order=90))
        signals.connect()
